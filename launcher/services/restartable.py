"""A server that can be killed, stopped and started again on the same ports and data."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from .processes import START_ATTEMPTS, ServiceError, launch, stop

log = logging.getLogger(__name__)
S = TypeVar("S")


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
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the server and wait until it is ready; the first start truncates the log."""
        if self.running:
            raise ServiceError(f"{self.name} is already running")
        self._proc = launch(
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
            stop(self._proc)

    def restart(self) -> None:
        """A clean stop, then a start on the same ports and data."""
        self.stop()
        self.start()


def first_start(make: Callable[[], Restartable[S]]) -> Restartable[S]:
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
