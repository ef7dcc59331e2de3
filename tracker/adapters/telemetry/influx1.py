"""Chart reads from InfluxDB 1.x: InfluxQL over the v1 HTTP `/query` endpoint.

Each bucket's mean is its sum over its count, so that the part of a range read from the
rollup (`telemetry_1m`, when it is on and the bucket is whole minutes) and the recent part
read from the points add up within a bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shopfloor.telemetry_store import (
    INFLUX_ROLLUP_LAG_S,
    INFLUX_ROLLUP_MEASUREMENT,
    INFLUX_ROLLUP_S,
    MACHINE_TAG,
    TELEMETRY_MEASUREMENT,
)
from tracker.domain.telemetry import Sample, TelemetryQuery, TelemetrySeries
from tracker.service_layer.telemetry import TelemetryUnavailable


def _identifier(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sum_and_count(channel: str, rollup: bool) -> str:
    total, count = _identifier(f"sum_{channel}"), _identifier(f"count_{channel}")
    if rollup:
        return f"sum({total}) AS {total}, sum({count}) AS {count}"
    field = _identifier(channel)
    return f"sum({field}) AS {total}, count({field}) AS {count}"


def _select(query: TelemetryQuery, start: datetime, end: datetime, rollup: bool) -> str:
    """Sum and count per bucket of each channel, as columns `sum_<c>` and `count_<c>`."""
    if query.channels is None:
        # from the rollup, `sum(*)` gives sum_sum_<c> and sum_count_<c>: one `sum_` too many
        selected = "sum(*)" if rollup else "sum(*), count(*)"
    else:
        selected = ", ".join(_sum_and_count(c, rollup) for c in query.channels)
    measurement = INFLUX_ROLLUP_MEASUREMENT if rollup else TELEMETRY_MEASUREMENT
    start_ns, end_ns = (int(t.timestamp() * 1_000_000_000) for t in (start, end))
    return (
        f"SELECT {selected} FROM {_identifier(measurement)}"
        f" WHERE {_identifier(MACHINE_TAG)} = {_string(query.machine)}"
        f" AND time >= {start_ns} AND time < {end_ns}"
        f" GROUP BY time({query.bucket_s}s) fill(none)"
    )


def statements(query: TelemetryQuery, rollup_until: datetime | None) -> list[tuple[str, bool]]:
    """The InfluxQL of a chart read, each statement with whether it reads the rollup: with
    `rollup_until`, the whole buckets before it (when the bucket is whole minutes), the rest
    from the points."""
    start, found = query.start, []
    bucket = query.bucket_s
    if rollup_until is not None and bucket % INFLUX_ROLLUP_S == 0:
        whole = int(rollup_until.timestamp()) // bucket * bucket
        cut = min(query.end, datetime.fromtimestamp(whole, UTC))
        if cut > start:
            found.append((_select(query, start, cut, rollup=True), True))
            start = cut
    if start < query.end:
        found.append((_select(query, start, query.end, rollup=False), False))
    return found


def series_of(body: dict[str, Any], query: TelemetryQuery, rollups: list[bool]) -> TelemetrySeries:
    """The answer to `statements` (epoch=s): each bucket's sums over its counts, added up."""
    sums: dict[str, dict[float, list[float]]] = {name: {} for name in query.channels or ()}
    for result, from_rollup in zip(body.get("results", []), rollups, strict=False):
        if "error" in result:
            raise TelemetryUnavailable(f"InfluxDB: {result['error']}")
        rollup = from_rollup and query.channels is None
        for series in result.get("series", []):
            columns = [c.removeprefix("sum_") if rollup else c for c in series["columns"][1:]]
            for row in series["values"]:
                for column, value in zip(columns, row[1:], strict=True):
                    if value is None:
                        continue
                    kind, name = column.split("_", 1)
                    acc = sums.setdefault(name, {}).setdefault(float(row[0]), [0.0, 0.0])
                    acc[0 if kind == "sum" else 1] += float(value)
    channels: dict[str, list[Sample]] = {
        name: [(t, s / n) for t, (s, n) in sorted(buckets.items()) if n > 0]
        for name, buckets in sums.items()
    }
    return TelemetrySeries(query.bucket_s, channels)


class Influx1Telemetry:
    """Reads from an InfluxDB 1.x database (also 1.8+, whose v1 API is kept)."""

    def __init__(
        self,
        url: str,
        database: str,
        auth: tuple[str, str] | None,
        timeout_s: float,
        rollup: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._database, self._rollup, self._clock = database, rollup, clock
        self._http = httpx.Client(base_url=url, auth=auth, timeout=timeout_s)

    def read(self, query: TelemetryQuery) -> TelemetrySeries:
        """Mean per bucket of each channel of the machine."""
        # the continuous query has summed every minute up to a few minutes ago
        until = self._clock() - timedelta(seconds=INFLUX_ROLLUP_LAG_S) if self._rollup else None
        found = statements(query, until)
        params = {"db": self._database, "q": "; ".join(q for q, _ in found), "epoch": "s"}
        try:
            response = self._http.post("/query", params=params)
        except httpx.HTTPError as exc:
            raise TelemetryUnavailable(f"InfluxDB: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            status, text = response.status_code, response.text[:300]
            raise TelemetryUnavailable(f"InfluxDB: HTTP {status}: {text}")
        return series_of(response.json(), query, [rollup for _, rollup in found])

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()
