"""Capable-to-promise quotes through `POST /api/v1/quotes` on real SQLite and PostgreSQL: the
current plan's queues, product templates, priorities and shift calendars; nothing is booked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.clock import T0, Clock
from tracker.adapters import orm
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.entrypoints.api import create_app

pytestmark = pytest.mark.integration

KEY = "supervisor-key-" + "q" * 16
AUTH = {"X-API-Key": KEY}
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plant.yaml"


# the tracker replans only when the test asks (an event's request waits 10 s, the longest)
QUIET = {"check_interval_s": 3600, "replan_debounce_s": 300}


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], clock: Clock) -> Tracker:
    """The example plant (saw-1, saw-2, weld-1, paint-1 on two shifts, asm-1), at T0."""
    return make_tracker(KEY, clock=clock, plant_file=EXAMPLE, **QUIET)


def _op(seq: int, machine: str, setup_s: float, cycle_s: float) -> dict[str, Any]:
    return {
        "seq": seq,
        "name": f"op{seq}",
        "machine": machine,
        "setup_s": setup_s,
        "cycle_s": cycle_s,
    }


def _cut_and_weld() -> list[dict[str, Any]]:
    """60 s setup + 30 s/part on saw-1, then 120 s setup + 40 s/part on weld-1."""
    return [_op(10, "saw-1", 60, 30), _op(20, "weld-1", 120, 40)]


def _quote(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/quotes", json={"product": "bracket", **body}, headers=AUTH)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _order(
    client: TestClient,
    order_id: str,
    operations: list[dict[str, Any]],
    quantity: int = 10,
    priority: int = 0,
    due: timedelta = timedelta(days=2),
) -> None:
    body = {
        "order_id": order_id,
        "customer": "ACME",
        "product": "bracket",
        "quantity": quantity,
        "due_at": (T0 + due).isoformat(),
        "priority": priority,
        "operations": operations,
    }
    response = client.post("/api/v1/orders", json=body, headers=AUTH)
    assert response.status_code == 201, response.text


def _times(quote: dict[str, Any]) -> list[tuple[int, str, datetime, datetime]]:
    return [
        (op["seq"], op["machine"], _dt(op["start"]), _dt(op["end"])) for op in quote["operations"]
    ]


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _stored_orders(tracker: Tracker) -> int:
    with SqlUnitOfWork(tracker.sessions) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(orm.orders)) or 0)


def test_on_an_idle_plant_a_quote_is_now_plus_setup_and_cycles_per_operation(
    client: TestClient,
) -> None:
    quote = _quote(client, quantity=10, operations=_cut_and_weld())

    # saw-1: 60 + 10 x 30 = 360 s; weld-1 after it: 120 + 10 x 40 = 520 s
    assert _times(quote) == [(10, "saw-1", T0, _s(360)), (20, "weld-1", _s(360), _s(880))]
    assert _dt(quote["completion"]) == _s(880)
    assert [op["name"] for op in quote["operations"]] == ["op10", "op20"]
    assert (quote["product"], quote["quantity"], quote["priority"]) == ("bracket", 10, 0)
    assert quote["due_at"] is None and quote["on_time"] is None
    assert _dt(quote["plan_made_at"]) == T0


def test_a_quote_queues_behind_an_order_planned_on_the_same_machine(
    tracker: Tracker, client: TestClient
) -> None:
    _order(client, "SO-1", [_op(10, "saw-1", 100, 50)], quantity=10)  # saw-1 until T0 + 600 s
    tracker.planner.replan()

    quote = _quote(client, quantity=10, operations=_cut_and_weld())

    assert tracker.plan is not None
    assert tracker.plan.operations[("SO-1", 10)].end == _s(600)
    assert _times(quote) == [(10, "saw-1", _s(600), _s(960)), (20, "weld-1", _s(960), _s(1480))]


def test_a_quote_sees_an_order_only_once_the_tracker_replanned(
    tracker: Tracker, client: TestClient, clock: Clock
) -> None:
    _order(client, "SO-1", [_op(10, "saw-1", 100, 50)], quantity=10)
    # the order asks for a replan (debounced, on the planner's thread): until it is made the
    # plan made at start is quoted against, and the answer says when that plan was made
    before = _quote(client, quantity=1, operations=[_op(10, "saw-1", 0, 60)])
    assert _times(before) == [(10, "saw-1", T0, _s(60))]
    assert _dt(before["plan_made_at"]) == T0

    clock.now = _s(5)
    tracker.planner.replan()

    after = _quote(client, quantity=1, operations=[_op(10, "saw-1", 0, 60)])
    assert _times(after) == [(10, "saw-1", _s(605), _s(665))]
    assert _dt(after["plan_made_at"]) == _s(5)


def test_a_product_quote_names_each_operation_and_machine_of_its_template(
    client: TestClient,
) -> None:
    quote = _quote(client, quantity=10, options={"paint": "powder"})

    assert quote["product"] == "bracket [paint=powder]"
    # cut 300 + 10 x 45, weld 600 + 10 x 90, paint 900 + 10 x 60, cure 10 x 20, assemble
    # 120 + 10 x 30: Monday 09:00 Berlin, well inside the paint shop's shift
    assert [(op["seq"], op["name"], op["machine"]) for op in quote["operations"]] == [
        (10, "cut", "saw-1"),
        (20, "weld", "weld-1"),
        (30, "paint", "paint-1"),
        (35, "cure", "paint-1"),
        (40, "assemble", "asm-1"),
    ]
    ends = [_dt(op["end"]) for op in quote["operations"]]
    assert ends == [_s(750), _s(2250), _s(3750), _s(3950), _s(4370)]
    assert _dt(quote["completion"]) == _s(4370)


def test_a_work_center_quote_takes_the_machine_that_is_free(
    tracker: Tracker, client: TestClient
) -> None:
    _order(client, "SO-1", [_op(10, "saw-1", 0, 100)], quantity=30)  # saw-1 busy 3000 s
    tracker.planner.replan()

    quote = _quote(client, quantity=1)  # bracket, no paint: cut on the `cut` work center

    assert [(op["name"], op["machine"]) for op in quote["operations"]] == [
        ("cut", "saw-2"),
        ("weld", "weld-1"),
        ("assemble", "asm-1"),
    ]
    assert _times(quote)[0][2:] == (T0, _s(345))


def test_painting_waits_for_the_paint_shops_next_shift(
    tracker: Tracker, client: TestClient, clock: Clock
) -> None:
    # Friday 21:30 Berlin (20:30 UTC): cut and weld run past the shift's end at 22:00
    clock.now = datetime(2026, 3, 6, 20, 30, tzinfo=UTC)
    tracker.planner.replan()

    quote = _quote(client, quantity=10, options={"paint": "wet"})

    times = {
        op["name"]: (op["machine"], _dt(op["start"]), _dt(op["end"])) for op in quote["operations"]
    }
    assert times["weld"][2] == clock.now + timedelta(seconds=750 + 1500)
    # wet paint (600 + 10 x 40 s) on Monday from 06:00 Berlin (05:00 UTC)
    monday = datetime(2026, 3, 9, 5, 0, tzinfo=UTC)
    assert times["paint"] == ("paint-1", monday, monday + timedelta(seconds=1000))
    assert _dt(quote["completion"]) == monday + timedelta(seconds=1000 + 420)


def test_due_at_tells_whether_the_quote_is_on_time(client: TestClient) -> None:
    ops = _cut_and_weld()  # completion T0 + 880 s for 10 parts

    just_in_time = _quote(client, quantity=10, operations=ops, due_at=_s(880).isoformat())
    too_soon = _quote(client, quantity=10, operations=ops, due_at=_s(879).isoformat())

    assert just_in_time["on_time"] is True and _dt(just_in_time["due_at"]) == _s(880)
    assert too_soon["on_time"] is False and _dt(too_soon["due_at"]) == _s(879)


def test_a_quote_goes_ahead_only_of_orders_the_dispatcher_would_put_after_it(
    tracker: Tracker, client: TestClient
) -> None:
    _order(client, "SO-LOW", [_op(10, "saw-1", 100, 50)], quantity=10, priority=0)
    _order(client, "SO-MID", [_op(10, "saw-1", 0, 60)], quantity=10, priority=5)
    tracker.planner.replan()
    assert tracker.plan is not None
    # equal due dates: the higher priority goes first (saw-1 0-600 s, then SO-LOW to 1200 s)
    mid = tracker.plan.operations[("SO-MID", 10)]
    assert (mid.start, mid.end) == (T0, _s(600))
    ops = [_op(10, "saw-1", 0, 60)]
    same_due = (T0 + timedelta(days=2)).isoformat()

    no_due = _quote(client, quantity=1, operations=ops, priority=9)
    same_as_low = _quote(client, quantity=1, operations=ops, priority=0, due_at=same_due)
    above_low = _quote(client, quantity=1, operations=ops, priority=3, due_at=same_due)
    above_all = _quote(client, quantity=1, operations=ops, priority=9, due_at=same_due)
    sooner = _quote(
        client, quantity=1, operations=ops, due_at=(T0 + timedelta(hours=1)).isoformat()
    )

    # without a due date a quote fits around what is planned, whatever its priority
    assert _dt(no_due["completion"]) == _s(1200 + 60)
    # with the same due date, priority decides as the dispatcher does: 0 waits for both,
    # 3 passes SO-LOW only, 9 passes both; a sooner due date passes both
    assert _dt(same_as_low["completion"]) == _s(1200 + 60)
    assert _times(above_low)[0][2:] == (_s(600), _s(660))
    assert _times(above_all)[0][2:] == (T0, _s(60))
    assert _times(sooner)[0][2:] == (T0, _s(60))
    assert above_all["priority"] == 9


def test_a_quote_books_nothing(tracker: Tracker, client: TestClient) -> None:
    _order(client, "SO-1", _cut_and_weld())
    tracker.planner.replan()

    _quote(client, quantity=10, operations=_cut_and_weld())
    _quote(client, quantity=5, options={"paint": "powder"})

    assert _stored_orders(tracker) == 1
    plan = tracker.planner.replan()
    assert set(plan.etas) == {"SO-1"}
    assert {order_id for order_id, _ in plan.operations} == {"SO-1"}


def test_quotes_need_the_supervisor_key(client: TestClient) -> None:
    body = {"product": "bracket", "quantity": 1}
    missing = client.post("/api/v1/quotes", json=body)
    wrong = client.post("/api/v1/quotes", json=body, headers={"X-API-Key": "x" * 31})

    assert missing.status_code == wrong.status_code == 401
    assert missing.json() == {"detail": "missing or bad API key"}


@pytest.mark.parametrize(
    ("body", "loc", "says"),
    [
        ({"product": "widget"}, ["body", "product"], "unknown product 'widget'"),
        ({"options": {"colour": "red"}}, ["body", "options", "colour"], "no option 'colour'"),
        ({"options": {"paint": "gold"}}, ["body", "options", "paint"], "allowed: none"),
        ({"options": "paint"}, ["body", "options"], "key=value"),
        (
            {"options": {"paint": "wet"}, "operations": _cut_and_weld()},
            ["body", "options"],
            "either operations",
        ),
        ({"quantity": 0}, ["body", "quantity"], "greater than or equal to 1"),
        ({"priority": 101}, ["body", "priority"], "less than or equal to 100"),
        ({"due_at": "2026-03-02T08:00:00"}, ["body", "due_at"], "timezone"),
    ],
)
def test_bad_quote_requests_are_422_naming_the_field(
    client: TestClient, body: dict[str, Any], loc: list[str], says: str
) -> None:
    response = client.post(
        "/api/v1/quotes", json={"product": "bracket", "quantity": 1, **body}, headers=AUTH
    )

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == loc
    assert says in error["msg"]


def test_an_explicit_routing_on_a_machine_nobody_knows_is_quoted_like_an_order(
    client: TestClient,
) -> None:
    ops = [_op(10, "saw-1", 0, 60), _op(20, "laser-9", 0, 60)]

    quote = _quote(client, quantity=1, operations=ops)

    # as an order would be: an unknown name is planned as a machine of its own, idle
    assert _times(quote) == [(10, "saw-1", T0, _s(60)), (20, "laser-9", _s(60), _s(120))]


def test_a_machine_named_by_an_open_order_is_quoted_as_a_machine_of_its_own(
    tracker: Tracker, client: TestClient
) -> None:
    _order(client, "SO-1", [_op(10, "laser-9", 0, 60)], quantity=10)  # laser-9 until +600 s
    tracker.planner.replan()

    quote = _quote(client, quantity=1, operations=[_op(10, "laser-9", 30, 60)])

    assert _times(quote) == [(10, "laser-9", _s(600), _s(690))]


def test_without_a_plant_file_quotes_plan_around_the_orders(
    make_tracker: Callable[..., Tracker], clock: Clock
) -> None:
    tracker = make_tracker(KEY, clock=clock, **QUIET)
    ops = _cut_and_weld()
    with TestClient(create_app(tracker)) as client:
        before = _quote(client, quantity=10, operations=ops)
        _order(client, "SO-1", [_op(10, "weld-1", 0, 10)], quantity=6)  # weld-1 until +60 s
        tracker.planner.replan()
        after = _quote(client, quantity=10, operations=ops)

    assert _times(before) == [(10, "saw-1", T0, _s(360)), (20, "weld-1", _s(360), _s(880))]
    assert _times(after) == _times(before)  # SO-1's weld ends before the quote needs weld-1


def test_a_higher_priority_quote_does_not_pass_an_operation_already_running(
    tracker: Tracker, client: TestClient
) -> None:
    _order(client, "SO-LOW", [_op(10, "saw-1", 100, 50)], quantity=10, priority=0)
    tracker.bus.handle(commands.StartJob("saw-1", "j1", "SO-LOW", 10, T0))
    plan = tracker.planner.replan()
    running = plan.operations[("SO-LOW", 10)]
    # started: no setup left, 10 parts x 50 s, pinned to saw-1
    assert (running.machine, running.start, running.end) == ("saw-1", T0, _s(500))

    due = (T0 + timedelta(minutes=5)).isoformat()
    quote = _quote(client, quantity=1, operations=[_op(10, "saw-1", 0, 60)], priority=9, due_at=due)

    assert _times(quote) == [(10, "saw-1", _s(500), _s(560))]


def test_an_order_booked_as_quoted_is_planned_to_finish_by_the_quote(
    tracker: Tracker, client: TestClient
) -> None:
    _order(client, "SO-URGENT", [_op(10, "saw-1", 0, 60)], quantity=10, due=timedelta(hours=1))
    tracker.planner.replan()
    ops = [_op(10, "saw-1", 0, 60)]
    due = T0 + timedelta(days=2)

    quote = _quote(client, quantity=1, operations=ops, priority=9, due_at=due.isoformat())
    _order(client, "SO-NEW", ops, quantity=1, priority=9, due=timedelta(days=2))
    plan = tracker.planner.replan()

    eta = plan.eta("SO-NEW")
    assert eta is not None and eta <= _dt(quote["completion"])
