"""Telemetry stores the machine charts read from: embedded SQLite, InfluxDB 1.x and 2.x."""

from __future__ import annotations

from tracker.domain.telemetry import TelemetryQuery, TelemetrySeries
from tracker.service_layer.telemetry import TelemetryStore, TelemetryUnavailable
from tracker.settings import TelemetrySettings

from .influx1 import Influx1Telemetry
from .influx2 import Influx2Telemetry
from .sqlite import SqliteTelemetry


class NoTelemetry:
    """No store configured: every read says so."""

    def read(self, query: TelemetryQuery) -> TelemetrySeries:
        """Refuse: SHOPFLOOR_TELEMETRY__KIND is `none`."""
        raise TelemetryUnavailable("no telemetry store configured (SHOPFLOOR_TELEMETRY__KIND)")

    def close(self) -> None:
        """Nothing to close."""


def make_telemetry_store(settings: TelemetrySettings) -> TelemetryStore:
    """The store the settings name."""
    secret = settings.token.get_secret_value() if settings.token else ""
    if settings.kind == "sqlite":
        return SqliteTelemetry(settings.sqlite_path)
    if settings.kind == "influx1":
        auth = (settings.username, secret) if settings.username else None
        return Influx1Telemetry(
            settings.url, settings.database, auth, settings.timeout_s, settings.influx_rollup
        )
    if settings.kind == "influx2":
        return Influx2Telemetry(
            settings.url, secret, settings.org, settings.bucket, settings.timeout_s
        )
    return NoTelemetry()
