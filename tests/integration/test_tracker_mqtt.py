"""The tracker consuming machine events from a real Mosquitto and publishing alerts to it."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor.contract.topics import alert_subscription
from shopfloor.mqtt import MqttSettings
from tests.services import Mosquitto
from tracker.adapters.database import UnitOfWork
from tracker.adapters.migrations import upgrade
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.settings import TrackerSettings

pytestmark = pytest.mark.integration


def wait_for(check: Callable[[], bool], timeout_s: float = 15, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def tracker(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Tracker]:
    settings = TrackerSettings(
        database_url=f"sqlite:///{tmp_path / 't.db'}",
        api_key="k" * 32,
        check_interval_s=0.2,
        at_risk_slack_s=60,
        site=f"site{secrets.token_hex(3)}",
        mqtt=MqttSettings(
            host=mosquitto.host, port=mosquitto.port, client_id=f"trk-{secrets.token_hex(4)}"
        ),
    )
    upgrade(settings.database_url)
    t = Tracker(settings)
    t.start()
    wait_for(lambda: t.client.is_connected(), what="tracker connected")
    time.sleep(0.2)  # SUBACK
    yield t
    t.stop()


@pytest.fixture
def mqtt_client(mosquitto: Mosquitto) -> Iterator[mqtt.Client]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def _order(tracker: Tracker, order_id: str, due: timedelta) -> None:
    tracker.bus.handle(
        commands.CreateOrder(
            order_id=order_id,
            customer="ACME",
            product="p",
            quantity=3,
            due_at=datetime.now(UTC) + due,
            token_hash="0" * 64,
            operations=(
                commands.OperationSpec(10, "cut", "saw-9", 0, 1.0),
                commands.OperationSpec(20, "weld", "weld-9", 0, 1.0),
            ),
        )
    )


def _good(tracker: Tracker, order_id: str) -> list[int]:
    with UnitOfWork(tracker.sessions) as uow:
        order = uow.get_order(order_id)
        assert order is not None
        return [op.good_qty for op in order.operations]


def test_redelivered_and_malformed_events_neither_double_count_nor_stop_the_tracker(
    tracker: Tracker, mqtt_client: mqtt.Client
) -> None:
    _order(tracker, "SO-M1", timedelta(days=1))
    topic = "shopfloor/p/l/saw-9/event"

    def send(body: dict[str, object] | bytes) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        mqtt_client.publish(topic, payload, qos=1).wait_for_publish(5)

    send({"event_id": "a1", "type": "job_start", "order_id": "SO-M1", "operation": 10})
    send({"event_id": "a2", "type": "cycle", "counter": 41})
    send({"event_id": "a2", "type": "cycle", "counter": 41})  # redelivered
    send(b'{"event_id": "a3", "type": "cycle", "counter": "many"}')
    send(b"garbage")
    send({"event_id": "a4", "type": "cycle", "counter": 42})
    wait_for(lambda: _good(tracker, "SO-M1") == [2, 0], what="two good parts")
    assert tracker.consumer.rejected == {"schema": 1, "invalid_json": 1}


def test_late_order_alert_is_published_once(tracker: Tracker, mosquitto: Mosquitto) -> None:
    received: list[dict[str, object]] = []
    subscribed = threading.Event()
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2)
    watcher.on_connect = lambda c, *_: c.subscribe(alert_subscription(tracker.settings.site), qos=1)
    watcher.on_subscribe = lambda *_: subscribed.set()
    watcher.on_message = lambda _c, _u, m: received.append(json.loads(m.payload))
    watcher.connect(mosquitto.host, mosquitto.port)
    watcher.loop_start()
    try:
        assert subscribed.wait(10)
        _order(tracker, "SO-LATE", timedelta(seconds=1))  # 6 s of work
        _order(tracker, "SO-FINE", timedelta(hours=1))
        wait_for(lambda: len(received) == 1, what="an alert")
        time.sleep(1.5)  # ~7 periodic checks
    finally:
        watcher.disconnect()
        watcher.loop_stop()
    assert [(a["order_id"], a["schedule_status"], a["event"]) for a in received] == [
        ("SO-LATE", "late", "raised")
    ]
    assert (received[0]["severity"], received[0]["version"]) == ("critical", 1)
    assert datetime.fromisoformat(str(received[0]["eta"])) > datetime.fromisoformat(
        str(received[0]["due"])
    )
