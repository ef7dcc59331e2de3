"""The port the tracker reads machine telemetry through, whichever store the gateway writes."""

from __future__ import annotations

from typing import Protocol

from tracker.domain.telemetry import TelemetryQuery, TelemetrySeries


class TelemetryUnavailable(Exception):
    """The telemetry store did not answer (down, refused, misconfigured): try again later."""


class TelemetryStore(Protocol):
    """Reads one machine's channels downsampled for a chart; the same answer from every store."""

    def read(self, query: TelemetryQuery) -> TelemetrySeries:
        """Mean per bucket of each channel; raises `TelemetryUnavailable` when the store fails."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
