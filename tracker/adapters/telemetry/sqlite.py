"""Chart reads from the embedded SQLite telemetry store, through its rollup table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from shopfloor.telemetry_store import rollup_width
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
        sql = (
            "SELECT field, bucket_ns / :b * :b AS t, sum(total) / sum(n) FROM telemetry_rollup"
            " WHERE machine = :m AND width_s = :w AND bucket_ns >= :start AND bucket_ns < :end"
        )
        params: dict[str, object] = {
            "b": bucket * _NS,
            "m": query.machine,
            "w": rollup_width(bucket),
            "start": int(query.start.timestamp() * _NS),
            "end": int(query.end.timestamp() * _NS),
        }
        if query.channels is not None:
            names = [f":c{i}" for i in range(len(query.channels))]
            sql += f" AND field IN ({', '.join(names)})"
            params.update({f"c{i}": name for i, name in enumerate(query.channels)})
        sql += " GROUP BY field, t ORDER BY field, t"
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
