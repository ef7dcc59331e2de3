"""Real servers for the test session: Mosquitto, InfluxDB 1.x, VictoriaMetrics, PostgreSQL.

The `run_restartable_*` variants can be killed and started again on the same ports and data.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
T = TypeVar("T")
S = TypeVar("S")

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
START_ATTEMPTS = 3
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class ServiceError(RuntimeError):
    """A test server did not start, or misbehaved."""

    def __init__(self, message: str, *, exited: bool = False) -> None:
        super().__init__(message)
        self.exited = exited


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bind port 0, then close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    """Call `check` until it returns True; raise ServiceError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not _safe(check):
        if time.monotonic() >= deadline:
            raise ServiceError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _executable(name: str) -> str:
    """Find a server binary on PATH or in the sbin directories Debian uses."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if found is None:
        raise ServiceError(f"{name} not found; install it (scripts/test does) or put it on PATH")
    return found


def _tail(path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file, or a note that it is missing."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"<no log: {exc}>"


@contextlib.contextmanager
def _server(
    name: str, argv: list[str], log_path: Path, port: int, ready: Callable[[], bool]
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server with output to `log_path`; wait until it listens on `port` and `ready`."""
    proc = _launch(name, argv, log_path, port, ready)
    try:
        yield proc
    finally:
        _stop(proc)


def _launch(
    name: str,
    argv: list[str],
    log_path: Path,
    port: int,
    ready: Callable[[], bool],
    *,
    append_log: bool = False,
) -> subprocess.Popen[bytes]:
    """Start a server and wait until it listens on `port` and `ready`; stop it if it does not."""
    started = time.monotonic()
    with log_path.open("ab" if append_log else "wb") as log_file:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        deadline = started + START_TIMEOUT
        # Owning the listening socket proves the answer comes from our process,
        # not from whatever took the port after free_port() released it.
        while not (_safe(lambda: _listens(proc.pid, port)) and _safe(ready)):
            exited = proc.poll() is not None
            if exited or time.monotonic() >= deadline:
                state = f"exited with {proc.returncode}" if exited else "timed out"
                raise ServiceError(
                    f"{name} did not come up ({state}): {' '.join(argv)}\n"
                    f"--- last lines of {log_path} ---\n{_tail(log_path)}",
                    exited=exited,
                )
            time.sleep(0.05)
    except BaseException:
        _stop(proc)
        raise
    log.info("%s ready in %.2f s (pid %d)", name, time.monotonic() - started, proc.pid)
    return proc


def _listens(pid: int, port: int) -> bool:
    """Tell whether process `pid` holds a TCP socket listening on `port` (Linux /proc)."""
    inodes = set()
    for row in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
            inodes.add(f"socket:[{inode}]")
    return any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir())


@contextlib.contextmanager
def _retrying(start: Callable[[], contextlib.AbstractContextManager[T]]) -> Iterator[T]:
    """Enter `start()`, trying again (on new ports) if the server exits while starting."""
    with contextlib.ExitStack() as stack:
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                value = stack.enter_context(start())
                break
            except ServiceError as exc:
                # A free port can be taken between our probe and the server's bind.
                if not exc.exited or attempt == START_ATTEMPTS:
                    raise
                log.warning("attempt %d failed, retrying on new ports: %s", attempt, exc)
        yield value


def _safe(check: Callable[[], bool]) -> bool:
    """Run a readiness check, treating connection errors as not ready."""
    try:
        return check()
    except (OSError, httpx.HTTPError):
        return False


def _stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Terminate a process, and kill it if it has not exited after `grace` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            log.warning("pid %d ignored SIGTERM; killing it", proc.pid)
            proc.kill()
            proc.wait()


def _tcp_open(port: int) -> bool:
    """Tell whether something accepts TCP connections on 127.0.0.1:port."""
    with socket.create_connection((HOST, port), timeout=0.5):
        return True


@dataclass(frozen=True)
class Mosquitto:
    """A running Mosquitto broker (anonymous; no persistence unless a restartable one asks)."""

    host: str
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """The broker as an `mqtt://host:port` URL."""
        return f"mqtt://{self.host}:{self.port}"


def run_mosquitto(
    workdir: Path, security: str = "allow_anonymous true\n"
) -> contextlib.AbstractContextManager[Mosquitto]:
    """Start Mosquitto on a free port with its config and log in `workdir`; stop it on exit.

    `security` is the config's authentication part: anonymous by default, or e.g.
    `allow_anonymous false`, a `password_file` and an `acl_file`.
    """
    return _retrying(lambda: _mosquitto(workdir, security=security))


