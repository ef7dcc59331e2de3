"""Downtime from a real Mosquitto: a breakdown and its alarm, published as a machine would,
become a record with the reason the plant file maps the alarm to."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.services import Mosquitto
from tests.waiting import wait_for
from tracker.bootstrap import Tracker
from tracker.views import downtime as views

pytestmark = pytest.mark.integration


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], tmp_path: Path) -> Iterator[Tracker]:
    plant = tmp_path / "plant.yaml"
    plant.write_text(
        "machines: [{id: saw-7, alarm_reasons: {SP-301: spindle}}]\n"
        "reasons:\n  spindle: {name: Spindle fault, category: mechanical}\n",
        encoding="utf-8",
    )
    t = make_tracker("k" * 32, plant_file=plant)
    t.start()
    wait_for(lambda: t.client.is_connected(), what="tracker connected")
    assert t.consumer.wait_subscribed(10), "the tracker's subscription"
    yield t
    t.stop()


def _records(tracker: Tracker) -> list[dict[str, Any]]:
    with tracker.read_sessions() as session:
        return views.records(session, datetime.now(UTC), 60)


def test_a_breakdown_over_mqtt_is_a_record_with_its_alarm_s_reason(
    tracker: Tracker, mosquitto: Mosquitto
) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    down_at = datetime.now(UTC) - timedelta(minutes=10)
    events = [
        {"event_id": "d1", "type": "state", "state": "RUNNING", "ts": down_at - timedelta(hours=1)},
        {"event_id": "d2", "type": "state", "state": "DOWN", "ts": down_at},
        {"event_id": "d3", "type": "alarm", "code": "SP-301", "message": "hot", "ts": down_at},
        {
            "event_id": "d4",
            "type": "state",
            "state": "RUNNING",
            "ts": down_at + timedelta(minutes=4),
        },
    ]
    try:
        for body in events:
            payload = json.dumps(body, default=datetime.isoformat)
            client.publish("shopfloor/p/l/saw-7/event", payload, qos=1).wait_for_publish(5)
        wait_for(
            lambda: [r["ended_at"] is not None for r in _records(tracker)] == [True],
            what="a closed downtime record",
        )
    finally:
        client.disconnect()
        client.loop_stop()
    (record,) = _records(tracker)
    assert (record["alarm_code"], record["reason"], record["lost_s"]) == (
        "SP-301",
        "spindle",
        240.0,
    )
