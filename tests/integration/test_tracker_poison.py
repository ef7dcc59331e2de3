"""A hostile publisher against the tracker on a real Mosquitto: thousands of poison messages
(deep nesting, huge numbers, long and odd identifiers, random bytes, retained junk) are
rejected, dead-lettered and acknowledged, and a good event still applies at once."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from shopfloor.mqtt import MqttSettings
from tests.services import Mosquitto, run_mosquitto
from tests.waiting import wait_for
from tracker.adapters import orm
from tracker.adapters.migrations import upgrade
from tracker.bootstrap import Tracker
from tracker.entrypoints.api import create_app
from tracker.entrypoints.mqtt_consumer import DEAD_LETTER_TOPIC, EventConsumer
from tracker.settings import TrackerSettings

pytestmark = pytest.mark.integration

EXAMPLES, PER_EXAMPLE = 20, 100  # 2,000 poison messages in all


def _broker_takes(char: str) -> bool:
    """Mosquitto disconnects a client whose topic holds a non-character (U+FDD0-FDEF, U+xFFFE,
    U+xFFFF); control characters, surrogates and wildcards it refuses too."""
    code = ord(char)
    return not (0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE)


# one topic level as a hostile client may send it: odd characters (format, private use,
# unassigned, spaces, any script), up to 300 of them
_LEVEL = st.text(
    st.characters(exclude_categories=["Cs", "Cc"], exclude_characters="/+#").filter(_broker_takes),
    min_size=1,
    max_size=300,
)
_WORD = st.sampled_from(["plant1", "line1", "saw-1", "p", "l"])
_NESTED = st.integers(500, 6000).flatmap(
    lambda n: st.sampled_from([b"[" * n + b"]" * n, b'{"a":' * n + b"1" + b"}" * n])
)
_HUGE = st.builds(
    lambda field, value: {"event_id": "e1", "type": "cycle", "counter": 1, field: value},
    st.sampled_from(["counter", "scrap_counter", "operation", "cycle_time_s"]),
    st.integers(min_value=2**63) | st.integers(max_value=-1) | st.floats(),
)
_ODD_IDS = st.builds(
    lambda event_id, order_id, kind: {
        "event_id": event_id,
        "type": kind,
        "order_id": order_id,
        "operation": 10,
        "code": event_id,
        "message": order_id,
        "state": "IDLE",
    },
    st.text(max_size=200),
    st.text(max_size=100),
    st.sampled_from(["job_start", "job_end", "alarm", "state"]),
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
_PAYLOAD = st.one_of(
    _NESTED,
    (_HUGE | _ODD_IDS | _JSON).map(lambda body: json.dumps(body).encode()),
    st.binary(max_size=512),
)
_TOPIC = st.tuples(_WORD | _LEVEL, _WORD | _LEVEL, _WORD | _LEVEL).map(
    lambda levels: "shopfloor/{}/{}/{}/event".format(*levels)
)
_MESSAGE = st.tuples(_TOPIC, _PAYLOAD)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A broker of this module's own: its junk reaches no other test's tracker."""
    with run_mosquitto(tmp_path_factory.mktemp("mosquitto-poison")) as mosquitto:
        yield mosquitto


def _settings(broker: Mosquitto, path: Path, **changes: Any) -> TrackerSettings:
    mqtt_settings = MqttSettings(
        host=broker.host, port=broker.port, client_id=f"trk-{secrets.token_hex(4)}"
    )
    settings = TrackerSettings(
        database_url=f"sqlite:///{path}",
        api_key="k" * 32,
        mqtt=mqtt_settings,
        check_interval_s=3600,
        publish_dispatch=False,
        **changes,
    )
    upgrade(settings.database_url)
    return settings


def _started(settings: TrackerSettings) -> Tracker:
    tracker = Tracker(settings)
    tracker.start()
    assert tracker.consumer.wait_subscribed(10), "the tracker's subscription"
    return tracker


@pytest.fixture(scope="module")
def tracker(broker: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracker]:
    path = tmp_path_factory.mktemp("poison") / "t.db"
    tracker = _started(_settings(broker, path))
    yield tracker
    tracker.stop()


