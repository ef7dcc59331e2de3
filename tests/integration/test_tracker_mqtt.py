"""The tracker consuming machine events from a real Mosquitto and publishing alerts to it."""

from __future__ import annotations

import contextlib
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
from sqlalchemy import Engine, select, text

from shopfloor.contract.topics import alert_subscription
from shopfloor.mqtt import MqttSettings
from tests.processes import Process
from tests.services import Mosquitto, free_port
from tests.waiting import wait_for
from tracker.adapters import orm
from tracker.adapters.database import make_engine
from tracker.adapters.migrations import upgrade
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.entrypoints.mqtt_consumer import EventConsumer
from tracker.settings import TrackerSettings

pytestmark = pytest.mark.integration


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
    assert t.consumer.wait_subscribed(10), "the tracker's subscription"
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
    with SqlUnitOfWork(tracker.sessions) as uow:
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


def _alarm(mqtt_client: mqtt.Client, event_id: str, machine: str = "saw-9") -> None:
    body = {"event_id": event_id, "type": "alarm", "code": "JAM", "message": "feeder jammed"}
    info = mqtt_client.publish(f"shopfloor/p/l/{machine}/event", json.dumps(body), qos=1)
    info.wait_for_publish(5)


def _alarm_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(orm.alarms.c.event_id)))


def _tracker_process(
    name: str, database_url: str, client_id: str, mosquitto: Mosquitto, log_dir: Path
) -> Process:
    env = {
        "SHOPFLOOR_MQTT__HOST": mosquitto.host,
        "SHOPFLOOR_MQTT__PORT": str(mosquitto.port),
        "SHOPFLOOR_MQTT__CLIENT_ID": client_id,
        "SHOPFLOOR_DATABASE_URL": database_url,
        "SHOPFLOOR_API_KEY": "k" * 32,
        "SHOPFLOOR_API_PORT": str(free_port()),
    }
    tracker = Process(name, ["tracker"], env, log_dir)
    tracker.wait_for_log("subscribed to")
    return tracker


def test_events_taken_but_not_committed_when_the_tracker_dies_come_again_and_count_once(
    database_url: str, mosquitto: Mosquitto, mqtt_client: mqtt.Client, tmp_path: Path
) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    client_id = f"trk-crash-{secrets.token_hex(4)}"  # one persistent session for all three
    first = _tracker_process("tracker-1", database_url, client_id, mosquitto, tmp_path)
    with engine.begin() as conn:  # the tracker receives the events but cannot commit them
        conn.exec_driver_sql("ALTER TABLE alarms RENAME TO alarms_away")
    try:
        for i in range(40):
            _alarm(mqtt_client, f"a{i}")
        _alarm(mqtt_client, "a7")  # a redelivery of its own
        first.wait_for_log("could not apply")
        first.proc.kill()  # dies holding unacknowledged messages
        first.proc.wait(10)
    finally:
        first.stop()
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE alarms_away RENAME TO alarms")
    assert _alarm_ids(engine) == []
    second = _tracker_process("tracker-2", database_url, client_id, mosquitto, tmp_path)
    try:
        wait_for(lambda: len(_alarm_ids(engine)) >= 40, what="40 alarms")
        time.sleep(0.3)  # anything counted twice would land now
    finally:
        assert second.stop() == 0
    assert _alarm_ids(engine) == sorted(f"a{i}" for i in range(40))
    # the second tracker acknowledged what it committed: nothing comes a third time
    third = _tracker_process("tracker-3", database_url, client_id, mosquitto, tmp_path)
    try:
        time.sleep(1.0)
    finally:
        assert third.stop() == 0
    assert "already applied" not in third.log()
    assert len(_alarm_ids(engine)) == 40
    engine.dispose()


@contextlib.contextmanager
def _database_outage(engine: Engine, consumer: EventConsumer) -> Iterator[None]:
    """Make the tracker's next batch fail on the database; mend it when the block ends."""
    # SQLite: the alarms table is renamed away (no such table). PostgreSQL: the batch waits on
    # a lock held here, and its connection is terminated as an administrator would (the error
    # a server restart gives)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE alarms RENAME TO alarms_away")
        try:
            yield
            wait_for(lambda: consumer.failures >= 1, what="a failed batch")
            assert consumer.applied == 0
        finally:
            with engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE alarms_away RENAME TO alarms")
        return
    with engine.connect() as holder, engine.connect() as admin:
        holder.begin()
        holder.exec_driver_sql("LOCK TABLE alarms IN ACCESS EXCLUSIVE MODE")
        try:
            yield
            waiting = text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            wait_for(lambda: bool(admin.execute(waiting).all()), what="the batch to wait")
            for (pid,) in admin.execute(waiting).all():
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            wait_for(lambda: consumer.failures >= 1, what="a failed batch")
            assert consumer.applied == 0
        finally:
            holder.rollback()


def test_a_database_outage_delays_events_but_neither_loses_nor_doubles_them(
    make_tracker: Callable[..., Tracker], mqtt_client: mqtt.Client, database_url: str
) -> None:
    tracker = make_tracker("k" * 32)
    tracker.start()
    engine = make_engine(database_url)
    try:
        wait_for(lambda: tracker.client.is_connected(), what="tracker connected")
        assert tracker.consumer.wait_subscribed(10), "the tracker's subscription"
        with _database_outage(engine, tracker.consumer):
            for i in range(30):
                _alarm(mqtt_client, f"o{i}")
        wait_for(lambda: len(_alarm_ids(engine)) == 30, what="30 alarms")
        _alarm(mqtt_client, "o3")  # sent again: already applied
        wait_for(lambda: tracker.consumer.redelivered == 1, what="the redelivery")
        assert _alarm_ids(engine) == sorted(f"o{i}" for i in range(30))
    finally:
        tracker.stop()
        engine.dispose()
