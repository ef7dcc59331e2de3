"""Mosquitto, InfluxDB 1.x and VictoriaMetrics started on free ports in temporary directories."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0


class ServerError(RuntimeError):
    """A server did not start."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def executable(name: str) -> str:
    """Find a binary on PATH or in /usr/sbin (where Debian puts mosquitto)."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if found is None:
        raise ServerError(f"{name} not found; install it (apt-get install {name})")
    return found


def _ok(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except (OSError, httpx.HTTPError):
        return False


@contextlib.contextmanager
def _server(name: str, argv: list[str], log_path: Path, ready: Callable[[], bool]) -> Iterator[int]:
    """Run `argv` logging to `log_path` until `ready()`; yield its pid; terminate it on exit."""
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _ok(ready):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise ServerError(f"{name} did not start: {' '.join(argv)}\n{tail}")
            time.sleep(0.05)
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tcp_open(port: int) -> bool:
    with socket.create_connection((HOST, port), timeout=0.5):
        return True


@contextlib.contextmanager
def mosquitto(workdir: Path) -> Iterator[str]:
    """A Mosquitto broker that queues without limit for offline sessions; yields mqtt://host:port."""
    port = free_port()
    conf = workdir / "mosquitto.conf"
    # max_queued_messages 0 = no limit, so a 1,000,000-message backlog fits;
    # `user` keeps a root-started broker from switching to a user who cannot read workdir
    conf.write_text(
        f"listener {port} {HOST}\nallow_anonymous true\npersistence false\n"
        "max_inflight_messages 1000\nmax_queued_messages 0\n"
        f"user {getpass.getuser()}\nlog_dest stderr\nlog_type error\nlog_type warning\n"
    )
    argv = [executable("mosquitto"), "-c", str(conf)]
    with _server("mosquitto", argv, workdir / "mosquitto.log", lambda: _tcp_open(port)):
        yield f"mqtt://{HOST}:{port}"


_INFLUXD_CONF = """\
reporting-enabled = false
bind-address = "{host}:{rpc_port}"
[meta]
  dir = "{dir}/meta"
  logging-enabled = false
[data]
  dir = "{dir}/data"
  wal-dir = "{dir}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[http]
  enabled = true
  bind-address = "{host}:{http_port}"
  auth-enabled = false
  log-enabled = false
[logging]
  level = "warn"
  suppress-logo = true
"""


@contextlib.contextmanager
def influxdb1(workdir: Path) -> Iterator[str]:
    """InfluxDB 1.x (`influxd`) with its data in `workdir`; yields its HTTP URL."""
    http_port, rpc_port = free_port(), free_port()
    conf = workdir / "influxdb.conf"
    conf.write_text(
        _INFLUXD_CONF.format(host=HOST, rpc_port=rpc_port, http_port=http_port, dir=workdir)
    )
    url = f"http://{HOST}:{http_port}"
    argv = [executable("influxd"), "run", "-config", str(conf)]
    with _server("influxd", argv, workdir / "influxd.log", lambda: _status(url + "/ping") == 204):
        yield url


@contextlib.contextmanager
def victoria(workdir: Path) -> Iterator[str]:
    """VictoriaMetrics (accepts the InfluxDB v2 write API) in `workdir`; yields its HTTP URL."""
    port = free_port()
    url = f"http://{HOST}:{port}"
    argv = [
        executable("victoria-metrics"),
        f"-httpListenAddr={HOST}:{port}",
        f"-storageDataPath={workdir / 'data'}",
        "-search.latencyOffset=0s",  # the default 30 s hides fresh points from queries
        "-retentionPeriod=100y",
    ]
    with _server("victoria-metrics", argv, workdir / "victoria.log", lambda: _health(url)):
        yield url


def _status(url: str) -> int:
    return httpx.get(url, timeout=1).status_code


def _health(url: str) -> bool:
    return _status(url + "/health") == 200
