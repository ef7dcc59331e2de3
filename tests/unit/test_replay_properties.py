"""Properties of cycle counting under redelivery, duplication, reordering and replay."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.machine import Machine
from tracker.domain.model import Operation, Order

T0 = datetime(2024, 3, 1, 8, tzinfo=UTC)


@dataclass(frozen=True)
class Cycle:
    """One cycle event as the PLC published it."""

    event_id: str
    counter: int
    scrap: int
    at: datetime


def _log(steps: list[tuple[bool, int, int]]) -> tuple[list[Cycle], int, int]:
    """A device log from (reset?, good step, scrap step); also the parts it truly made.

    The first event ever counts one good part and no scrap, as the tracker counts it.
    """
    counter, scrap = 1_000, 50
    log = [Cycle("e0", counter, scrap, T0)]
    good_made, scrap_made = 1, 0
    for i, (reset, good_step, scrap_step) in enumerate(steps, start=1):
        if reset and counter > 0:
            counter, good_made = (
                min(good_step, counter - 1),
                good_made + min(good_step, counter - 1),
            )
        else:
            counter, good_made = counter + good_step, good_made + good_step
        scrap, scrap_made = scrap + scrap_step, scrap_made + scrap_step
        log.append(Cycle(f"e{i}", counter, scrap, T0 + timedelta(seconds=i)))
    return log, good_made, scrap_made


def _order(quantity: int) -> Order:
    op = Operation(10, "press", "press-1", setup_s=60, cycle_s=10, quantity=quantity)
    order = Order("SO-1", "ACME", "x", quantity, T0 + timedelta(days=1), [op], created_at=T0)
    order.start_operation(10, T0)
    return order


class Line:
    """A machine bound to one order's operation, fed like the handler feeds them."""

    def __init__(self, quantity: int = 1_000_000, dedupe: bool = True) -> None:
        self.machine = Machine("press-1", order_id="SO-1", seq=10)
        self.order = _order(quantity)
        self.dedupe = dedupe
        self.seen: set[str] = set()

    def apply(self, events: Iterable[Cycle]) -> None:
        for e in events:
            if self.dedupe and e.event_id in self.seen:
                continue
            self.seen.add(e.event_id)
            count = self.machine.count_cycle(e.counter, e.at, scrap_counter=e.scrap)
            self.order.record_good(10, count.good, e.at)
            self.order.record_scrap(10, count.scrap, e.at)

    def state(self) -> tuple[object, ...]:
        op = self.order.operations[0]
        m = self.machine
        return (op.good_qty, op.scrap_qty, op.state, m.last_counter, m.last_scrap_counter)


# (reset?, good parts, scrap parts) per cycle; about one cycle in eight is a counter reset
steps = st.lists(
    st.tuples(st.integers(0, 7).map(lambda n: n == 0), st.integers(0, 5), st.integers(0, 2)),
    max_size=30,
)
redeliveries = st.lists(st.integers(0, 1_000), max_size=40)


def _interleave(log: list[Cycle], picks: list[int], order: list[int]) -> list[Cycle]:
    """`log` with redelivered copies of its events inserted anywhere."""
    stream = list(log)
    for pick, where in zip(picks, order, strict=False):
        stream.insert(where % (len(stream) + 1), log[pick % len(log)])
    return stream


@settings(max_examples=200, deadline=None)
@given(steps, redeliveries, redeliveries)
def test_in_order_log_with_redeliveries_anywhere_counts_exactly_what_was_made(
    s: list[tuple[bool, int, int]], picks: list[int], where: list[int]
) -> None:
    log, good_made, scrap_made = _log(s)
    # redeliveries that arrive after the original: insert each after its first occurrence
    stream = list(log)
    for pick, w in zip(picks, where, strict=False):
        event = log[pick % len(log)]
        first = stream.index(event)
        stream.insert(first + 1 + w % (len(stream) - first), event)
    for dedupe in (True, False):  # counters alone already protect against duplicates
        line = Line(dedupe=dedupe)
        line.apply(stream)
        op = line.order.operations[0]
        assert (op.good_qty, op.scrap_qty) == (good_made, scrap_made)


@settings(max_examples=200, deadline=None)
@given(steps, st.permutations(range(31)), redeliveries, redeliveries, st.integers(1, 40))
def test_progress_is_monotone_bounded_and_never_overcounts_under_any_interleaving(
    s: list[tuple[bool, int, int]],
    perm: list[int],
    picks: list[int],
    where: list[int],
    quantity: int,
) -> None:
    log, good_made, _ = _log(s)
    shuffled = [log[i] for i in perm if i < len(log)]
    stream = _interleave(shuffled, picks, where)
    line = Line(quantity=quantity)
    previous = line.order.percent
    for event in stream:
        line.apply([event])
        assert previous <= line.order.percent <= 100.0
        previous = line.order.percent
    op = line.order.operations[0]
    assert 0 <= op.good_qty <= min(quantity, good_made)


@settings(max_examples=200, deadline=None)
@given(steps, st.permutations(range(31)), redeliveries, redeliveries)
def test_replaying_the_event_log_gives_the_same_state(
    s: list[tuple[bool, int, int]], perm: list[int], picks: list[int], where: list[int]
) -> None:
    log, _, _ = _log(s)
    delivered = _interleave([log[i] for i in perm if i < len(log)], picks, where)
    once = Line()
    once.apply(delivered)
    again = Line()
    again.apply(delivered)
    again.apply(delivered)  # the whole log once more
    again.apply(reversed(delivered))  # and shuffled duplicates
    assert again.state() == once.state()
    twice = Line(dedupe=False)  # even with the event ids forgotten, counts do not move
    twice.apply(log)
    before = twice.state()
    twice.apply(log)
    assert twice.state() == before
