"""Customer notifications through a tracker: contacts over the API, an email through a real
local SMTP server (aiosmtpd) whose tracking link opens the order's progress."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from launcher.services.processes import free_port
from tests.clock import T0, Clock
from tests.integration.api_keys import SUPERVISOR, VIEWER, as_, create, make, order_body
from tests.waiting import wait_for
from tracker.bootstrap import Tracker
from tracker.entrypoints.api import create_app
from tracker.webhook_signatures import new_secret

pytestmark = pytest.mark.integration

PUBLIC = "https://track.plant.test"


class Mailbox:
    """aiosmtpd's handler: keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server on 127.0.0.1, in this process."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, mailbox
    controller.stop()


def _notifications(client: TestClient, body: dict[str, Any], key: str = SUPERVISOR) -> Any:
    return client.put("/api/v1/orders/SO-1/notifications", json=body, headers=as_(key))


def test_an_emailed_tracking_link_opens_the_orders_progress(
    make_tracker: Callable[..., Tracker], smtp: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp
    clock = Clock()
    tracker = make(
        make_tracker,
        clock=clock,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="Plant <orders@plant.test>",
        public_url=PUBLIC,
    )
    client = TestClient(create_app(tracker))  # not entered: no threads, the test drives
    # due in 5 minutes, with ~13 minutes of work: its promise is at risk from the first plan
    notifications = {"emails": ["buyer@acme.example.com"]}
    due = (T0 + timedelta(minutes=5)).isoformat()
    create(client, due_at=due, notifications=notifications)
    tracker.leadership.start()
    try:
        wait_for(tracker.leadership.is_leader, "the lone instance to lead")
        tracker.planner.replan()  # the plan, its forecast, then the promise watch
        assert tracker.notify_customers.email is not None
        assert tracker.notify_customers.email.deliver_pending() == 1
    finally:
        tracker.leadership.stop()

    [mail] = mailbox.messages
    assert isinstance(mail, EmailMessage)
    assert mail["To"] == "buyer@acme.example.com" and mail["X-Shopfloor-Notice"] == "notice-1"
    assert mail["Subject"] == "Order SO-1: the promised date is at risk"
    text = mail.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "Promised:       2026-03-02 08:05Z" in content
    [link] = re.findall(rf"{re.escape(PUBLIC)}/track/SO-1\?token=\S+", content)
    token = link.split("token=")[1]
    assert client.get(link.removeprefix(PUBLIC)).status_code == 200  # the customer page
    progress = client.get(f"/api/v1/orders/SO-1/progress?token={token}")
    assert progress.status_code == 200, progress.text
    assert progress.json()["order_id"] == "SO-1"
    assert client.get("/api/v1/orders/SO-1/progress?token=x" + token).status_code == 404
    metrics = client.get("/metrics").text
    assert 'shopfloor_tracker_customer_notices_total{channel="email",outcome="sent"} 1.0' in metrics
    tracker.engine.dispose()


def test_staff_set_and_read_contacts_and_the_secret_is_never_shown(
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make(make_tracker)
    client = TestClient(create_app(tracker))
    token = create(client)
    secret = new_secret()
    body = {
        "emails": ["a@acme.example.com"],
        "webhook": {"url": "https://erp.acme.example.com/n", "secret": secret},
    }

    put = _notifications(client, body)
    got = client.get("/api/v1/orders/SO-1/notifications", headers=as_(SUPERVISOR))

    assert put.status_code == 200, put.text
    assert (
        put.json()
        == got.json()
        == {
            "order_id": "SO-1",
            "emails": ["a@acme.example.com"],
            "customer_emails": [],
            "webhook": {"url": "https://erp.acme.example.com/n", "signed": True},
            "email_delivery": False,  # no SMTP server set
        }
    )
    assert secret not in put.text + got.text
    # the customer adds an email with their token; a wrong token is a missing order
    path = "/api/v1/orders/SO-1/progress/notifications"
    mine = client.post(
        path, json={"email": "me@acme.example.com"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert mine.status_code == 201 and mine.json()["email_delivery"] is False
    assert (
        client.post(path + "?token=nope", json={"email": "x@acme.example.com"}).status_code == 404
    )
    got = client.get("/api/v1/orders/SO-1/notifications", headers=as_(SUPERVISOR))
    assert got.json()["customer_emails"] == ["me@acme.example.com"]
    tracker.engine.dispose()


OUT_OF_BOUNDS = {
    "email": {"emails": ["not-an-address"]},
    "too many": {"emails": [f"a{i}@acme.example.com" for i in range(11)]},
    "scheme": {"webhook": {"url": "ftp://erp.acme.example.com/n", "secret": new_secret()}},
    "long url": {"webhook": {"url": "https://a.example.com/" + "n" * 500, "secret": new_secret()}},
    "secret": {"webhook": {"url": "https://erp.acme.example.com/n", "secret": "whsec_short"}},
    "unknown field": {"emails": [], "sms": ["+1555"]},
}


def test_contacts_out_of_bounds_are_refused(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make(make_tracker)
    client = TestClient(create_app(tracker))
    create(client)

    answers = {why: _notifications(client, body).status_code for why, body in OUT_OF_BOUNDS.items()}

    assert answers == dict.fromkeys(OUT_OF_BOUNDS, 422)
    got = client.get("/api/v1/orders/SO-1/notifications", headers=as_(SUPERVISOR))
    assert got.json()["emails"] == [] and got.json()["webhook"] is None
    tracker.engine.dispose()


def test_contacts_need_a_supervisor_and_an_order(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make(make_tracker)
    client = TestClient(create_app(tracker))
    body = order_body("SO-2", notifications={"emails": ["a@acme.example.com"]})
    assert client.post("/api/v1/orders", json=body, headers=as_(SUPERVISOR)).status_code == 201

    assert _notifications(client, {"emails": []}, VIEWER).status_code == 403
    assert _notifications(client, {"emails": []}).status_code == 404  # no SO-1
    got = client.get("/api/v1/orders/SO-2/notifications", headers=as_(SUPERVISOR))
    assert got.json()["emails"] == ["a@acme.example.com"]  # given with the order
    tracker.engine.dispose()
