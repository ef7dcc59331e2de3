"""After each forecast, every watched order's promise state; notices for its customers when it
moved (tracker/domain/promises.py decides), written in one transaction on the planner's thread.

An order is watched from its first contact on (docs/customer-notifications.md) while it is
open; the notices go to the customer-notice outbox, which delivery threads send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from tracker.domain.promises import PromiseNotice, PromiseState, promise_at_risk, step

from .foresight import Outlook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchedOrder:
    """An open order with at least one contact, and its promise state (None: first seen)."""

    order_id: str
    customer: str
    product: str
    due_at: datetime
    state: PromiseState | None


class PromiseBook(Protocol):
    """The promise states and the notice outbox, in one transaction."""

    def watched_orders(self) -> list[WatchedOrder]: ...

    def save_state(self, order_id: str, state: PromiseState, now: datetime) -> None: ...

    def add_notices(self, notice: PromiseNotice, now: datetime) -> int: ...

    def commit(self) -> None: ...


PromiseBooks = Callable[[], AbstractContextManager[PromiseBook]]


def watch_promises(
    books: PromiseBooks, outlook: Outlook, now: datetime, min_interval: timedelta
) -> int:
    """Step every watched order's state with its forecast; returns how many notices were
    queued (one per contact of each order told)."""
    queued = 0
    with books() as book:
        for order in book.watched_orders():
            forecast = outlook.of(order.order_id)
            if forecast is None:  # not in this plan (nothing left to do): no news
                continue
            at_risk = promise_at_risk(forecast.p90, order.due_at)
            state, tell = step(order.state, at_risk, now, min_interval)
            if state != order.state:
                book.save_state(order.order_id, state, now)
            if tell:
                notice = PromiseNotice(
                    order.order_id,
                    order.customer,
                    order.product,
                    order.due_at,
                    forecast.p50,
                    forecast.p90,
                    at_risk,
                )
                queued += book.add_notices(notice, now)
                log.info("order %s: customers told %s", order.order_id, notice.kind)
        book.commit()
    return queued
