"""Chart reads from InfluxDB 1.x: InfluxQL over the v1 HTTP `/query` endpoint."""

from __future__ import annotations

from typing import Any

import httpx

from shopfloor.telemetry_store import MACHINE_TAG, TELEMETRY_MEASUREMENT
from tracker.domain.telemetry import Sample, TelemetryQuery, TelemetrySeries
from tracker.service_layer.telemetry import TelemetryUnavailable


def _identifier(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def influxql(query: TelemetryQuery) -> str:
    """The InfluxQL of a chart read: mean per bucket of each channel (`mean(*)` for all)."""
    if query.channels is None:
        selected = "mean(*)"
    else:
        selected = ", ".join(
            f"mean({_identifier(c)}) AS {_identifier('mean_' + c)}" for c in query.channels
        )
    start, end = (int(t.timestamp() * 1_000_000_000) for t in (query.start, query.end))
    return (
        f"SELECT {selected} FROM {_identifier(TELEMETRY_MEASUREMENT)}"
        f" WHERE {_identifier(MACHINE_TAG)} = {_string(query.machine)}"
        f" AND time >= {start} AND time < {end}"
        f" GROUP BY time({query.bucket_s}s) fill(none)"
    )


def series_of(body: dict[str, Any], query: TelemetryQuery) -> TelemetrySeries:
    """The answer in a `/query` response (epoch=s): columns `time`, `mean_<channel>`..."""
    channels: dict[str, list[Sample]] = {name: [] for name in query.channels or ()}
    for result in body.get("results", []):
        if "error" in result:
            raise TelemetryUnavailable(f"InfluxDB: {result['error']}")
        for series in result.get("series", []):
            names = [c.removeprefix("mean_") for c in series["columns"][1:]]
            for row in series["values"]:
                for name, value in zip(names, row[1:], strict=True):
                    if value is not None:
                        channels.setdefault(name, []).append((float(row[0]), float(value)))
    return TelemetrySeries(query.bucket_s, channels)


class Influx1Telemetry:
    """Reads from an InfluxDB 1.x database (also 1.8+, whose v1 API is kept)."""

    def __init__(
        self, url: str, database: str, auth: tuple[str, str] | None, timeout_s: float
    ) -> None:
        self._database = database
        self._http = httpx.Client(base_url=url, auth=auth, timeout=timeout_s)

    def read(self, query: TelemetryQuery) -> TelemetrySeries:
        """Mean per bucket of each channel of the machine."""
        params = {"db": self._database, "q": influxql(query), "epoch": "s"}
        try:
            response = self._http.post("/query", params=params)
        except httpx.HTTPError as exc:
            raise TelemetryUnavailable(f"InfluxDB: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise TelemetryUnavailable(
                f"InfluxDB: HTTP {response.status_code}: {response.text[:300]}"
            )
        return series_of(response.json(), query)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()
