"""Dispatch lists on a real broker and real SQLite and PostgreSQL: what each machine is told to
work next after a replan, retained, and only when it changed."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor.contract.payloads import DispatchList, parse_dispatch
from shopfloor.contract.topics import dispatch_subscription, dispatch_topic
from tests.clock import T0, Clock
from tests.integration.api_keys import SUPERVISOR, as_, create, make
from tests.services import Mosquitto
from tests.waiting import wait_for
from tracker.adapters import orm
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.bootstrap import Tracker

pytestmark = pytest.mark.integration


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], clock: Clock) -> Tracker:
    """On the test clock, its own site; replans when the test asks (or 10 s after an event)."""
    site = f"site{secrets.token_hex(3)}"
    return make(make_tracker, clock=clock, site=site, check_interval_s=3600, replan_debounce_s=300)


class Watcher:
    """A client subscribed to every dispatch list of a site; keeps what it receives."""

    def __init__(self, mosquitto: Mosquitto, site: str) -> None:
        self.received: list[tuple[str, DispatchList, bool]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"w-{secrets.token_hex(4)}"
        )
        self.client.on_connect = lambda c, *_: c.subscribe(dispatch_subscription(site), qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(mosquitto.host, mosquitto.port)
        self.client.loop_start()
        assert subscribed.wait(10)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.received.append((msg.topic, parse_dispatch(msg.payload), msg.retain))

    def latest(self) -> dict[str, DispatchList]:
        """The newest list received for each machine."""
        with self._lock:
            return {dispatch.machine: dispatch for _topic, dispatch, _retain in self.received}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def watch(mosquitto: Mosquitto, tracker: Tracker) -> Iterator[Callable[[], Watcher]]:
    """Subscribe (again) to the tracker's dispatch lists: a newcomer gets the retained ones."""
    watchers: list[Watcher] = []

    def subscribe() -> Watcher:
        watchers.append(Watcher(mosquitto, tracker.settings.site))
        return watchers[-1]

    yield subscribe
    for watcher in watchers:
        watcher.close()


def _create(client: TestClient, order_id: str, quantity: int, due: timedelta) -> None:
    """`quantity` parts: 60 s + 30 s/part on saw-1, then weld-1."""
    create(client, order_id, quantity=quantity, due_at=(T0 + due).isoformat())


def _replan_and_publish(tracker: Tracker) -> None:
    """Replan now and wait until the dispatch lists of the newest plan are out."""
    tracker.planner.replan()
    dispatch = tracker.dispatch_list_publisher
    assert dispatch is not None
    wait_for(lambda: dispatch.done is tracker.planner.current, "the dispatch lists", 15)


def _good(tracker: Tracker, order_id: str) -> int:
    with SqlUnitOfWork(tracker.sessions) as uow:
        order = uow.get_order(order_id)
        assert order is not None
        return order.operations[0].good_qty


def _event(machine: mqtt.Client, site: str, body: dict[str, Any]) -> None:
    topic = f"shopfloor/{site}/line1/saw-1/event"
    machine.publish(topic, json.dumps(body), qos=1).wait_for_publish(5)


def _jobs(dispatch: DispatchList) -> list[tuple[str, int, int, bool]]:
    return [(j.order_id, j.operation, j.quantity, j.ready) for j in dispatch.jobs]


