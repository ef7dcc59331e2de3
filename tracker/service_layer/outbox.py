"""Outbox rows: one per channel (MQTT, each webhook) for each delivered version of an alert or
an incident, written in the bus's transaction and sent later by the delivery workers."""

from __future__ import annotations

from datetime import datetime

from .unit_of_work import UnitOfWork

MQTT, WEBHOOK = "mqtt", "webhook"


def enqueue(uow: UnitOfWork, version: int, payload: str, now: datetime, **subject: int) -> None:
    """Rows of one version; `subject` names what they deliver (`alert_id=` or `incident_id=`)."""
    targets = [(MQTT, "")] + [(WEBHOOK, url) for url in uow.policy.webhook_urls]
    for channel, target in targets:
        uow.add_delivery(
            **subject,
            version=version,
            channel=channel,
            target=target,
            payload=payload,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
