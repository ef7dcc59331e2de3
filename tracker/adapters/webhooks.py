"""Alert webhooks: Slack/Teams-compatible JSON POSTs with exponential backoff (httpx)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from .alerts import OutboxWorker

log = logging.getLogger(__name__)

_ICONS = {"raised": ":warning:", "escalated": ":rotating_light:", "acknowledged": ":eyes:"}


def webhook_body(payload: dict[str, Any]) -> dict[str, Any]:
    """The alert's JSON plus a `text` line that Slack and Teams incoming webhooks show."""
    event = payload["event"]
    icon = _ICONS.get(event, ":white_check_mark:")
    who = f" by {payload['acknowledged_by']}" if event == "acknowledged" else ""
    text = (
        f"{icon} [{payload['severity']}] alert {payload['alert_id']} {event}{who}: "
        f"{payload['message']}"
    )
    return {"text": text, **payload}


class WebhookSender(OutboxWorker):
    """POSTs each due webhook row; 2xx is delivered, anything else retried with backoff."""

    channel = "webhook"
    name = "alert-webhooks"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        timeout_s: float = 5.0,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 300.0,
        poll_s: float = 1.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(sessions, clock, poll_s)
        self._http = httpx.Client(timeout=timeout_s, transport=transport)
        self._base_s = backoff_base_s
        self._max_s = backoff_max_s

    def stop(self) -> None:
        super().stop()
        self._http.close()

    def backoff_s(self, attempts: int) -> float:
        return float(min(self._max_s, self._base_s * 2 ** (attempts - 1)))

    def send(self, row: Any) -> str | None:
        body = webhook_body(json.loads(row.payload))
        try:
            response = self._http.post(
                row.target,
                json=body,
                headers={"Idempotency-Key": f"alert-{row.alert_id}-v{row.version}"},
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if response.is_success:
            log.info("alert %d v%d posted to %s", row.alert_id, row.version, row.target)
            return None
        return f"HTTP {response.status_code}: {response.text[:200]}"
