"""The benchmarks' servers: the shared harness (launcher/services/), yielding URLs.

Mosquitto queues without limit for offline sessions here, so a 1,000,000-message backlog fits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ..services.influx import run_influxdb1, run_victoria
from ..services.mosquitto import run_mosquitto
from ..services.processes import HOST, ServiceError, executable, free_port

__all__ = ["HOST", "ServiceError", "executable", "free_port", "influxdb1", "mosquitto", "victoria"]


@contextlib.contextmanager
def mosquitto(workdir: Path) -> Iterator[str]:
    """A Mosquitto broker that queues without limit for offline sessions; yields its URL."""
    with run_mosquitto(workdir, max_queued=0) as broker:
        yield broker.url


@contextlib.contextmanager
def influxdb1(workdir: Path) -> Iterator[str]:
    """InfluxDB 1.x (`influxd`) with its data in `workdir`; yields its HTTP URL."""
    with run_influxdb1(workdir) as server:
        yield server.url


@contextlib.contextmanager
def victoria(workdir: Path) -> Iterator[str]:
    """VictoriaMetrics (accepts the InfluxDB v2 write API) in `workdir`; yields its HTTP URL."""
    with run_victoria(workdir) as server:
        yield server.url
