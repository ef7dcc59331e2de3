"""A background thread woken by `notify()` (or every `poll_s`) to deliver work off the bus."""

from __future__ import annotations

import threading
from collections.abc import Callable


def _always() -> bool:
    return True


class Worker:
    """Runs `work_once()` on a daemon thread of its own when notified, and every `poll_s`."""

    name = "worker"

    def __init__(self, poll_s: float, join_timeout_s: float = 10.0) -> None:
        self._poll_s = poll_s
        self._join_timeout_s = join_timeout_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        # asked right before anything goes out: False (this instance is not the leader) holds
        # the work back (the tracker sets its leadership's `confirm`)
        self.fence: Callable[[], bool] = _always

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._join_timeout_s)

    def notify(self) -> None:
        """Something new to deliver."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._poll_s)
            self._wake.clear()
            self.work_once()

    def work_once(self) -> None:
        """One round of work; it must log its own failures (the thread goes on)."""
        raise NotImplementedError
