"""Tracker instances as real processes on one PostgreSQL database and broker, for the failover
bench and tests: start, kill -9, restart, ask each for its role; and a TCP proxy between an
instance and PostgreSQL whose connections can be cut while the process lives on."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from launcher.services.processes import free_port, stop


class TrackerProcess:
    """`python -m launcher tracker` with `env` (SHOPFLOOR_* variables) and a log file that
    every start appends to."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "SHOPFLOOR_API_PORT": str(self.port)}
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPFLOOR_")}
        env.update(self.env)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "launcher", "tracker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def new_port(self) -> None:
        """Another free port (the last one was taken before this instance could bind it)."""
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}"
        self.env["SHOPFLOOR_API_PORT"] = str(self.port)

    def start_until_up(self, timeout_s: float = 120, tries: int = 3) -> None:
        """Start and wait for /readyz to answer; on a new port when it exited (port taken)."""
        for _ in range(tries):
            self.start()
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and self.alive():
                if self.readyz() is not None:
                    return
                time.sleep(0.2)
            if self.alive():
                break
            self.new_port()
        raise RuntimeError(f"{self.name} did not come up:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """kill -9: no goodbye to the database or the broker."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout_s: float = 20) -> int | None:
        """SIGTERM, then SIGKILL past `timeout_s`; the exit code (None: never started)."""
        if self.proc is None:
            return None
        stop(self.proc, timeout_s)
        return self.proc.returncode

    def readyz(self) -> dict[str, Any] | None:
        """The /readyz body (also when 503), None when it does not answer."""
        try:
            response = httpx.get(f"{self.api}/readyz", timeout=2)
            body: dict[str, Any] = response.json()
            return body
        except (httpx.HTTPError, ValueError):
            return None

    def role(self) -> str | None:
        body = self.readyz()
        return None if body is None else body.get("role")

    def wait_role(self, role: str, timeout_s: float, poll_s: float = 0.05) -> float:
        """Seconds until /readyz says `role`; AssertionError (with the log) past `timeout_s`."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if self.role() == role:
                return time.monotonic() - t0
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log()[-3000:]}")
            time.sleep(poll_s)
        raise AssertionError(f"{self.name} not {role} in {timeout_s}s:\n{self.log()[-3000:]}")


class TcpProxy:
    """Forwards a local port to `target`; `cut()` closes every connection and refuses new
    ones (a network partition: both ends see their connection fail), `heal()` lets them in."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._cut = False
        self._closed = False
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _close(sock)

    def heal(self) -> None:
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        _close(self._server)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                refused = self._cut
            if refused:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    _close(source)
    _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def tracker_env(
    database_url: str,
    mqtt_host: str,
    mqtt_port: int,
    api_key: str,
    client_id: str,
    **settings: str,
) -> dict[str, str]:
    """SHOPFLOOR_* variables of one instance of a pair: a share group for the events, its own
    MQTT client id (its own persistent session), then `settings` (names without the prefix)."""
    return {
        "SHOPFLOOR_DATABASE_URL": database_url,
        "SHOPFLOOR_MQTT__HOST": mqtt_host,
        "SHOPFLOOR_MQTT__PORT": str(mqtt_port),
        "SHOPFLOOR_MQTT__CLIENT_ID": client_id,
        "SHOPFLOOR_API_KEY": api_key,
        "SHOPFLOOR_TRACKER_SHARE_GROUP": "trackers",
        **{f"SHOPFLOOR_{name.upper()}": value for name, value in settings.items()},
    }
