"""Chart reads from InfluxDB 2.x (or 1.8+ with Flux on): Flux through influxdb-client."""

from __future__ import annotations

from datetime import UTC, datetime

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

from shopfloor.telemetry_store import MACHINE_TAG, TELEMETRY_MEASUREMENT
from tracker.domain.telemetry import Sample, TelemetryQuery, TelemetrySeries
from tracker.service_layer.telemetry import TelemetryUnavailable


def _string(text: str) -> str:
    # `${` would start an interpolation inside a Flux string
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return '"' + escaped + '"'


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def flux(bucket: str, query: TelemetryQuery) -> str:
    """The Flux of a chart read: series of the machine merged per field, mean per window, the
    window's start as its time (as InfluxQL's GROUP BY time gives it)."""
    lines = [
        f"from(bucket: {_string(bucket)})",
        f"  |> range(start: {_time(query.start)}, stop: {_time(query.end)})",
        f"  |> filter(fn: (r) => r._measurement == {_string(TELEMETRY_MEASUREMENT)}"
        f" and r[{_string(MACHINE_TAG)}] == {_string(query.machine)})",
    ]
    if query.channels is not None:
        wanted = " or ".join(f"r._field == {_string(c)}" for c in query.channels) or "false"
        lines.append(f"  |> filter(fn: (r) => {wanted})")
    lines += [
        '  |> group(columns: ["_field"])',
        f"  |> aggregateWindow(every: {query.bucket_s}s, fn: mean, createEmpty: false,"
        ' timeSrc: "_start")',
        '  |> keep(columns: ["_time", "_field", "_value"])',
    ]
    return "\n".join(lines)


class Influx2Telemetry:
    """Reads from an InfluxDB 2.x bucket through the v2 query API."""

    def __init__(self, url: str, token: str, org: str, bucket: str, timeout_s: float) -> None:
        self._bucket, self._org = bucket, org
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=int(timeout_s * 1000))

    def read(self, query: TelemetryQuery) -> TelemetrySeries:
        """Mean per bucket of each channel of the machine."""
        channels: dict[str, list[Sample]] = {name: [] for name in query.channels or ()}
        try:
            tables = self._client.query_api().query(flux(self._bucket, query), org=self._org)
        except ApiException as exc:
            raise TelemetryUnavailable(f"InfluxDB: HTTP {exc.status}: {exc.body}") from None
        except (Urllib3Error, OSError) as exc:
            raise TelemetryUnavailable(f"InfluxDB: {type(exc).__name__}: {exc}") from None
        for table in tables:
            for record in table.records:
                value, moment = record.values.get("_value"), record.values.get("_time")
                if value is not None and isinstance(moment, datetime):
                    sample = (moment.timestamp(), float(value))
                    channels.setdefault(str(record.values["_field"]), []).append(sample)
        for samples in channels.values():
            samples.sort()
        return TelemetrySeries(query.bucket_s, channels)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()  # type: ignore[no-untyped-call]
