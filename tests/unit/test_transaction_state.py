"""A unit of work's per-transaction memory: a failed savepoint forgets what it added."""

from __future__ import annotations

from tests.clock import T0
from tests.fake_store import order
from tests.fake_unit_of_work import with_orders
from tracker.adapters.transaction_state import TransactionState
from tracker.domain import events
from tracker.domain.machine import Machine


def test_restoring_a_snapshot_forgets_orders_events_locks_and_deliveries() -> None:
    state = TransactionState()
    kept, added = with_orders(order("SO-1"), order("SO-2")).db.orders.values()
    state.seen.append(kept)
    state.locked_orders["SO-1"] = kept
    events_before = len(kept.events)
    snap = state.snapshot()

    kept.events.append(events.OrderShipped("SO-1", T0))
    state.seen.append(added)
    state.locked_orders["SO-2"] = added
    state.locked_machines["saw-1"] = Machine("saw-1")
    state.deliveries_added, state.machines = 2, []
    state.touched_orders.add("SO-3")  # bulk writes are not undone by the snapshot
    state.restore(snap)

    assert state.seen == [kept] and len(kept.events) == events_before and added.events == []
    assert list(state.locked_orders) == ["SO-1"] and state.locked_machines == {}
    assert (state.deliveries_added, state.machines, state.touched_orders) == (0, None, {"SO-3"})