class Publisher:
    """A hostile client; also keeps the tracker's dead letters it hears."""

    def __init__(self, broker: Mosquitto) -> None:
        self.dead_letters: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"h-{secrets.token_hex(4)}"
        )
        self.client.on_connect = lambda c, *_: c.subscribe(DEAD_LETTER_TOPIC, qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert subscribed.wait(10)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.dead_letters.append(json.loads(msg.payload))

    def send(self, messages: list[tuple[str, bytes]], retain: bool = False) -> None:
        infos = [self.client.publish(t, p, qos=1, retain=retain) for t, p in messages]
        for info in infos:
            info.wait_for_publish(10)


@pytest.fixture(scope="module")
def publisher(broker: Mosquitto) -> Iterator[Publisher]:
    client = Publisher(broker)
    yield client
    client.client.disconnect()
    client.client.loop_stop()


def _settled(consumer: EventConsumer) -> int:
    return consumer.applied + sum(consumer.rejected.values()) + consumer.parked


def _state(tracker: Tracker, machine: str) -> str | None:
    with tracker.engine.connect() as conn:
        m = orm.machines.c
        return conn.scalar(select(m.state).where(m.machine_id == machine))


def _good_event_applies_at_once(tracker: Tracker, publisher: Publisher) -> float:
    """Publish a state event for a good machine; seconds until it is applied (1 at most)."""
    state = "RUNNING" if _state(tracker, "good-1") != "RUNNING" else "IDLE"
    body = {"event_id": secrets.token_hex(8), "type": "state", "state": state}
    started = time.monotonic()
    publisher.send([("shopfloor/plant1/line1/good-1/event", json.dumps(body).encode())])
    wait_for(lambda: _state(tracker, "good-1") == state, "the good event applied", 1.0)
    return time.monotonic() - started


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(_MESSAGE, min_size=PER_EXAMPLE, max_size=PER_EXAMPLE))
def test_poison_messages_are_rejected_and_acknowledged_and_a_good_event_still_applies(
    tracker: Tracker, publisher: Publisher, messages: list[tuple[str, bytes]]
) -> None:
    consumer = tracker.consumer
    expected = _settled(consumer) + len(messages)
    publisher.send(messages)
    wait_for(
        lambda: _settled(consumer) >= expected and consumer.lag == 0, "every message settled", 30
    )
    assert consumer.oldest_unacked_s() == 0.0
    assert "internal_error" not in consumer.rejected and consumer.parked == 0
    assert _good_event_applies_at_once(tracker, publisher) < 1.0
    rejected = sum(consumer.rejected.values())
    wait_for(lambda: len(publisher.dead_letters) >= rejected, "a dead letter per reject", 10)
    assert {"topic", "reason", "detail", "received_at"} <= set(publisher.dead_letters[-1])


def test_retained_junk_is_rejected_at_every_start_and_never_stalls_the_tracker(
    broker: Mosquitto, publisher: Publisher, tmp_path: Path
) -> None:
    site = f"junk{secrets.token_hex(3)}"
    junk = [
        (f"shopfloor/{site}/l/m{i}/event", b"[" * 3000 + b"]" * 3000 if i % 2 else b"\xff" * i)
        for i in range(1, 201)
    ]
    publisher.send(junk, retain=True)
    try:
        settings = _settings(broker, tmp_path / "t.db")
        for _start in range(2):  # the broker hands the retained junk to every new subscriber
            tracker = _started(settings)
            try:
                rejected = tracker.consumer.rejected
                wait_for(lambda: rejected.total() >= 200, "the junk", 30)  # noqa: B023
                assert rejected == {"invalid_json": 200}
                assert _good_event_applies_at_once(tracker, publisher) < 1.0
            finally:
                tracker.stop()
    finally:
        publisher.send([(topic, b"") for topic, _ in junk], retain=True)  # clears them


def test_readiness_fails_while_the_consumer_is_stuck_and_names_why(
    broker: Mosquitto, publisher: Publisher, tmp_path: Path
) -> None:
    settings = _settings(broker, tmp_path / "t.db", stuck_after_s=0.5)
    tracker = Tracker(settings)
    with TestClient(create_app(tracker)) as api:
        assert tracker.consumer.wait_subscribed(10), "the tracker's subscription"
        with tracker.engine.begin() as conn:  # the database fails every batch until mended
            conn.exec_driver_sql("ALTER TABLE alarms RENAME TO alarms_away")
        body = {"event_id": "a1", "type": "alarm", "code": "JAM", "message": "m"}
        publisher.send([("shopfloor/p/l/saw-1/event", json.dumps(body).encode())])
        wait_for(lambda: api.get("/readyz").status_code == 503, "not ready", 10)
        stuck = api.get("/readyz").json()
        assert stuck["events"].startswith("failed: stuck: the oldest unacknowledged event is")
        assert (stuck["database"], stuck["mqtt"], stuck["lag"]) == ("ok", "ok", 1)
        metrics = api.get("/metrics").text
        assert "shopfloor_tracker_events_lag 1.0" in metrics
        assert "shopfloor_tracker_events_oldest_unacked_seconds" in metrics
        with tracker.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE alarms_away RENAME TO alarms")
        wait_for(lambda: api.get("/readyz").status_code == 200, "ready again", 40)
        assert api.get("/readyz").json()["lag"] == 0
