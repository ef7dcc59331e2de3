"""When a stopped machine is expected back: its alarm's typical repair, else the plan's assumption.

The plan treats a DOWN or OFFLINE machine as available `down_allowance_s` after each replan, so
every ETA on the board rests on that assumption; a stop whose alarm code has stopped machines
before says more: the median of those repairs, counted from this stop's start.
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
    """When, on what basis (`repairs`: past stops with the same alarm; `plan`), from how many."""

    at: datetime
    basis: str
    repairs: int = 0
    typical_s: float | None = None


def expected_return(
    since: datetime, repairs_s: Sequence[float], plan_back: datetime
) -> ExpectedReturn:
    """`since` plus the median of the (newest first) past repairs of the same alarm, else the
    plan's `plan_back`."""
    used = repairs_s[:REPAIRS_KEPT]
    if used:
        typical = median(used)
        return ExpectedReturn(since + timedelta(seconds=typical), "repairs", len(used), typical)
    return ExpectedReturn(plan_back, "plan")