def test_each_machine_gets_its_jobs_in_plan_order_and_the_next_operation_becomes_ready(
    tracker: Tracker, client: TestClient, watch: Callable[[], Watcher], machine: mqtt.Client
) -> None:
    site = tracker.settings.site
    _create(client, "SO-LATER", quantity=6, due=timedelta(days=2))
    _create(client, "SO-SOONER", quantity=4, due=timedelta(days=1))
    _replan_and_publish(tracker)

    # a machine or terminal that connects now gets its current list at once (retained)
    first = watch()
    wait_for(lambda: len(first.received) == 2, "two retained lists", 15)
    assert sorted((topic, retain) for topic, _d, retain in first.received) == [
        (dispatch_topic(site, "saw-1"), True),
        (dispatch_topic(site, "weld-1"), True),
    ]
    lists = first.latest()
    # earliest due date first; only the first operation of each order is ready
    assert _jobs(lists["saw-1"]) == [("SO-SOONER", 10, 4, True), ("SO-LATER", 10, 6, True)]
    assert _jobs(lists["weld-1"]) == [("SO-SOONER", 20, 4, False), ("SO-LATER", 20, 6, False)]
    sooner = lists["saw-1"].jobs[0]
    assert (sooner.name, sooner.setup_s, sooner.cycle_s) == ("cut", 60.0, 30.0)
    assert (sooner.planned_start, sooner.planned_end) == (T0, T0 + timedelta(seconds=180))
    assert sooner.due_at == T0 + timedelta(days=1)
    assert lists["saw-1"].plan_made_at == T0

    # saw-1 starts SO-SOONER and makes 2 of its 4 parts: 2 left, its setup done
    start = {"event_id": "j1", "type": "job_start", "order_id": "SO-SOONER", "operation": 10}
    _event(machine, site, {**start, "ts": T0.isoformat()})
    for n in (1, 2):
        at = T0 + timedelta(seconds=30 * n)
        cycle = {"event_id": f"c{n}", "type": "cycle", "counter": n, "cycle_time_s": 30.0}
        _event(machine, site, {**cycle, "ts": at.isoformat()})
    wait_for(lambda: _good(tracker, "SO-SOONER") == 2, "two good parts", 15)
    _replan_and_publish(tracker)
    wait_for(lambda: first.latest()["saw-1"].jobs[0].quantity == 2, "2 parts left", 15)
    running = first.latest()["saw-1"].jobs[0]
    assert (running.order_id, running.setup_s, running.ready) == ("SO-SOONER", 0.0, True)

    # the last two parts complete operation 10: it leaves saw-1, and weld-1 may start 20
    cycle = {"event_id": "c3", "type": "cycle", "counter": 4, "cycle_time_s": 30.0}
    _event(machine, site, {**cycle, "ts": (T0 + timedelta(seconds=120)).isoformat()})
    wait_for(lambda: _good(tracker, "SO-SOONER") == 4, "operation 10 complete", 15)
    _replan_and_publish(tracker)
    wait_for(lambda: len(first.latest()["saw-1"].jobs) == 1, "SO-SOONER off saw-1", 15)
    wait_for(lambda: first.latest()["weld-1"].jobs[0].ready, "SO-SOONER ready on weld-1", 15)
    lists = first.latest()
    assert _jobs(lists["saw-1"]) == [("SO-LATER", 10, 6, True)]
    assert _jobs(lists["weld-1"]) == [("SO-SOONER", 20, 4, True), ("SO-LATER", 20, 6, False)]

    # nothing moved: a replan publishes nothing, and a newcomer gets the same lists retained
    assert tracker.dispatch_list_publisher is not None
    seen, published = len(first.received), tracker.dispatch_list_publisher.messages
    _replan_and_publish(tracker)
    time.sleep(0.5)
    assert (len(first.received), tracker.dispatch_list_publisher.messages) == (seen, published)
    second = watch()
    wait_for(lambda: len(second.received) == 2, "two retained lists", 15)
    assert {m: _jobs(d) for m, d in second.latest().items()} == {
        m: _jobs(d) for m, d in lists.items()
    }


def test_a_machine_left_with_nothing_planned_is_told_its_list_is_empty(
    tracker: Tracker, client: TestClient, watch: Callable[[], Watcher]
) -> None:
    _create(client, "SO-1", quantity=2, due=timedelta(days=1))
    _replan_and_publish(tracker)
    watcher = watch()
    wait_for(lambda: set(watcher.latest()) == {"saw-1", "weld-1"}, "both lists", 15)

    response = client.post(
        "/api/v1/orders/SO-1/cancel", json={"reason": "withdrawn"}, headers=as_(SUPERVISOR)
    )
    assert response.status_code == 200, response.text
    _replan_and_publish(tracker)

    lists = watcher.latest
    wait_for(lambda: all(not d.jobs for d in lists().values()), "empty lists for both", 15)


def test_the_dispatch_lists_can_be_turned_off(
    make_tracker: Callable[..., Tracker], clock: Clock
) -> None:
    tracker = make(make_tracker, clock=clock, publish_dispatch=False)
    try:
        assert tracker.dispatch_list_publisher is None
        tracker.planner.replan()  # nothing to tell, nothing fails
    finally:
        tracker.engine.dispose()


def test_the_dispatch_lists_keep_flowing_past_a_machine_no_list_can_name(
    tracker: Tracker,
    client: TestClient,
    watch: Callable[[], Watcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # a machine row stored before ids were bounded: no topic may hold a `+`
    with tracker.engine.begin() as conn:
        conn.execute(orm.machines.insert().values(machine_id="bad+machine", state="IDLE"))
    _create(client, "SO-1", quantity=2, due=timedelta(days=1))
    _replan_and_publish(tracker)
    watcher = watch()
    wait_for(lambda: set(watcher.latest()) == {"saw-1", "weld-1"}, "the good lists", 15)

    # the next plans still reach the machines after it; its failure is logged once
    _create(client, "SO-2", quantity=3, due=timedelta(days=2))
    _replan_and_publish(tracker)
    wait_for(lambda: len(watcher.latest()["weld-1"].jobs) == 2, "SO-2 on weld-1", 15)
    _replan_and_publish(tracker)
    logged = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and "bad+machine" in r.getMessage()
    ]
    assert len(logged) == 1 and logged[0].exc_info is not None
