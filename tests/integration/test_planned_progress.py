"""Order progress with the plan on real SQLite and PostgreSQL and a real broker: planned machine
and times per operation (current plan, frozen at start), queue-aware ETAs, counter wraps."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.clock import T0, Clock
from tests.waiting import wait_for
from tracker.adapters import orm
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.bootstrap import Tracker
from tracker.domain.model import Order

pytestmark = pytest.mark.integration

KEY = "supervisor-key-" + "p" * 16
AUTH = {"X-API-Key": KEY}
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plant.yaml"


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], clock: Clock) -> Tracker:
    """The example plant on the test clock; replans only when the test asks, within 10 s."""
    # a replan asked for by an event waits 10 s (the planner's longest delay)
    return make_tracker(
        KEY, clock=clock, plant_file=EXAMPLE, check_interval_s=3600, replan_debounce_s=300
    )


def _create(
    client: TestClient, order_id: str, due: timedelta = timedelta(days=2), quantity: int = 10
) -> str:
    """An order of `quantity` parts: 60 s + 30 s/part on saw-1, then 120 s + 40 s/part on
    weld-1 (360 s and 520 s for 10 parts); returns its access token."""
    body = {
        "order_id": order_id,
        "customer": "ACME",
        "product": "bracket",
        "quantity": quantity,
        "due_at": (T0 + due).isoformat(),
        "operations": [
            {"seq": 10, "name": "cut", "machine": "saw-1", "setup_s": 60, "cycle_s": 30},
            {"seq": 20, "name": "weld", "machine": "weld-1", "setup_s": 120, "cycle_s": 40},
        ],
    }
    response = client.post("/api/v1/orders", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


def _progress(client: TestClient, order_id: str, token: str) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/orders/{order_id}/progress", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _planned(progress: dict[str, Any]) -> list[tuple[int, str | None, datetime, datetime]]:
    return [
        (op["seq"], op["planned_machine"], _dt(op["planned_start"]), _dt(op["planned_end"]))
        for op in progress["operations"]
    ]


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _order(tracker: Tracker, order_id: str) -> Order:
    with SqlUnitOfWork(tracker.sessions) as uow:
        order = uow.get_order(order_id)
        assert order is not None
        return order


def _last_counter(tracker: Tracker, machine_id: str) -> int | None:
    m = orm.machines.c
    with tracker.engine.connect() as conn:
        counter = conn.scalar(select(m.last_counter).where(m.machine_id == machine_id))
    return None if counter is None else int(counter)


def _ms(at: datetime) -> int:
    """Epoch milliseconds, as PLCs send `ts`."""
    return int(at.timestamp() * 1000)


def _publish_until(
    machine: mqtt.Client, machine_id: str, event: dict[str, Any], done: Callable[[], bool]
) -> None:
    """Publish one event until the tracker shows it applied (its subscription may still be on
    its way; the event id makes repeats harmless), for at most 15 s."""
    topic = f"shopfloor/plant1/line1/{machine_id}/event"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        machine.publish(topic, json.dumps(event), qos=1).wait_for_publish(5)
        for _ in range(20):
            if done():
                return
            time.sleep(0.05)
    raise AssertionError(f"the tracker never applied {event}")


def test_a_new_orders_progress_shows_where_and_when_the_plan_puts_each_operation(
    tracker: Tracker, client: TestClient
) -> None:
    token = _create(client, "SO-1")
    tracker.planner.replan()

    progress = _progress(client, "SO-1", token)

    assert _planned(progress) == [(10, "saw-1", T0, _s(360)), (20, "weld-1", _s(360), _s(880))]
    assert _dt(progress["eta"]) == _s(880)
    assert progress["on_time"] is True


def test_an_order_queued_behind_another_on_its_machine_has_the_queue_in_its_eta(
    tracker: Tracker, client: TestClient
) -> None:
    _create(client, "SO-FIRST", due=timedelta(hours=1))
    token = _create(client, "SO-QUEUED", due=timedelta(days=2))
    tracker.planner.replan()

    progress = _progress(client, "SO-QUEUED", token)

    # earliest due date first: SO-FIRST holds saw-1 to 360 s and weld-1 to 880 s
    assert _planned(progress) == [
        (10, "saw-1", _s(360), _s(720)),
        (20, "weld-1", _s(880), _s(1400)),
    ]
    # its own work alone (360 + 520 s) would end at 880 s: the queue is in the ETA
    assert _dt(progress["eta"]) == _s(1400)


def test_an_order_not_in_the_plan_yet_shows_no_planned_times(
    tracker: Tracker, client: TestClient
) -> None:
    token = _create(client, "SO-1")  # the plan in use was made at start, without it

    progress = _progress(client, "SO-1", token)

    assert [
        (op["planned_machine"], op["planned_start"], op["planned_end"])
        for op in progress["operations"]
    ] == [(None, None, None), (None, None, None)]
    # the ETA is the order's own projection: its work from now
    assert _dt(progress["eta"]) == _s(880)


def test_a_started_operation_keeps_its_planned_times_while_the_next_ones_move(
    tracker: Tracker, client: TestClient, clock: Clock, machine: mqtt.Client
) -> None:
    token = _create(client, "SO-1")
    tracker.planner.replan()
    start = {"event_id": "j1", "type": "job_start", "order_id": "SO-1", "operation": 10}
    _publish_until(
        machine,
        "saw-1",
        {**start, "ts": T0.isoformat()},
        lambda: _order(tracker, "SO-1").operations[0].started_at is not None,
    )

    # a quarter of an hour later no part is made yet: the plan moves, the baseline stays
    clock.now = T0 + timedelta(minutes=15)
    plan = tracker.planner.replan()
    progress = _progress(client, "SO-1", token)

    # the current plan: the running cut has its 10 parts (no setup) left from now
    assert (plan.operations[("SO-1", 10)].start, plan.operations[("SO-1", 10)].end) == (
        _s(900),
        _s(1200),
    )
    assert _planned(progress) == [
        (10, "saw-1", T0, _s(360)),  # frozen when it started
        (20, "weld-1", _s(1200), _s(1720)),  # from the current plan
    ]
    assert progress["operations"][0]["state"] == "running"
    assert _dt(progress["eta"]) == _s(1720)


def test_counter_wraps_come_from_the_setting_per_machine_then_the_plant_file_then_the_global(
    make_tracker: Callable[..., Tracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPFLOOR_COUNTER_WRAPS", '{"weld-1": 4096, "saw-2": 1000}')
    monkeypatch.setenv("SHOPFLOOR_COUNTER_WRAP", "100000")
    tracker = make_tracker(KEY, plant_file=EXAMPLE)

    assert tracker.counter_wrap("weld-1") == 4096  # the setting beats the plant file's 65536
    assert tracker.counter_wrap("saw-2") == 1000
    assert tracker.counter_wrap("saw-1") == 100000  # nothing per machine: the global one
    assert tracker.counter_wrap("laser-9") == 100000  # not in the plant at all
    tracker.engine.dispose()


def test_the_plant_files_counter_wrap_beats_the_global_one(
    make_tracker: Callable[..., Tracker],
) -> None:
    with_global = make_tracker(KEY, plant_file=EXAMPLE, counter_wrap=1000)
    without = make_tracker(KEY, plant_file=EXAMPLE)

    assert (with_global.counter_wrap("weld-1"), with_global.counter_wrap("saw-1")) == (65536, 1000)
    assert (without.counter_wrap("weld-1"), without.counter_wrap("saw-1")) == (65536, None)
    with_global.engine.dispose()
    without.engine.dispose()


def test_a_counter_wrapping_at_the_plant_files_value_counts_across_the_wrap(
    tracker: Tracker, client: TestClient, machine: mqtt.Client
) -> None:
    body = {
        "order_id": "SO-W",
        "customer": "ACME",
        "product": "bracket",
        "quantity": 20,
        "due_at": (T0 + timedelta(days=2)).isoformat(),
        "operations": [
            {"seq": 20, "name": "weld", "machine": "weld-1", "setup_s": 0, "cycle_s": 40}
        ],
    }
    assert client.post("/api/v1/orders", json=body, headers=AUTH).status_code == 201
    _publish_until(
        machine,
        "weld-1",
        {"event_id": "w0", "type": "job_start", "order_id": "SO-W", "operation": 20, "ts": _ms(T0)},
        lambda: _order(tracker, "SO-W").operations[0].started_at is not None,
    )

    # 65534 (the first value: one part), 65535, then 5 after the 16-bit wrap: 1 + 1 + 6
    for n, counter in enumerate((65534, 65535, 5), start=1):
        ts = _ms(T0 + timedelta(seconds=40 * n))
        event = {"event_id": f"w{n}", "type": "cycle", "counter": counter, "ts": ts}
        machine.publish("shopfloor/plant1/line1/weld-1/event", json.dumps(event), qos=1)

    wait_for(lambda: _last_counter(tracker, "weld-1") == 5, "the last cycle applied")
    # a reset (no wrap known) would have counted 5 for the last one, 7 in all
    assert _order(tracker, "SO-W").operations[0].good_qty == 8
