"""Real servers for the test session: Mosquitto, InfluxDB 1.x, VictoriaMetrics, PostgreSQL.

The harness is the launcher's (launcher/services/), shared with the benchmarks; this module
names what the tests use. The `run_restartable_*` variants can be killed and started again on
the same ports and data.
"""

from __future__ import annotations

from launcher.services.influx import (
    InfluxDB1,
    Victoria,
    run_influxdb1,
    run_restartable_influxdb1,
    run_victoria,
)
from launcher.services.mosquitto import (
    Mosquitto,
    run_mosquitto,
    run_mosquitto_tls,
    run_restartable_mosquitto,
)
from launcher.services.postgres import fresh_postgres_database, postgres_server_url
from launcher.services.processes import HOST, ServiceError, free_port
from launcher.services.restartable import Restartable

__all__ = [
    "HOST",
    "InfluxDB1",
    "Mosquitto",
    "Restartable",
    "ServiceError",
    "Victoria",
    "free_port",
    "fresh_postgres_database",
    "postgres_server_url",
    "run_influxdb1",
    "run_mosquitto",
    "run_mosquitto_tls",
    "run_restartable_influxdb1",
    "run_restartable_mosquitto",
    "run_victoria",
]
