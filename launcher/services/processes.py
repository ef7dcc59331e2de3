"""Starting a server process and waiting until it is ready; stopping it; retrying on new ports."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx

log = logging.getLogger(__name__)
T = TypeVar("T")

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
START_ATTEMPTS = 3


class ServiceError(RuntimeError):
    """A server did not start, or misbehaved."""

    def __init__(self, message: str, *, exited: bool = False) -> None:
        super().__init__(message)
        self.exited = exited


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bind port 0, then close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def executable(name: str) -> str:
    """Find a binary on PATH or in /usr/sbin (where Debian puts mosquitto)."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if found is None:
        raise ServiceError(f"{name} not found; install it (scripts/test does) or put it on PATH")
    return found


def tail(path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file, or a note that it is missing."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"<no log: {exc}>"


@contextlib.contextmanager
def server(
    name: str,
    argv: list[str],
    log_path: Path,
    port: int,
    ready: Callable[[], bool],
    **options: Any,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server with output to `log_path`; wait until it listens on `port` and `ready`
    (`options`: `launch`'s keywords)."""
    proc = launch(name, argv, log_path, port, ready, **options)
    try:
        yield proc
    finally:
        stop(proc)


def launch(
    name: str,
    argv: list[str],
    log_path: Path,
    port: int,
    ready: Callable[[], bool],
    *,
    append_log: bool = False,
    env: Mapping[str, str] | None = None,
    cpus: set[int] | None = None,
    timeout_s: float = START_TIMEOUT,
) -> subprocess.Popen[bytes]:
    """Start a server and wait until it listens on `port` and `ready`; stop it if it does not.
    `env` replaces the environment; `cpus` pins the process to those cores."""
    started = time.monotonic()
    pin = None if cpus is None else functools.partial(os.sched_setaffinity, 0, cpus)
    with log_path.open("ab" if append_log else "wb") as log_file:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=pin,
        )
    try:
        deadline = started + timeout_s
        # Owning the listening socket proves the answer comes from our process,
        # not from whatever took the port after free_port() released it.
        while not (safe(lambda: _listens(proc.pid, port)) and safe(ready)):
            exited = proc.poll() is not None
            if exited or time.monotonic() >= deadline:
                state = f"exited with {proc.returncode}" if exited else "timed out"
                raise ServiceError(
                    f"{name} did not come up ({state}): {' '.join(argv)}\n"
                    f"--- last lines of {log_path} ---\n{tail(log_path)}",
                    exited=exited,
                )
            time.sleep(0.05)
    except BaseException:
        stop(proc)
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
def retrying(start: Callable[[], contextlib.AbstractContextManager[T]]) -> Iterator[T]:
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


def safe(check: Callable[[], bool]) -> bool:
    """Run a readiness check, treating connection errors as not ready."""
    try:
        return check()
    except (OSError, httpx.HTTPError):
        return False


def stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Terminate a process, and kill it if it has not exited after `grace` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            log.warning("pid %d ignored SIGTERM; killing it", proc.pid)
            proc.kill()
            proc.wait()


def tcp_open(port: int) -> bool:
    """Tell whether something accepts TCP connections on 127.0.0.1:port."""
    with socket.create_connection((HOST, port), timeout=0.5):
        return True
