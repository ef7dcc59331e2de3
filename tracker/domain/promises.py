"""Whether an order's promise (its due date) holds, and when its customers hear that it moved.

The promise is at risk when the forecast's P90 is past the due date. Customers hear of a change
of that state, at most once per interval: a change inside the interval waits for its end, and
is sent then only if it still differs from what they last heard (a flip that reverted is no
news). Before they heard anything they hold the promise as given: on time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MOVED, RESTORED = "order.promise_moved", "order.promise_restored"


@dataclass(frozen=True)
class PromiseState:
    """What the latest forecast says of an order's promise, and what its customers last heard."""

    at_risk: bool  # the latest forecast: P90 past the due date
    told: bool = False  # what customers last heard (the promise as given: on time)
    told_at: datetime | None = None  # when they heard it; None: never


def promise_at_risk(p90: datetime, due_at: datetime) -> bool:
    """The promise is at risk when nine in ten outcomes do not finish by the due date."""
    return p90 > due_at


def step(
    before: PromiseState | None, at_risk: bool, now: datetime, min_interval: timedelta
) -> tuple[PromiseState, bool]:
    """The order's state after a forecast, and whether its customers hear of it now.

    `before` None is an order first seen: its customers hold the promise as given, so one that
    is on time is no news and one already at risk is told at once.
    """
    told, told_at = (False, None) if before is None else (before.told, before.told_at)
    if at_risk == told:
        return PromiseState(at_risk, told, told_at), False
    if told_at is not None and now - told_at < min_interval:
        return PromiseState(at_risk, told, told_at), False  # told again once the interval ends
    return PromiseState(at_risk, at_risk, now), True


@dataclass(frozen=True)
class PromiseNotice:
    """What a customer is told: their order, its promise, and the dates it now likely makes."""

    order_id: str
    customer: str
    product: str
    due_at: datetime
    eta_p50: datetime
    eta_p90: datetime
    at_risk: bool

    @property
    def kind(self) -> str:
        """`order.promise_moved` (at risk) or `order.promise_restored` (back on time)."""
        return MOVED if self.at_risk else RESTORED
