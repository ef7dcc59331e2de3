"""Delivers customers' notices at least once: a thread per channel (email, webhook), each row
retried with exponential backoff until its server accepts it.

Each attempt mints the notice's tracking link (tracker/adapters/link_tokens.py) in the
transaction that leases the row, so no plaintext token is ever stored. A notice keeps its id
on every retry (`notice-<id>`: `webhook-id`, `X-Shopfloor-Notice`) for receivers to
de-duplicate. Notices of an order that completed or was cancelled meanwhile are not sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain import promise_wording as wording
from tracker.domain.model import OPEN_STATUS_VALUES
from tracker.domain.promises import PromiseNotice
from tracker.webhook_signatures import signing_key, webhook_headers

from . import orm
from .link_tokens import mint_link_token
from .promise_store import notice_of
from .smtp_mail import SmtpServer, message, send_mail
from .worker import Worker

log = logging.getLogger(__name__)
_LEASE_S = 60.0  # a row being sent is hidden from other workers this long


@dataclass(frozen=True)
class NoticePolicy:
    """Where tracking links point, how long they work, the plant's zone, retries."""

    public_url: str
    link_ttl: timedelta
    tz: tzinfo
    backoff_max_s: float = 300.0


class NoticeSender(Worker):
    """Sends the due notices of one channel; counts what went out (`sent`) and what failed."""

    channel = ""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        policy: NoticePolicy,
        poll_s: float = 5.0,
    ) -> None:
        super().__init__(poll_s)
        self._sessions, self._clock, self.policy = sessions, clock, policy
        self.sent = 0
        self.failed = 0

    def work_once(self) -> None:
        try:
            while self.deliver_pending() and not self._stop.is_set():
                pass
        except Exception:
            log.exception("customer %s notices failed; will retry", self.channel)

    def _lease(self, now: datetime) -> list[tuple[Any, str | None]]:
        """The due rows (with their contact), leased, each with a fresh link token."""
        n, c, o = orm.customer_notices.c, orm.order_contacts.c, orm.orders.c
        stmt = (
            select(n.id, n.order_id, n.payload, n.attempts, c.address, c.secret)
            .join(orm.order_contacts, c.id == n.contact_id)
            .join(orm.orders, o.order_id == n.order_id)
            .where(n.channel == self.channel, n.delivered_at.is_(None), n.next_attempt_at <= now)
            .where(o.status.in_(OPEN_STATUS_VALUES))
            .order_by(n.id)
            .limit(50)
            .with_for_update(skip_locked=True, of=orm.customer_notices)
        )
        with self._sessions() as session, session.begin():
            rows = session.execute(stmt).all()
            leased = []
            for row in rows:
                self._record(session, row.id, next_attempt_at=now + timedelta(seconds=_LEASE_S))
                leased.append(
                    (row, mint_link_token(session, row.order_id, now, self.policy.link_ttl))
                )
        return leased

    def _record(self, session: Session, notice_id: int, **values: Any) -> None:
        t = orm.customer_notices
        session.execute(update(t).where(t.c.id == notice_id).values(**values))

    def link(self, order_id: str, token: str | None) -> str | None:
        """The customer page of the order with the link's token."""
        if token is None:
            return None
        return f"{self.policy.public_url}/track/{quote(order_id, safe='')}?token={token}"

    def deliver_pending(self) -> int:
        """Send the rows due now (no transaction open while sending); returns how many went."""
        if not self.fence():
            return 0
        delivered = 0
        for row, token in self._lease(self._clock()):
            notice, ref = notice_of(row.payload), f"notice-{row.id}"
            error = self.send(row, notice, ref, self.link(row.order_id, token))
            attempts = row.attempts + 1
            with self._sessions() as session, session.begin():
                if error is None:
                    values: dict[str, Any] = {"delivered_at": self._clock(), "last_error": None}
                else:
                    wait = min(self.policy.backoff_max_s, 2.0 ** (attempts - 1))
                    values = {
                        "next_attempt_at": self._clock() + timedelta(seconds=wait),
                        "last_error": error[:2000],
                    }
                self._record(session, row.id, attempts=attempts, **values)
            if error is None:
                self.sent += 1
                delivered += 1
                log.info(
                    "%s (%s, order %s) sent by %s", ref, notice.kind, row.order_id, self.channel
                )
            else:
                self.failed += 1
                log.warning("%s by %s failed (attempt %d): %s", ref, self.channel, attempts, error)
        return delivered

    def send(self, row: Any, notice: PromiseNotice, ref: str, link: str | None) -> str | None:
        """Deliver one notice; None on success, else why not."""
        raise NotImplementedError


class EmailNotices(NoticeSender):
    """Notices by email through the SMTP server."""

    channel = "email"
    name = "customer-email"

    def __init__(self, server: SmtpServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._server = server

    def send(self, row: Any, notice: PromiseNotice, ref: str, link: str | None) -> str | None:
        tz = self.policy.tz
        body = message(
            self._server,
            row.address,
            wording.subject(notice),
            wording.text(notice, tz, link),
            wording.html_text(notice, tz, link),
            ref,
        )
        try:
            send_mail(self._server, row.address, body)
        except Exception as exc:  # smtplib's errors, OSError, ssl's: all mean "not accepted"
            return f"{type(exc).__name__}: {exc}"
        return None


class WebhookNotices(NoticeSender):
    """Notices POSTed as JSON, signed with the contact's secret as alerts' webhooks are."""

    channel = "webhook"
    name = "customer-webhooks"

    def __init__(
        self,
        *args: Any,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._http = httpx.Client(timeout=timeout_s, transport=transport)

    def stop(self) -> None:
        super().stop()
        self._http.close()

    def send(self, row: Any, notice: PromiseNotice, ref: str, link: str | None) -> str | None:
        body = json.dumps(wording.webhook_body(notice, ref, link), separators=(",", ":")).encode()
        key = signing_key(row.secret) if row.secret else None
        headers = webhook_headers(ref, int(self._clock().timestamp()), body, key)
        try:
            response = self._http.post(row.address, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if response.is_success else f"HTTP {response.status_code}"
