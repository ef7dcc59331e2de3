"""Chart reads from the embedded SQLite telemetry store, through its rollup table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from shopfloor.telemetry_store import chart_sql, rollup_width
from tracker.domain.telemetry import Sample, TelemetryQuery, TelemetrySeries
from tracker.service_layer.telemetry import TelemetryUnavailable

_NS = 1_000_000_000


class SqliteTelemetry:
    """Means per bucket from `telemetry_rollup` at the widest width that divides the bucket."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def _connect(self) -> sqlite3.Connection:
        if not self._path.exists():  # connecting would create an empty file the gateway expects
            raise TelemetryUnavailable(f"no telemetry store at {self._path}")
        # read-only, one connection a read: reads come from the API's worker threads
        return sqlite3.connect(f"{self._path.resolve().as_uri()}?mode=ro", uri=True)

    def read(self, query: TelemetryQuery) -> TelemetrySeries:
        """Mean per bucket of each channel of the machine."""
        bucket = query.bucket_s
        params: dict[str, object] = {
            "b": bucket * _NS,
            "m": query.machine,
            "w": rollup_width(bucket),
            "w_ns": rollup_width(bucket) * _NS,
            "start": int(query.start.timestamp() * _NS),
            "end": int(query.end.timestamp() * _NS),
        }
        if query.channels is not None:
            params.update({f"c{i}": name for i, name in enumerate(query.channels)})
        sql = chart_sql(None if query.channels is None else len(query.channels))
        channels: dict[str, list[Sample]] = {name: [] for name in query.channels or ()}
        try:
            with self._connect() as db:
                for field, t, mean in db.execute(sql, params):
                    channels.setdefault(field, []).append((t / _NS, mean))
        except sqlite3.Error as exc:
            raise TelemetryUnavailable(f"telemetry store {self._path}: {exc}") from None
        return TelemetrySeries(bucket, channels)

    def close(self) -> None:
        """Nothing held between reads."""
