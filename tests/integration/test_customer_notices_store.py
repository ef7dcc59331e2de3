"""Customer notifications on real SQLite and PostgreSQL: contacts, promise states, the notice
outbox and its tracking links, a signed webhook to a real local receiver."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, update

from tests.clock import T0, Clock
from tests.integration.test_webhook_signing import Endpoint
from tracker.adapters import order_token_store, orm
from tracker.adapters.customer_notices import NoticePolicy, WebhookNotices
from tracker.adapters.database import read_session_factory, session_factory
from tracker.adapters.link_tokens import mint_link_token
from tracker.adapters.order_contacts import add_customer_email, set_staff_contacts
from tracker.adapters.promise_store import SqlPromiseBook
from tracker.auth.order_tokens import hash_token
from tracker.domain import commands
from tracker.domain.foresight.estimator import Forecast
from tracker.service_layer.bus import MessageBus
from tracker.service_layer.foresight import Outlook
from tracker.service_layer.promise_watch import watch_promises
from tracker.views.link_tokens import link_opens
from tracker.views.order_contacts import order_contacts
from tracker.webhook_signatures import new_secret

pytestmark = pytest.mark.integration

HOUR = timedelta(hours=1)
DUE = T0 + 10 * HOUR
INTERVAL = 4 * HOUR


def _order(bus: MessageBus, order_id: str = "SO-1", token: str = "customer-token") -> None:
    bus.handle(
        commands.CreateOrder(
            order_id=order_id,
            customer="ACME",
            product="bracket",
            quantity=10,
            due_at=DUE,
            token_hash=hash_token(token),
            operations=(commands.OperationSpec(10, "cut", "saw-1", 60, 30),),
        )
    )


def _outlook(p90: datetime, order_id: str = "SO-1") -> Outlook:
    return Outlook(None, {order_id: Forecast(order_id, 0.4, p90 - HOUR, p90)})


def _notices(engine: Engine) -> list[Any]:
    n = orm.customer_notices.c
    with session_factory(engine)() as session:
        return list(session.execute(select(n.order_id, n.channel, n.payload).order_by(n.id)))


def _watch(engine: Engine, p90: datetime, now: datetime) -> int:
    books = partial(SqlPromiseBook, session_factory(engine), read_session_factory(engine))
    return watch_promises(books, _outlook(p90), now, INTERVAL)


def test_staff_contacts_replace_their_own_and_keep_the_customers(
    engine: Engine, bus: MessageBus
) -> None:
    _order(bus)
    sessions = session_factory(engine)
    secret = new_secret()
    assert set_staff_contacts(sessions, "SO-1", ["a@x.test"], ("https://h.test/n", secret), T0)
    assert add_customer_email(sessions, "SO-1", "c@x.test", T0, most=1)
    assert not add_customer_email(sessions, "SO-1", "d@x.test", T0, most=1)  # full
    assert set_staff_contacts(sessions, "SO-1", ["b@x.test", "c@x.test"], None, T0)
    assert not set_staff_contacts(sessions, "SO-9", ["a@x.test"], None, T0)

    with read_session_factory(engine)() as session:
        rows = order_contacts(session, "SO-1")
        assert order_contacts(session, "SO-9") is None
    assert rows is not None
    assert [(r.channel, r.address, r.added_by) for r in rows] == [
        ("email", "c@x.test", "customer"),
        ("email", "b@x.test", "staff"),
    ]


def test_a_watched_order_is_told_when_its_promise_moves_and_not_when_it_flips_back(
    engine: Engine, bus: MessageBus
) -> None:
    _order(bus)
    _order(bus, "SO-2")  # no contacts: not watched
    set_staff_contacts(session_factory(engine), "SO-1", ["a@x.test", "b@x.test"], None, T0)

    assert _watch(engine, DUE - HOUR, T0) == 0  # first seen on time: no news
    assert _watch(engine, DUE + HOUR, T0 + HOUR) == 2  # past the due date: both contacts
    assert _watch(engine, DUE - HOUR, T0 + 2 * HOUR) == 0  # back within the interval: waits
    assert _watch(engine, DUE + HOUR, T0 + 3 * HOUR) == 0  # moved again: reverted, no news
    assert _watch(engine, DUE + HOUR, T0 + 9 * HOUR) == 0  # still what they heard

    rows = _notices(engine)
    assert [(r.order_id, r.channel) for r in rows] == [("SO-1", "email")] * 2
    assert json.loads(rows[0].payload)["at_risk"] is True
    p = orm.order_promises.c
    with session_factory(engine)() as session:
        states = session.execute(select(p.order_id, p.at_risk, p.told, p.told_at)).all()
    assert [tuple(s) for s in states] == [("SO-1", True, True, T0 + HOUR)]


def test_a_link_token_opens_its_order_until_it_expires_or_the_orders_token_changes(
    engine: Engine, bus: MessageBus
) -> None:
    _order(bus)
    _order(bus, "SO-2")
    sessions, reads = session_factory(engine), read_session_factory(engine)
    with sessions() as session, session.begin():
        token = mint_link_token(session, "SO-1", T0, 30 * 24 * HOUR)
    assert token is not None

    def opens(order_id: str, now: datetime = T0) -> bool:
        with reads() as session:
            stored = session.scalar(
                select(orm.orders.c.token_hash).where(orm.orders.c.order_id == order_id)
            )
            return link_opens(session, order_id, token, stored, now)

    assert opens("SO-1")
    assert not opens("SO-2")  # another order's link
    assert not opens("SO-1", T0 + 30 * 24 * HOUR)  # expired
    assert order_token_store.rotate(sessions, "SO-1") is not None
    assert not opens("SO-1")  # minted under the old token
    assert order_token_store.revoke(sessions, "SO-2")
    with sessions() as session, session.begin():
        assert mint_link_token(session, "SO-2", T0, HOUR) is None  # no link to a revoked order


def test_a_notice_reaches_a_webhook_that_checks_its_signature_with_a_working_link(
    engine: Engine, bus: MessageBus
) -> None:
    _order(bus)
    _order(bus, "SO-2")
    secret = new_secret()
    endpoint = Endpoint(secret)
    sessions = session_factory(engine)
    try:
        for order_id in ("SO-1", "SO-2"):
            set_staff_contacts(sessions, order_id, [], (endpoint.url, secret), T0)
        clock = Clock()
        clock.now = datetime.now(UTC)  # the receiver checks the timestamp against its clock
        books = partial(SqlPromiseBook, sessions, read_session_factory(engine))
        for order_id in ("SO-1", "SO-2"):
            assert watch_promises(books, _outlook(DUE + HOUR, order_id), clock.now, INTERVAL)
        bus.handle(commands.CancelOrder("SO-2", "customer changed their mind"))
        policy = NoticePolicy("https://track.test", 24 * HOUR, ZoneInfo("UTC"))
        sender = WebhookNotices(sessions, clock, policy)

        assert sender.deliver_pending() == 1
        assert sender.deliver_pending() == 0  # delivered once; the cancelled order's is not sent
    finally:
        endpoint.close()
    assert endpoint.statuses == [204] and (sender.sent, sender.failed) == (1, 0)
    [body] = endpoint.alerts
    assert (body["type"], body["order_id"], body["id"]) == (
        "order.promise_moved",
        "SO-1",
        "notice-1",
    )
    assert body["tracking_url"].startswith("https://track.test/track/SO-1?token=")
    token = body["tracking_url"].split("token=")[1]
    with read_session_factory(engine)() as session:
        assert link_opens(session, "SO-1", token, hash_token("customer-token"), clock.now)
    n = orm.customer_notices.c
    with sessions() as session:
        assert session.scalar(select(n.last_error).where(n.order_id == "SO-1")) is None


def test_a_refused_notice_is_retried_later_and_counted(engine: Engine, bus: MessageBus) -> None:
    _order(bus)
    secret = new_secret()
    endpoint = Endpoint(new_secret())  # checks another secret: 401
    sessions = session_factory(engine)
    try:
        set_staff_contacts(sessions, "SO-1", [], (endpoint.url, secret), T0)
        clock = Clock()
        assert _watch(engine, DUE + HOUR, clock.now)
        sender = WebhookNotices(sessions, clock, NoticePolicy("http://t", HOUR, ZoneInfo("UTC")))
        assert sender.deliver_pending() == 0
        assert sender.deliver_pending() == 0  # backing off: not due yet
        n = orm.customer_notices
        with sessions() as session, session.begin():
            session.execute(update(n).values(next_attempt_at=clock.now))
        assert sender.deliver_pending() == 0
    finally:
        endpoint.close()
    assert endpoint.statuses == [401, 401] and (sender.sent, sender.failed) == (0, 2)
    with sessions() as session:
        row = session.execute(select(n.c.attempts, n.c.last_error, n.c.delivered_at)).one()
    assert (row.attempts, row.last_error, row.delivered_at) == (2, "HTTP 401", None)


def test_without_an_smtp_server_no_email_notice_is_queued(engine: Engine, bus: MessageBus) -> None:
    _order(bus)
    sessions = session_factory(engine)
    set_staff_contacts(sessions, "SO-1", ["a@x.test"], ("https://h.test/n", new_secret()), T0)
    books = partial(SqlPromiseBook, sessions, read_session_factory(engine), ("webhook",))

    assert watch_promises(books, _outlook(DUE + HOUR), T0, INTERVAL) == 1

    assert [r.channel for r in _notices(engine)] == ["webhook"]
