"""Leadership of the tracker's singleton duties: a PostgreSQL advisory lock held on a connection
of its own (several instances), or a lock file beside the SQLite database (one instance).

The lock is a session lock: it is held for as long as the connection lives, and PostgreSQL
frees it the moment the holder's connection ends (process killed) or once its keepalives give
up on a silent client (host lost, network cut). The holder checks its connection every
`timeout_s / 10` and counts as leader only while the last good check is under `0.4 timeout_s`
old, so it stops its duties before the server can give the lock to another instance.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
import zlib
from pathlib import Path
from typing import IO, Any, Protocol

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# the first half of the advisory lock's key: "shop" in ASCII; the second is the site's
_NAMESPACE = 0x73686F70


class Leader(Protocol):
    """Who runs the singleton duties: `is_leader()` is cheap, `confirm()` asks the database."""

    @property
    def role(self) -> str: ...

    @property
    def changes(self) -> int: ...

    def is_leader(self) -> bool: ...

    def confirm(self) -> bool: ...

    def claim(self) -> None:
        """Refuse early (`AnotherInstanceError`) what can never run: a second SQLite tracker."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Succession(Protocol):
    """What an instance does as leadership comes and goes (called on the leadership thread)."""

    def elected(self) -> None:
        """The lock is ours, `is_leader()` still false: get ready (rebuild the plan)."""

    def leading(self) -> None:
        """`is_leader()` is now true: start the duties (check, publish)."""

    def deposed(self) -> None:
        """`is_leader()` turned false."""


class AnotherInstanceError(RuntimeError):
    """A second tracker on one SQLite database."""


class SoleInstance:
    """SQLite: one tracker per database file, always the leader; a second one is refused."""

    role = "leader"
    changes = 0

    def __init__(self, database_url: str) -> None:
        database = make_url(database_url).database
        in_memory = not database or database == ":memory:" or database.startswith("file::memory")
        self._path = None if in_memory else Path(f"{database}.tracker-lock")
        self._file: IO[bytes] | None = None

    def is_leader(self) -> bool:
        return True

    def confirm(self) -> bool:
        return True

    def start(self) -> None:
        self.claim()

    def claim(self) -> None:
        """Take the lock file; `AnotherInstanceError` when a running tracker holds it."""
        if self._path is None or self._file is not None:
            return
        handle = self._path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AnotherInstanceError(
                f"another tracker is running on this SQLite database ({self._path} is locked):"
                " SQLite takes one tracker; run several only on PostgreSQL"
            ) from None
        self._file = handle

    def stop(self) -> None:
        if self._file is not None:
            self._file.close()  # closing frees the lock
            self._file = None


def lock_key(site: str) -> tuple[int, int]:
    """The advisory lock's two int4 keys: one lock per site, so plants may share a database."""
    crc = zlib.crc32(site.encode())
    return _NAMESPACE, crc - (1 << 32) if crc >= 1 << 31 else crc


def timings(timeout_s: float) -> dict[str, Any]:
    """libpq and server settings of the lock connection, so a lost peer is noticed in time:
    the client gives up on unacknowledged data after 0.3 timeout; the server drops a silent
    client after about 0.8 timeout (keepalives count whole seconds: at least 1 each)."""
    idle = max(1, int(timeout_s * 0.5))
    interval = max(1, int(timeout_s * 0.1))
    count = max(1, round(timeout_s * 0.3 / interval))
    server = (
        f"-c tcp_keepalives_idle={idle} -c tcp_keepalives_interval={interval}"
        f" -c tcp_keepalives_count={count} -c tcp_user_timeout={int(timeout_s * 800)}"
        f" -c application_name=shopfloor-tracker-leadership"
    )
    return {
        "keepalives": 1,
        "keepalives_idle": idle,
        "keepalives_interval": interval,
        "keepalives_count": count,
        "tcp_user_timeout": int(timeout_s * 300),
        "connect_timeout": max(2, int(timeout_s * 0.5)),
        "options": server,
    }


def conninfo_of(database_url: str) -> str:
    """A libpq connection string from a SQLAlchemy URL (`postgresql+psycopg://...`)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PgLeadership:
    """Several instances: the one holding the site's advisory lock leads; the others try to
    take it every `timeout_s / 10`.

    `succession` hears of each change, on the leadership thread.
    """

    def __init__(
        self, database_url: str, site: str, timeout_s: float, succession: Succession
    ) -> None:
        self._conninfo = conninfo_of(database_url)
        self._key = lock_key(site)
        self._timeout_s = timeout_s
        self._poll_s = timeout_s / 10
        self._grace_s = timeout_s * 0.4
        self._succession = succession
        self._conn: psycopg.Connection[Any] | None = None
        self._conn_lock = threading.Lock()  # the connection, between this thread and confirm()
        self._held = False
        self._last_ok = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leadership", daemon=True)
        self.changes = 0  # times this instance became leader or stopped being it

    @property
    def role(self) -> str:
        return "leader" if self.is_leader() else "follower"

    def is_leader(self) -> bool:
        return self._held and time.monotonic() - self._last_ok < self._grace_s

    def confirm(self) -> bool:
        """Leader now: the lock's connection answered just now (a fence before publishing)."""
        if not self.is_leader():
            return False
        return self._check()

    def claim(self) -> None:
        pass  # any number of instances: the others wait as followers

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._timeout_s)
        self._step_down("stopping")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._held:
                    if not self._check():
                        self._step_down("its database connection failed")
                else:
                    self._try_lock()
            except Exception:
                log.exception("leadership check failed")
            self._stop.wait(self._poll_s)

    def _check(self) -> bool:
        with self._conn_lock:
            conn = self._conn
            if conn is None:
                return False
            try:
                conn.execute("SELECT 1")
            except psycopg.Error:
                return False
            self._last_ok = time.monotonic()
            return True

    def _try_lock(self) -> None:
        with self._conn_lock:
            if self._conn is None or self._conn.closed:
                try:
                    self._conn = psycopg.connect(
                        self._conninfo, autocommit=True, **timings(self._timeout_s)
                    )
                except psycopg.Error as exc:
                    log.warning("leadership: database unreachable: %s", exc)
                    return
            try:
                row = self._conn.execute(
                    "SELECT pg_try_advisory_lock(%s, %s)", self._key
                ).fetchone()
            except psycopg.Error as exc:
                log.warning("leadership: lock attempt failed: %s", exc)
                self._close()
                return
            if not (row and row[0]):
                return
            self._last_ok = time.monotonic()
        log.info("leadership: advisory lock taken; rebuilding the plan before taking over")
        self._succession.elected()
        self._held = True
        self._last_ok = time.monotonic()
        self.changes += 1
        log.warning("leadership: this instance is now the leader")
        self._succession.leading()

    def _step_down(self, why: str) -> None:
        was = self._held
        self._held = False
        with self._conn_lock:
            self._close()
        if was:
            self.changes += 1
            log.warning("leadership: stepped down (%s); now a follower", why)
            self._succession.deposed()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # a cut connection may fail to close: it is gone either way
                log.debug("closing the leadership connection failed", exc_info=True)
            self._conn = None
