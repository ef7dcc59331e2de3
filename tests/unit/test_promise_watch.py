"""The promise watch after a forecast, on an in-memory book: states saved, notices queued."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import TracebackType

from tests.clock import T0
from tracker.domain.foresight.estimator import Forecast
from tracker.domain.promises import PromiseNotice, PromiseState
from tracker.service_layer.foresight import Outlook
from tracker.service_layer.promise_watch import WatchedOrder, watch_promises

HOUR = timedelta(hours=1)
DUE = T0 + 10 * HOUR


class FakeBook:
    """Watched orders, their states and the notices queued; committed or not."""

    def __init__(self, orders: list[WatchedOrder], contacts: int = 2) -> None:
        self.orders = orders
        self.contacts = contacts
        self.saved: dict[str, PromiseState] = {}
        self.notices: list[PromiseNotice] = []
        self.committed = False

    def __call__(self) -> FakeBook:
        return self

    def __enter__(self) -> FakeBook:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass

    def watched_orders(self) -> list[WatchedOrder]:
        return self.orders

    def save_state(self, order_id: str, state: PromiseState, now: datetime) -> None:
        self.saved[order_id] = state

    def add_notices(self, notice: PromiseNotice, now: datetime) -> int:
        self.notices.append(notice)
        return self.contacts

    def commit(self) -> None:
        self.committed = True


def _outlook(**p90: datetime) -> Outlook:
    return Outlook(None, {o: Forecast(o, 0.5, at - HOUR, at) for o, at in p90.items()})


def _order(order_id: str, state: PromiseState | None) -> WatchedOrder:
    return WatchedOrder(order_id, "ACME", "bracket", DUE, state)


def test_an_order_whose_p90_passes_its_due_date_is_told_to_each_contact() -> None:
    book = FakeBook([_order("SO-1", PromiseState(False))])

    queued = watch_promises(book, _outlook(**{"SO-1": DUE + HOUR}), T0, 4 * HOUR)

    assert queued == 2 and book.committed
    [notice] = book.notices
    assert (notice.order_id, notice.at_risk, notice.due_at) == ("SO-1", True, DUE)
    assert (notice.eta_p50, notice.eta_p90) == (DUE, DUE + HOUR)
    assert book.saved == {"SO-1": PromiseState(True, True, T0)}


def test_an_order_first_seen_on_time_is_saved_and_not_told() -> None:
    book = FakeBook([_order("SO-1", None)])

    assert watch_promises(book, _outlook(**{"SO-1": DUE - HOUR}), T0, 4 * HOUR) == 0

    assert book.notices == [] and book.saved == {"SO-1": PromiseState(False)}


def test_an_unchanged_state_writes_nothing() -> None:
    book = FakeBook([_order("SO-1", PromiseState(True, True, T0))])

    assert watch_promises(book, _outlook(**{"SO-1": DUE + HOUR}), T0 + HOUR, 4 * HOUR) == 0

    assert book.saved == {} and book.notices == []


def test_an_order_the_forecast_does_not_cover_is_left_alone() -> None:
    book = FakeBook([_order("SO-1", PromiseState(False)), _order("SO-2", None)])

    assert watch_promises(book, _outlook(), T0, 4 * HOUR) == 0

    assert book.saved == {} and book.notices == []
