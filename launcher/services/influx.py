"""InfluxDB 1.x (`influxd`, also restartable) and VictoriaMetrics, for telemetry writes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .processes import HOST, executable, free_port, retrying, server
from .restartable import Restartable, first_start


@dataclass(frozen=True)
class HttpServer:
    """A running server with an HTTP API on `host:port`, logging to `log_path`."""

    host: str
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """The HTTP API base URL (also the `url` for `influxdb_client.InfluxDBClient`)."""
        return f"http://{self.host}:{self.port}"


class InfluxDB1(HttpServer):
    """A running InfluxDB 1.x (`influxd`) with auth disabled; v1 HTTP API only before 1.8."""

    def query(self, db: str, q: str) -> dict[str, Any]:
        """Run InfluxQL `q` against database `db` (POST /query) and return the parsed JSON."""
        response = httpx.post(f"{self.url}/query", params={"db": db, "q": q}, timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def create_database(self, name: str) -> None:
        """Create database `name` (a no-op if it exists)."""
        response = httpx.post(f"{self.url}/query", params={"q": f'CREATE DATABASE "{name}"'})
        response.raise_for_status()


def _influxd_config(workdir: Path, http_port: int, rpc_port: int) -> str:
    """Render an influxd 1.6 TOML config that keeps everything inside `workdir`."""
    meta, data, wal = (workdir / name for name in ("meta", "data", "wal"))
    # Debian's build spells it `reporting-enabled` (upstream: `reporting-disabled`) and
    # ignores unknown keys silently, so check `influxd config -config <file>` after edits.
    return f"""\
reporting-enabled = false
bind-address = "{HOST}:{rpc_port}"

[meta]
  dir = "{meta}"
  logging-enabled = false

[data]
  dir = "{data}"
  wal-dir = "{wal}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "{HOST}:{http_port}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "info"
  suppress-logo = true
"""


def _influxd(workdir: Path) -> tuple[InfluxDB1, list[str]]:
    """An influxd on free ports with its config written to `workdir`, and its command line."""
    http_port, rpc_port = free_port(), free_port()
    conf = workdir / "influxdb.conf"
    conf.write_text(_influxd_config(workdir, http_port, rpc_port))
    influx = InfluxDB1(HOST, http_port, workdir / "influxd.log")
    return influx, [executable("influxd"), "run", "-config", str(conf)]


def run_influxdb1(workdir: Path) -> contextlib.AbstractContextManager[InfluxDB1]:
    """Start `influxd` on free HTTP and RPC ports with its data in `workdir`; stop it on exit."""
    return retrying(lambda: _influxdb1(workdir))


@contextlib.contextmanager
def _influxdb1(workdir: Path) -> Iterator[InfluxDB1]:
    influx, argv = _influxd(workdir)
    with server("influxd", argv, influx.log_path, influx.port, lambda: _influx_ping(influx)):
        yield influx


def _influx_ping(influx: InfluxDB1) -> bool:
    return httpx.get(f"{influx.url}/ping", timeout=1).status_code == 204


@contextlib.contextmanager
def run_restartable_influxdb1(workdir: Path) -> Iterator[Restartable[InfluxDB1]]:
    """Start `influxd` that can be killed and restarted on the same ports and data directory."""

    def make() -> Restartable[InfluxDB1]:
        influx, argv = _influxd(workdir)
        return Restartable(
            "influxd", influx, argv, influx.log_path, influx.port, lambda: _influx_ping(influx)
        )

    handle = first_start(make)
    try:
        yield handle
    finally:
        handle.stop()


class Victoria(HttpServer):
    """A running single-node VictoriaMetrics; accepts InfluxDB v1 and v2 line-protocol writes."""

    def flush(self) -> None:
        """Make recent writes searchable now instead of within ~10 s."""
        httpx.get(f"{self.url}/internal/force_flush", timeout=10).raise_for_status()

    def export(self, match: str) -> list[dict[str, Any]]:
        """Flush, then return the series matching selector `match` from /api/v1/export.

        An Influx write of measurement `m` with field `f` becomes series `m_f`; each item is
        `{"metric": {"__name__": ..., <tags>}, "values": [...], "timestamps": [<ms>...]}`.
        """
        self.flush()
        response = httpx.get(f"{self.url}/api/v1/export", params={"match[]": match}, timeout=10)
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line]


def run_victoria(workdir: Path) -> contextlib.AbstractContextManager[Victoria]:
    """Start VictoriaMetrics on a free port with its storage in `workdir`; stop it on exit."""
    return retrying(lambda: _victoria(workdir))


@contextlib.contextmanager
def _victoria(workdir: Path) -> Iterator[Victoria]:
    port = free_port()
    victoria = Victoria(HOST, port, workdir / "victoria-metrics.log")

    def healthy() -> bool:
        return httpx.get(f"{victoria.url}/health", timeout=1).status_code == 200

    argv = [
        executable("victoria-metrics"),
        f"-httpListenAddr={HOST}:{port}",
        f"-storageDataPath={workdir / 'data'}",
        "-search.latencyOffset=0s",  # default 30s hides fresh points from queries
        "-retentionPeriod=100y",
        "-search.disableCache",
    ]
    with server("victoria-metrics", argv, victoria.log_path, port, healthy):
        yield victoria
