"""Delivers the alert outbox at least once: a worker thread per channel (MQTT, webhooks).

Each channel has its own thread, so a dead webhook endpoint never delays the MQTT topic, and
neither ever blocks the bus: handlers only add outbox rows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy.orm import Session, sessionmaker

from shopfloor.contract.topics import alert_topic, incident_topic

from .unit_of_work import SqlUnitOfWork
from .worker import Worker

log = logging.getLogger(__name__)

# how long a row being sent is hidden from other workers
_LEASE_S = 60.0


def subject_of(row: Any) -> str:
    """What an outbox row delivers, for logs and message ids: `alert-7` or `incident-3`."""
    incident_id = getattr(row, "incident_id", None)
    return f"incident-{incident_id}" if incident_id is not None else f"alert-{row.alert_id}"


class OutboxWorker(Worker):
    """A thread that sends the due rows of one channel and records each attempt; `notify()`
    says something new is in the outbox."""

    channel = ""
    name = "outbox"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        poll_s: float = 5.0,
    ) -> None:
        super().__init__(poll_s)
        self._sessions = sessions
        self._clock = clock

    def work_once(self) -> None:
        try:
            while self.deliver_pending() and not self._stop.is_set():
                pass
        except Exception:
            log.exception("%s delivery failed; will retry", self.channel)

    def deliver_pending(self) -> int:
        """Send the rows due now; returns how many were delivered.

        No transaction stays open while a row is sent: waiting for a broker or an endpoint with
        the database locked would stall the bus (on SQLite, every writer). Rows are leased
        first, so another tracker instance skips them until the lease runs out.
        """
        if not self.fence():
            return 0
        now = self._clock()
        with SqlUnitOfWork(self._sessions) as uow:
            rows = uow.pending_deliveries(self.channel, now)
            for row in rows:
                uow.delivery_leased(row.id, now + timedelta(seconds=_LEASE_S))
            uow.commit()
        delivered = 0
        for i, row in enumerate(rows):
            if i and not self.fence():  # no longer the leader: the next one sends the rest
                break
            error = self.send(row)
            with SqlUnitOfWork(self._sessions) as uow:
                if error is None:
                    uow.delivery_done(row.id, self._clock())
                    delivered += 1
                else:
                    retry_at = self._clock() + timedelta(seconds=self.backoff_s(row.attempts + 1))
                    uow.delivery_failed(row.id, error, retry_at)
                    if self.ordered:  # later versions wait behind it, never overtake it
                        for later in rows[i + 1 :]:
                            uow.delivery_leased(later.id, retry_at)
                uow.commit()
            if error is not None:
                log.warning(
                    "%s v%d to %s %s failed (attempt %d): %s",
                    subject_of(row),
                    row.version,
                    self.channel,
                    row.target or "",
                    row.attempts + 1,
                    error,
                )
                if self.ordered:
                    break
        return delivered

    ordered = False  # stop at the first failure so later versions never overtake it

    def backoff_s(self, attempts: int) -> float:
        return 1.0

    def send(self, row: Any) -> str | None:
        """Deliver one row; None on success, else why not."""
        raise NotImplementedError


class MqttAlertPublisher(OutboxWorker):
    """Publishes alerts and incidents on their topics at QoS 1; delivered once the broker
    acknowledged."""

    channel = "mqtt"
    name = "alert-mqtt"
    ordered = True

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: mqtt.Client,
        site: str,
        clock: Callable[[], datetime],
        poll_s: float = 5.0,
    ) -> None:
        super().__init__(sessions, clock, poll_s)
        self._client = client
        self._site = site

    def send(self, row: Any) -> str | None:
        body = json.loads(row.payload)
        if getattr(row, "incident_id", None) is not None:
            topic = incident_topic(self._site, body["machine_id"], row.incident_id)
        else:
            topic = alert_topic(self._site, body["order_id"], body.get("kind", "late"))
        info = self._client.publish(topic, row.payload.encode(), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return mqtt.error_string(info.rc)
        try:
            info.wait_for_publish(timeout=5)
        except RuntimeError as exc:
            return str(exc)
        if not info.is_published():
            return "not acknowledged by the broker yet"
        log.info("%s v%d published on %s", subject_of(row), row.version, topic)
        return None

    def backoff_s(self, attempts: int) -> float:
        return 2.0  # the broker is one hop away: retry soon, in order
