"""Delivers recorded alerts to the MQTT alert topic at least once (outbox + broker ack)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt

from shopfloor.contract.payloads import LateOrderAlert, encode
from shopfloor.contract.topics import alert_topic

from .database import UnitOfWork

log = logging.getLogger(__name__)


class AlertDispatcher:
    """A thread that publishes undelivered alerts and marks them delivered once acknowledged."""

    def __init__(
        self,
        sessions: Any,
        client: mqtt.Client,
        site: str,
        clock: Callable[[], datetime],
        retry_s: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._site = site
        self._clock = clock
        self._retry_s = retry_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-dispatcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def notify(self) -> None:
        """Something new is in the outbox."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._retry_s)
            self._wake.clear()
            try:
                self.deliver_pending()
            except Exception:
                log.exception("alert delivery failed; will retry")

    def deliver_pending(self) -> int:
        delivered = 0
        with UnitOfWork(self._sessions) as uow:
            for row in uow.undelivered_alerts():
                if self._publish(row):
                    uow.mark_delivered(row["id"], self._clock())
                    uow.commit()
                    delivered += 1
        return delivered

    def _publish(self, row: dict[str, Any]) -> bool:
        alert = LateOrderAlert(
            alert_id=row["id"],
            order_id=row["order_id"],
            status="late",
            eta=row["eta"],
            due=row["due_at"],
            raised_at=row["raised_at"],
            message=row["message"],
        )
        info = self._client.publish(alert_topic(self._site, alert.order_id), encode(alert), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.warning(
                "alert %d not sent (%s); will retry", alert.alert_id, mqtt.error_string(info.rc)
            )
            return False
        try:
            info.wait_for_publish(timeout=5)
        except RuntimeError as exc:
            log.warning("alert %d not sent (%s); will retry", alert.alert_id, exc)
            return False
        if not info.is_published():
            log.warning("alert %d not acknowledged by the broker yet; will retry", alert.alert_id)
            return False
        log.info("alert %d published for order %s", alert.alert_id, alert.order_id)
        return True
