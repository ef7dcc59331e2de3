"""The real gateway as a child process (`python -m launcher gateway`), watched from outside."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil

from ..services.processes import stop

SUBSCRIBED = "subscribed to"  # the gateway logs this once its subscriptions are sent


class GatewayProcess:
    """One run of the gateway with the given SHOPFLOOR_* settings; samples its RSS while up."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPFLOOR_")}
        full_env.update(env)
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "launcher", "gateway"],
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.peak_rss = 0
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample_rss, daemon=True)
        self._sampler.start()

    def _sample_rss(self) -> None:
        try:
            process = psutil.Process(self.proc.pid)
            while self._sampling:
                self.peak_rss = max(self.peak_rss, process.memory_info().rss)
                time.sleep(0.02)
        except psutil.Error:  # the process has exited
            return

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_connected(self, timeout_s: float = 60) -> float:
        """Wait for the subscribed log line; return its wall-clock time (epoch seconds)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.log().splitlines():
                if SUBSCRIBED in line:
                    return _logged_at(line)
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.005)
        raise TimeoutError(f"gateway did not subscribe within {timeout_s:.0f} s:\n{self.log()}")

    def stop(self, timeout_s: float = 120) -> None:
        """SIGTERM (graceful: the gateway stores what it holds), SIGKILL if it hangs."""
        self._sampling = False
        stop(self.proc, timeout_s)
        self._sampler.join()
        self._log.close()


def _logged_at(line: str) -> float:
    """The UTC timestamp that starts a gateway log line, or now if the format is unknown."""
    try:
        logged = datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))
    except ValueError:
        return time.time()
    return logged.timestamp() if logged.tzinfo is not None else time.time()
