"""Signed alert webhooks end to end: the tracker posts an alert to a real local HTTP receiver
(the stdlib example of docs/alerts.md), which checks the Standard Webhooks signature; an endpoint
without a secret still gets its posts, unsigned."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.api_keys import SUPERVISOR, as_, make, order_body
from tests.unit.test_webhook_signatures import receiver
from tests.waiting import wait_for
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.entrypoints.api import create_app
from tracker.webhook_signatures import new_secret

pytestmark = pytest.mark.integration


class Endpoint:
    """The example receiver on 127.0.0.1, recording verified alerts and every raw request."""

    def __init__(self, secret: str) -> None:
        self.alerts: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        handler = receiver().make_handler(secret, self.alerts.append)
        statuses = self.statuses

        class Recording(handler):  # type: ignore[misc,valid-type]
            def send_response(self, code: int, message: str | None = None) -> None:
                statuses.append(code)
                super().send_response(code, message)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Recording)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoints() -> Iterator[tuple[str, Endpoint, Endpoint]]:
    secret = new_secret()
    signed, unsigned = Endpoint(secret), Endpoint(new_secret())
    yield secret, signed, unsigned
    signed.close()
    unsigned.close()


def _late_order_alerted(tracker: Tracker) -> None:
    """An order already past its due date: the check raises its alert; deliver the webhooks."""
    client = TestClient(create_app(tracker))  # not entered: the tracker is not started
    due = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    made = client.post("/api/v1/orders", json=order_body(due_at=due), headers=as_(SUPERVISOR))
    assert made.status_code == 201, made.text
    tracker.bus.handle(commands.CheckOrders())
    tracker.leadership.start()  # only the leader delivers (on PostgreSQL: once it has the lock)
    try:
        wait_for(tracker.leadership.is_leader, "the lone instance to lead")
        tracker.webhooks.deliver_pending()
    finally:
        tracker.leadership.stop()


def test_an_alert_reaches_a_receiver_that_checks_its_signature(
    make_tracker: Callable[..., Tracker], endpoints: tuple[str, Endpoint, Endpoint]
) -> None:
    secret, signed, unsigned = endpoints
    tracker = make(
        make_tracker,
        webhooks=[{"url": signed.url, "secret": secret}],
        webhook_urls=[unsigned.url],
    )
    _late_order_alerted(tracker)
    assert signed.statuses == [204]
    [alert] = signed.alerts
    assert (alert["order_id"], alert["event"], alert["severity"]) == ("SO-1", "raised", "critical")
    # the endpoint without a secret got the same post unsigned: its own check refuses it
    assert unsigned.statuses == [401] and unsigned.alerts == []
    tracker.engine.dispose()


def test_a_captured_post_replayed_later_or_altered_is_refused(
    make_tracker: Callable[..., Tracker], endpoints: tuple[str, Endpoint, Endpoint]
) -> None:
    secret, signed, _ = endpoints
    sent: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    tracker = make(make_tracker, webhooks=[{"url": signed.url, "secret": secret}])
    tracker.webhooks._http = httpx.Client(transport=httpx.MockTransport(capture))
    _late_order_alerted(tracker)
    [request] = sent
    assert request.headers["webhook-id"] == "alert-1-v1" == request.headers["Idempotency-Key"]
    assert request.headers["webhook-signature"].startswith("v1,")
    headers = {k: v for k, v in request.headers.items() if k.startswith("webhook-")}
    resent = httpx.post(signed.url, content=request.content, headers=headers)
    assert resent.status_code == 204  # within the tolerance: accepted (once: same webhook-id)
    stale = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 301)}
    assert httpx.post(signed.url, content=request.content, headers=stale).status_code == 401
    altered = request.content.replace(b'"critical"', b'"warning"')
    assert httpx.post(signed.url, content=altered, headers=headers).status_code == 401
    assert len(signed.alerts) == 1
    tracker.engine.dispose()
