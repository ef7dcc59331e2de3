"""Incident rows of the outbox: the MQTT topic they go to and the webhook body's text line."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from shopfloor.contract.topics import incident_subscription, incident_topic
from tracker.adapters.alert_publisher import subject_of
from tracker.adapters.webhooks import webhook_body


def test_incidents_have_their_topic_beside_the_order_alerts() -> None:
    assert incident_topic("plant1", "saw-1", 7) == "shopfloor/plant1/alerts/incident/saw-1/7"
    assert incident_subscription("plant1") == "shopfloor/plant1/alerts/incident/+/+"


def test_an_outbox_row_names_its_alert_or_its_incident() -> None:
    assert subject_of(SimpleNamespace(alert_id=3, incident_id=None)) == "alert-3"
    assert subject_of(SimpleNamespace(alert_id=None, incident_id=7)) == "incident-7"


def test_an_incidents_webhook_text_names_it_and_its_orders() -> None:
    payload: dict[str, Any] = {
        "incident_id": 7,
        "event": "acknowledged",
        "acknowledged_by": "ann",
        "message": "machine saw-1 is DOWN since 2026-03-02 08:00Z: E-42 blade broken",
        "orders": [{"order_id": "SO-1"}, {"order_id": "SO-2"}],
    }
    body = webhook_body(payload)
    assert body["text"] == (
        ":eyes: incident 7 acknowledged by ann: machine saw-1 is DOWN since 2026-03-02 08:00Z: "
        "E-42 blade broken (orders: SO-1, SO-2)"
    )
    assert body["incident_id"] == 7
