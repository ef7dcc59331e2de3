"""Run the `shopfloor` command as real child processes, as an operator would."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.services import Mosquitto, free_port


class Process:
    """`python -m launcher ARGS` with its own environment and a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPFLOOR_")}
        full_env.update(env)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "launcher", *args],
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout_s: float = 30) -> None:
        """Block until `text` appears in the log; fail with the log if the process died."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: no {text!r} within {timeout_s}s:\n{self.log()[-3000:]}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout_s: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@contextlib.contextmanager
def served_tracker(
    mosquitto: Mosquitto,
    log_dir: Path,
    name: str,
    settings: dict[str, str],
    database_url: str | None = None,
) -> Iterator[dict[str, str]]:
    """`shopfloor migrate`, then `shopfloor tracker` on a fresh SQLite file (or on
    `database_url`, migrated already), the broker and a free port, with `settings`
    (SHOPFLOOR_* variables) on top; yields its `api` URL and `key`, and stops it after, failing
    unless it exits cleanly."""
    api_key, port = secrets.token_urlsafe(24), free_port()
    if database_url is None:
        database_url = f"sqlite:///{log_dir / 'tracker.db'}"
        migrate = Process("migrate", ["migrate"], {"SHOPFLOOR_DATABASE_URL": database_url}, log_dir)
        assert migrate.proc.wait(60) == 0, migrate.log()
    process = Process(
        "tracker",
        ["tracker"],
        {
            "SHOPFLOOR_MQTT__HOST": mosquitto.host,
            "SHOPFLOOR_MQTT__PORT": str(mosquitto.port),
            "SHOPFLOOR_MQTT__CLIENT_ID": f"{name}-{secrets.token_hex(3)}",
            "SHOPFLOOR_DATABASE_URL": database_url,
            "SHOPFLOOR_API_KEY": api_key,
            "SHOPFLOOR_API_PORT": str(port),
            **settings,
        },
        log_dir,
    )
    try:
        process.wait_for_log("Uvicorn running")
        yield {"api": f"http://127.0.0.1:{port}", "key": api_key}
    finally:
        assert process.stop() == 0, process.log()[-3000:]
