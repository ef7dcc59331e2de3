"""Customers' notifications of one tracker: the promise watch after each forecast (on the
planner's thread) and the delivery threads (email when SMTP is set, webhooks)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from tracker.adapters.customer_notices import (
    EmailNotices,
    NoticePolicy,
    NoticeSender,
    WebhookNotices,
)
from tracker.adapters.promise_store import SqlPromiseBook
from tracker.adapters.smtp_mail import SmtpServer
from tracker.service_layer.foresight import Outlook
from tracker.service_layer.promise_watch import watch_promises
from tracker.settings import TrackerSettings

log = logging.getLogger(__name__)


def smtp_server(settings: TrackerSettings) -> SmtpServer | None:
    """The SMTP server of the settings, None when none is set."""
    if settings.smtp_host is None or settings.smtp_from is None:
        return None
    password = settings.smtp_password
    return SmtpServer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        settings.smtp_security,
        settings.smtp_username,
        password.get_secret_value() if password is not None else None,
        settings.smtp_timeout_s,
    )


def public_url(settings: TrackerSettings) -> str:
    """Where customers reach the tracker: SHOPFLOOR_PUBLIC_URL, else the API's own address."""
    if settings.public_url is not None:
        return str(settings.public_url).rstrip("/")
    return f"http://{settings.api_host}:{settings.api_port}"


class CustomerNotify:
    """Watches promises after each forecast and delivers the notices it queues."""

    def __init__(
        self,
        settings: TrackerSettings,
        timezone: str,
        sessions: sessionmaker[Session],
        read_sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions, self._reads, self._clock = sessions, read_sessions, clock
        self.min_interval = timedelta(seconds=settings.customer_notify_min_interval_s)
        policy = NoticePolicy(
            public_url(settings),
            timedelta(seconds=settings.customer_link_ttl_s),
            ZoneInfo(timezone),
            settings.webhook_backoff_max_s,
        )
        self.webhooks = WebhookNotices(
            sessions, clock, policy, timeout_s=settings.webhook_timeout_s
        )
        server = smtp_server(settings)
        self.email = None if server is None else EmailNotices(server, sessions, clock, policy)
        self.senders: tuple[NoticeSender, ...] = tuple(
            s for s in (self.email, self.webhooks) if s is not None
        )

    @property
    def email_enabled(self) -> bool:
        """False when no SMTP server is set: emails are kept as contacts but not sent."""
        return self.email is not None

    def after_forecast(self, outlook: Outlook) -> int:
        """Step every watched order's promise with the new forecast; wake the senders when
        notices were queued; returns how many."""
        channels = tuple(sender.channel for sender in self.senders)
        books = partial(SqlPromiseBook, self._sessions, self._reads, channels)
        queued = watch_promises(books, outlook, self._clock(), self.min_interval)
        if queued:
            for sender in self.senders:
                sender.notify()
        return queued

    def set_fence(self, fence: Callable[[], bool]) -> None:
        """Only the leader sends."""
        for sender in self.senders:
            sender.fence = fence

    def start(self) -> None:
        if self.email is None:
            log.info("customer emails off: no SHOPFLOOR_SMTP_HOST (webhook notices still go)")
        for sender in self.senders:
            sender.start()

    def stop(self) -> None:
        for sender in self.senders:
            sender.stop()