def run_mosquitto_tls(
    workdir: Path,
    *,
    cafile: Path,
    certfile: Path,
    keyfile: Path,
    require_certificate: bool = False,
) -> contextlib.AbstractContextManager[Mosquitto]:
    """Start Mosquitto with one TLS listener (TLS 1.2+) on a free port; clients are anonymous.

    With `require_certificate` only clients with a certificate signed by `cafile` get in.
    """
    tls = (
        f"cafile {cafile}\ncertfile {certfile}\nkeyfile {keyfile}\n"
        f"tls_version tlsv1.2\nrequire_certificate {str(require_certificate).lower()}\n"
    )
    return _retrying(lambda: _mosquitto(workdir, listener_options=tls))


@contextlib.contextmanager
def _mosquitto(
    workdir: Path, *, listener_options: str = "", security: str = "allow_anonymous true\n"
) -> Iterator[Mosquitto]:
    port = free_port()
    conf = workdir / "mosquitto.conf"
    log_path = workdir / "mosquitto.log"
    conf.write_text(_mosquitto_config(port, listener_options=listener_options, security=security))
    argv = [_executable("mosquitto"), "-c", str(conf)]
    with _server("mosquitto", argv, log_path, port, lambda: _tcp_open(port)):
        yield Mosquitto(HOST, port, log_path)


def _mosquitto_config(
    port: int,
    persistence_dir: Path | None = None,
    *,
    listener_options: str = "",
    security: str = "allow_anonymous true\n",
) -> str:
    """Render a mosquitto.conf; with `persistence_dir`, sessions and queues survive a restart."""
    if persistence_dir is None:
        persistence = "persistence false\n"
    else:
        # a clean stop always saves; autosave bounds what a SIGKILL loses to a second or two
        persistence = (
            f"persistence true\npersistence_location {persistence_dir}/\nautosave_interval 1\n"
        )
    # `user` keeps a root-started broker from dropping to the `mosquitto` user,
    # who could not read our private temporary directory.
    return (
        f"listener {port} {HOST}\n"
        f"{listener_options}"
        f"{security}"
        f"{persistence}"
        "max_inflight_messages 1000\n"
        "max_queued_messages 100000\n"
        f"user {getpass.getuser()}\n"
        "log_dest stderr\n"
        "log_timestamp_format %Y-%m-%dT%H:%M:%S\n"
    )


@dataclass(frozen=True)
class InfluxDB1:
    """A running InfluxDB 1.x (`influxd`) with auth disabled; v1 HTTP API only before 1.8."""

    host: str
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """The HTTP API base URL."""
        return f"http://{self.host}:{self.port}"

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


def run_influxdb1(workdir: Path) -> contextlib.AbstractContextManager[InfluxDB1]:
    """Start `influxd` on free HTTP and RPC ports with its data in `workdir`; stop it on exit."""
    return _retrying(lambda: _influxdb1(workdir))


@contextlib.contextmanager
def _influxdb1(workdir: Path) -> Iterator[InfluxDB1]:
    http_port, rpc_port = free_port(), free_port()
    conf = workdir / "influxdb.conf"
    conf.write_text(_influxd_config(workdir, http_port, rpc_port))
    server = InfluxDB1(HOST, http_port, workdir / "influxd.log")
    argv = [_executable("influxd"), "run", "-config", str(conf)]
    with _server("influxd", argv, server.log_path, http_port, lambda: _influx_ping(server)):
        yield server


def _influx_ping(server: InfluxDB1) -> bool:
    return httpx.get(f"{server.url}/ping", timeout=1).status_code == 204


@dataclass(frozen=True)
class Victoria:
    """A running single-node VictoriaMetrics; accepts InfluxDB v1 and v2 line-protocol writes."""

    host: str
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """The HTTP API base URL (also the `url` for `influxdb_client.InfluxDBClient`)."""
        return f"http://{self.host}:{self.port}"

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
    return _retrying(lambda: _victoria(workdir))


@contextlib.contextmanager
def _victoria(workdir: Path) -> Iterator[Victoria]:
    port = free_port()
    server = Victoria(HOST, port, workdir / "victoria-metrics.log")

    def healthy() -> bool:
        return httpx.get(f"{server.url}/health", timeout=1).status_code == 200

    argv = [
        _executable("victoria-metrics"),
        f"-httpListenAddr={HOST}:{port}",
        f"-storageDataPath={workdir / 'data'}",
        "-search.latencyOffset=0s",  # default 30s hides fresh points from queries
        "-retentionPeriod=100y",
        "-search.disableCache",
    ]
    with _server("victoria-metrics", argv, server.log_path, port, healthy):
        yield server


