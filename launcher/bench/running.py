"""What every benchmark does around its cases: progress lines, the load average, the wall time."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

BUSY_LOAD = 0.5  # a load average above this before a run: other work shares the cores


def progress(text: str) -> None:
    """A progress line on stderr (stdout is the table and the JSON line)."""
    sys.stderr.write(f"bench: {text}\n")
    sys.stderr.flush()


def measured(run: Callable[[], dict[str, object]]) -> dict[str, object]:
    """Run a benchmark; its summary gains the load average before it and its wall time."""
    started, load = time.monotonic(), os.getloadavg()[0]
    if load > BUSY_LOAD:
        progress(f"load average {load:.2f} before the run: other work shares these cores")
    result = run()
    result["loadavg_1m_start"] = round(load, 2)
    result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def figure(result: dict[str, object], key: str) -> float:
    """A number of a benchmark's summary, for its targets."""
    value = result[key]
    assert isinstance(value, int | float)
    return float(value)
