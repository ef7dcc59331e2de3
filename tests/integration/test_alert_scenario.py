"""Scenario on a real Mosquitto: a machine breaks down mid-order; its alert goes out on MQTT
and to a webhook once per transition (at risk, late, cleared)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor.contract.topics import alert_subscription
from tests.integration.live_tracker import running_tracker
from tests.integration.mqtt_watch import watching
from tests.services import Mosquitto
from tests.waiting import wait_for
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.bootstrap import Tracker
from tracker.domain import commands

pytestmark = pytest.mark.integration


class WebhookReceiver:
    """A local HTTP endpoint that records the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Clock:
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tracker(
    mosquitto: Mosquitto, tmp_path: Path, hook: WebhookReceiver, clock: Clock
) -> Iterator[Tracker]:
    with running_tracker(
        mosquitto,
        tmp_path,
        clock,
        check_interval_s=0.2,
        at_risk_slack_s=600,
        # the plan counts a DOWN machine as back at once: the breakdown alone makes the order
        # at risk, the time it stays down makes it late (the default 30 min would be late at once)
        down_allowance_s=0,
        offline_after_s=86400,
        webhook_urls=[hook.url, "http://127.0.0.1:9/dead"],  # port 9: nothing listens
    ) as t:
        yield t


@pytest.fixture
def alerts_seen(tracker: Tracker, mosquitto: Mosquitto) -> Iterator[list[dict[str, Any]]]:
    with watching(mosquitto, alert_subscription(tracker.settings.site)) as received:
        yield received


def test_breakdown_mid_order_alerts_once_per_transition_on_mqtt_and_webhook(
    tracker: Tracker,
    clock: Clock,
    hook: WebhookReceiver,
    alerts_seen: list[dict[str, Any]],
    mosquitto: Mosquitto,
) -> None:
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2)
    publisher.connect(mosquitto.host, mosquitto.port)
    publisher.loop_start()
    n = 0

    def send(machine: str, **body: object) -> None:
        nonlocal n
        n += 1
        # device time follows the test's clock, as a machine's own clock would
        payload = json.dumps({"event_id": f"e{n}", "ts": clock().isoformat(), **body}).encode()
        publisher.publish(f"shopfloor/p/l/{machine}/event", payload, qos=1).wait_for_publish(5)

    def alert_bodies() -> list[dict[str, Any]]:
        # the breakdown's incident is posted to the same endpoint (test_incident_delivery.py)
        return [b for b in hook.bodies if "alert_id" in b]

    def transitions() -> list[tuple[int, str, str]]:
        return [(a["version"], a["event"], a["schedule_status"]) for a in alerts_seen]

    tracker.bus.handle(
        commands.CreateOrder(
            order_id="SO-S",
            customer="ACME",
            product="p",
            quantity=4,
            due_at=clock() + timedelta(minutes=30),  # 8 min of work: on track
            token_hash="0" * 64,
            operations=(
                commands.OperationSpec(10, "cut", "saw-7", 0, 60.0),
                commands.OperationSpec(20, "weld", "weld-7", 0, 60.0),
            ),
        )
    )
    try:
        send("saw-7", type="job_start", order_id="SO-S", operation=10)
        send("saw-7", type="cycle", counter=1, cycle_time_s=60.0)
        time.sleep(0.5)
        assert alerts_seen == []

        send("saw-7", type="state", state="DOWN")  # the breakdown: at risk
        wait_for(lambda: len(alerts_seen) == 1, what="the at-risk alert")
        clock.offset = timedelta(minutes=25)  # still down: 7 min of work left, 5 min to go
        wait_for(lambda: len(alerts_seen) == 2, what="the escalation")

        clock.offset = timedelta(minutes=33)  # past due: still late, nothing new to deliver
        time.sleep(0.5)
        send("saw-7", type="state", state="RUNNING")  # repaired; the order completes, late
        send("saw-7", type="cycle", counter=4, cycle_time_s=60.0)
        send("weld-7", type="job_start", order_id="SO-S", operation=20)
        send("weld-7", type="cycle", counter=1, cycle_time_s=60.0)
        send("weld-7", type="cycle", counter=4, cycle_time_s=60.0)
        wait_for(lambda: len(alerts_seen) == 3, what="the clearing")
        wait_for(lambda: len(alert_bodies()) == 3, what="three webhook deliveries")
        time.sleep(1.5)  # ~7 periodic checks: nothing is repeated
    finally:
        publisher.disconnect()
        publisher.loop_stop()

    assert transitions() == [
        (1, "raised", "at_risk"),
        (2, "escalated", "late"),
        (3, "cleared", "late"),
    ]
    assert {a["topic"] for a in alerts_seen} == {
        f"shopfloor/{tracker.settings.site}/alerts/order/SO-S/late"
    }
    assert len({a["alert_id"] for a in alerts_seen}) == 1
    assert [a["severity"] for a in alerts_seen] == ["warning", "critical", "critical"]
    assert alerts_seen[0]["reasons"] == ["machine saw-7 of operation 10 (cut) is DOWN"]
    assert any("is DOWN" in r for r in alerts_seen[1]["reasons"])
    assert [(b["version"], b["event"]) for b in alert_bodies()] == [
        (1, "raised"),
        (2, "escalated"),
        (3, "cleared"),
    ]
    assert alert_bodies()[1]["text"].startswith(":rotating_light: [critical] alert ")
    assert "SO-S is late" in alert_bodies()[1]["text"]

    # the dead endpoint is retried with backoff in the delivery log, and held nothing up
    with SqlUnitOfWork(tracker.sessions) as uow:
        from tracker.views.alerts import alerts

        [alert] = alerts(uow.session)
    dead = [d for d in alert["deliveries"] if d["target"].endswith("/dead")]
    assert len(dead) == 3 and all(d["delivered_at"] is None for d in dead)
    assert all(d["attempts"] >= 1 and "ConnectError" in d["last_error"] for d in dead)
    assert all(d["delivered_at"] is not None for d in alert["deliveries"] if d not in dead)