class Restartable(Generic[S]):
    """A server that can be killed, stopped and started again on the same ports and data.

    `server` describes it (host, port, URL, helpers) and stays valid across restarts; the log
    file accumulates every run.
    """

    def __init__(
        self,
        name: str,
        server: S,
        argv: list[str],
        log_path: Path,
        port: int,
        ready: Callable[[], bool],
    ) -> None:
        self.name = name
        self.server = server
        self.log_path = log_path
        self._argv = argv
        self._port = port
        self._ready = ready
        self._proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the server and wait until it is ready; the first start truncates the log."""
        if self.running:
            raise ServiceError(f"{self.name} is already running")
        self._proc = _launch(
            self.name,
            self._argv,
            self.log_path,
            self._port,
            self._ready,
            append_log=self.starts > 0,
        )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL the server, as a crash or an OOM kill would, and wait for it to be gone."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
            log.info("%s killed (pid %d)", self.name, self._proc.pid)

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM), killing it if it does not exit in time."""
        if self._proc is not None:
            _stop(self._proc)

    def restart(self) -> None:
        """A clean stop, then a start on the same ports and data."""
        self.stop()
        self.start()


def _first_start(make: Callable[[], Restartable[S]]) -> Restartable[S]:
    """Start a new restartable server, on new ports if it exits while starting."""
    for attempt in range(1, START_ATTEMPTS + 1):
        handle = make()
        try:
            handle.start()
            return handle
        except ServiceError as exc:
            # A free port can be taken between our probe and the server's bind.
            if not exc.exited or attempt == START_ATTEMPTS:
                raise
            log.warning("attempt %d failed, retrying on new ports: %s", attempt, exc)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def run_restartable_mosquitto(
    workdir: Path, *, persistence: bool = False
) -> Iterator[Restartable[Mosquitto]]:
    """Start Mosquitto that can be killed and restarted on the same port; stop it on exit.

    With `persistence`, the broker saves sessions, subscriptions and queued messages under
    `workdir/persistence` (on a clean stop, and every second), so a restart keeps them.
    """

    def make() -> Restartable[Mosquitto]:
        port = free_port()
        conf = workdir / "mosquitto.conf"
        store = workdir / "persistence"
        store.mkdir(exist_ok=True)
        conf.write_text(_mosquitto_config(port, store if persistence else None))
        server = Mosquitto(HOST, port, workdir / "mosquitto.log")
        argv = [_executable("mosquitto"), "-c", str(conf)]
        return Restartable(
            "mosquitto", server, argv, server.log_path, port, lambda: _tcp_open(port)
        )

    handle = _first_start(make)
    try:
        yield handle
    finally:
        handle.stop()


@contextlib.contextmanager
def run_restartable_influxdb1(workdir: Path) -> Iterator[Restartable[InfluxDB1]]:
    """Start `influxd` that can be killed and restarted on the same ports and data directory."""

    def make() -> Restartable[InfluxDB1]:
        http_port, rpc_port = free_port(), free_port()
        conf = workdir / "influxdb.conf"
        conf.write_text(_influxd_config(workdir, http_port, rpc_port))
        server = InfluxDB1(HOST, http_port, workdir / "influxd.log")
        argv = [_executable("influxd"), "run", "-config", str(conf)]
        return Restartable(
            "influxd", server, argv, server.log_path, http_port, lambda: _influx_ping(server)
        )

    handle = _first_start(make)
    try:
        yield handle
    finally:
        handle.stop()


def postgres_server_url() -> str:
    """The PostgreSQL server tests use: $SHOPFLOOR_TEST_PG_URL or local trust defaults."""
    return os.environ.get("SHOPFLOOR_TEST_PG_URL") or DEFAULT_PG_URL


@contextlib.contextmanager
def fresh_postgres_database(server_url: str | None = None) -> Iterator[str]:
    """Create a uniquely named database, yield its SQLAlchemy URL, then drop it (FORCE)."""
    base = make_url(server_url or postgres_server_url())
    admin_url = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"shopfloor_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise ServiceError(
            f"cannot reach PostgreSQL at {base.render_as_string()} ({exc}); "
            "run scripts/test, or set SHOPFLOOR_TEST_PG_URL"
        ) from exc
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield base.set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False
            )
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
