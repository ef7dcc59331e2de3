"""Incident delivery on a real Mosquitto and to a webhook: a breakdown delaying two orders is
one incident, published once per transition (opened, acknowledged, closed) with both orders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor.contract.topics import incident_subscription
from tests.integration.live_tracker import running_tracker
from tests.integration.mqtt_watch import watching
from tests.integration.test_alert_scenario import WebhookReceiver
from tests.services import Mosquitto
from tests.waiting import wait_for
from tracker.bootstrap import Tracker
from tracker.domain import commands

pytestmark = pytest.mark.integration


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def tracker(mosquitto: Mosquitto, tmp_path: Path, hook: WebhookReceiver) -> Iterator[Tracker]:
    with running_tracker(
        mosquitto, tmp_path, check_interval_s=0.2, offline_after_s=86400, webhook_urls=[hook.url]
    ) as t:
        yield t


@pytest.fixture
def seen(tracker: Tracker, mosquitto: Mosquitto) -> Iterator[list[dict[str, Any]]]:
    with watching(mosquitto, incident_subscription(tracker.settings.site)) as received:
        yield received


def _order(order_id: str) -> commands.CreateOrder:
    return commands.CreateOrder(
        order_id=order_id,
        customer="ACME",
        product="p",
        quantity=4,
        due_at=datetime.now(UTC) + timedelta(days=1),
        token_hash="0" * 64,
        operations=(commands.OperationSpec(10, "cut", "saw-8", 0, 60.0),),
    )


def test_a_breakdown_is_one_incident_on_mqtt_and_the_webhook_per_transition(
    tracker: Tracker, mosquitto: Mosquitto, seen: list[dict[str, Any]], hook: WebhookReceiver
) -> None:
    tracker.bus.handle_batch([_order("SO-A"), _order("SO-B")])
    machine = mqtt.Client(CallbackAPIVersion.VERSION2)
    machine.connect(mosquitto.host, mosquitto.port)
    machine.loop_start()

    def send(n: int, **body: object) -> None:
        payload = {"event_id": f"e{n}", "ts": datetime.now(UTC).isoformat(), **body}
        info = machine.publish("shopfloor/p/l/saw-8/event", json.dumps(payload).encode(), qos=1)
        info.wait_for_publish(5)

    def events() -> list[tuple[int, str, list[str]]]:
        return [(m["version"], m["event"], [o["order_id"] for o in m["orders"]]) for m in seen]

    try:
        send(1, type="alarm", code="E-42", message="blade broken")
        send(2, type="state", state="DOWN")
        wait_for(lambda: any(len(m["orders"]) == 2 for m in seen), what="both orders under it")
        incident_id = seen[0]["incident_id"]
        tracker.bus.handle(commands.AcknowledgeIncident(incident_id, "ann", "fitter called"))
        wait_for(lambda: seen[-1]["event"] == "acknowledged", what="the acknowledgement")
        send(3, type="state", state="RUNNING")
        wait_for(lambda: seen[-1]["event"] == "closed", what="the closing")
        wait_for(lambda: len(hook.bodies) == len(seen) + 6, what="the webhook bodies")
    finally:
        machine.disconnect()
        machine.loop_stop()

    topic = f"shopfloor/{tracker.settings.site}/alerts/incident/saw-8/{incident_id}"
    assert {m["topic"] for m in seen} == {topic}
    assert events()[-2:] == [
        (len(seen) - 1, "acknowledged", ["SO-A", "SO-B"]),
        (len(seen), "closed", ["SO-A", "SO-B"]),
    ]
    assert events()[0][:2] == (1, "opened")
    assert (seen[0]["reason_code"], seen[0]["reason"], seen[0]["cause"]) == (
        "E-42",
        "blade broken",
        "DOWN",
    )
    assert seen[-2]["acknowledged_by"] == "ann"
    posted = [b for b in hook.bodies if "incident_id" in b]
    assert [(b["version"], b["event"]) for b in posted] == [
        (m["version"], m["event"]) for m in seen
    ]
    assert posted[0]["text"].startswith(f":rotating_light: incident {incident_id} opened: ")
    # the two orders' alerts were posted too: raised, then acknowledged by the incident's ack
    alerts = sorted((b["order_id"], b["event"]) for b in hook.bodies if "alert_id" in b)
    assert [e for _, e in alerts].count("acknowledged") == 2
