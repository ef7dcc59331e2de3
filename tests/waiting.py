"""The tests' one bounded wait: poll a condition until it holds, fail by name when it never does."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    check: Callable[[], T],
    what: str | Callable[[], str] = "a condition",
    timeout_s: float = 15.0,
    interval_s: float = 0.05,
) -> T:
    """Call `check` until it returns something truthy, and return that; after `timeout_s`
    seconds raise AssertionError naming `what` (called then, when it is a function, so it can
    show what was seen). Exceptions from `check` propagate."""
    deadline = time.monotonic() + timeout_s
    pause = min(0.002, interval_s)  # quick at first (unit tests), then every `interval_s`
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() >= deadline:
            shown = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {shown}")
        time.sleep(pause)
        pause = min(pause * 2, interval_s)
