"""When a stopped machine is expected back: its alarm's typical repair, else the plan's allowance.

A stop whose alarm code has stopped machines before is expected to last the median of those
repairs; any other stop the allowance the plan gives a stopped machine (`down_allowance_s`),
both counted from the stop's start, so the time does not move while the stop lasts (the plan
itself takes the machine as back `down_allowance_s` after each replan, later and later).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

# how many past repairs of one alarm code the typical repair is the median of
REPAIRS_KEPT = 20


@dataclass(frozen=True)
class ExpectedReturn:
    """When, on what basis (`repairs`: past stops with the same alarm; `plan`: the plan's
    allowance), from how many repairs."""

    at: datetime
    basis: str
    repairs: int = 0
    typical_s: float | None = None


def expected_return(
    since: datetime, repairs_s: Sequence[float], allowance_s: float
) -> ExpectedReturn:
    """`since` plus the median of the (newest first) past repairs of the same alarm, else plus
    the plan's allowance for a stopped machine."""
    used = repairs_s[:REPAIRS_KEPT]
    if used:
        typical = median(used)
        return ExpectedReturn(since + timedelta(seconds=typical), "repairs", len(used), typical)
    return ExpectedReturn(since + timedelta(seconds=allowance_s), "plan")
