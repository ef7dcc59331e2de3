"""Stopping on SIGINT and SIGTERM, as the services run under a terminal or a container."""

from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    """An event set by the first SIGINT or SIGTERM."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def let_uvicorn_exit_cleanly() -> None:
    """Install no-op handlers for SIGINT and SIGTERM before uvicorn runs.

    uvicorn re-raises the signal it stopped on once it has shut down; with a handler of our own
    installed that re-raise is a no-op, so a graceful stop exits 0 instead of -15.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
