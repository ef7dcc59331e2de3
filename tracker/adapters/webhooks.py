"""Alert webhooks: Slack/Teams-compatible JSON POSTs with exponential backoff (httpx), signed
as Standard Webhooks do when the endpoint has a secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tracker.webhook_signatures import webhook_headers

from .alert_publisher import OutboxWorker, subject_of

log = logging.getLogger(__name__)

_ICONS = {
    "raised": ":warning:",
    "escalated": ":rotating_light:",
    "acknowledged": ":eyes:",
    "opened": ":rotating_light:",
    "updated": ":warning:",
}


def webhook_body(payload: dict[str, Any]) -> dict[str, Any]:
    """The alert's (or incident's) JSON plus a `text` line that Slack and Teams incoming
    webhooks show."""
    event = payload["event"]
    icon = _ICONS.get(event, ":white_check_mark:")
    who = f" by {payload['acknowledged_by']}" if event == "acknowledged" else ""
    if "incident_id" in payload:
        orders = ", ".join(o["order_id"] for o in payload.get("orders", []))
        affected = f" (orders: {orders})" if orders else ""
        text = f"{icon} incident {payload['incident_id']} {event}{who}: {payload['message']}"
        return {"text": text + affected, **payload}
    text = (
        f"{icon} [{payload['severity']}] alert {payload['alert_id']} {event}{who}: "
        f"{payload['message']}"
    )
    return {"text": text, **payload}


class WebhookSender(OutboxWorker):
    """POSTs each due webhook row; 2xx is delivered, anything else retried with backoff.

    Every POST carries `webhook-id` (the same on each retry) and `webhook-timestamp` (the
    attempt's); an endpoint with a key in `keys` (by URL) gets `webhook-signature` too.
    """

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
        keys: Mapping[str, bytes] | None = None,
    ) -> None:
        super().__init__(sessions, clock, poll_s)
        self._http = httpx.Client(timeout=timeout_s, transport=transport)
        self._base_s = backoff_base_s
        self._max_s = backoff_max_s
        self._keys = dict(keys or {})

    def stop(self) -> None:
        super().stop()
        self._http.close()

    def backoff_s(self, attempts: int) -> float:
        return float(min(self._max_s, self._base_s * 2 ** (attempts - 1)))

    def headers(self, target: str, msg_id: str, body: bytes) -> dict[str, str]:
        """The headers of one attempt: Standard Webhooks' id, timestamp and signature."""
        timestamp = int(self._clock().timestamp())
        return webhook_headers(msg_id, timestamp, body, self._keys.get(target))

    def send(self, row: Any) -> str | None:
        # the bytes signed are the bytes sent
        body = json.dumps(webhook_body(json.loads(row.payload)), separators=(",", ":")).encode()
        msg_id = f"{subject_of(row)}-v{row.version}"
        try:
            response = self._http.post(
                row.target, content=body, headers=self.headers(row.target, msg_id, body)
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if response.is_success:
            log.info("%s v%d posted to %s", subject_of(row), row.version, row.target)
            return None
        return f"HTTP {response.status_code}: {response.text[:200]}"
