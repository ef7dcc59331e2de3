"""Prometheus metrics of the tracker's API: requests, customer polling, events and alerts."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.adapters.customer_notices import NoticeSender
from tracker.adapters.leadership import Leader
from tracker.entrypoints.mqtt_consumer import EventConsumer
from tracker.views.alerts import alerts_raised
from tracker.views.parked import parked_count

log = logging.getLogger(__name__)


class ApiMetrics:
    """One registry per app (tests build many apps in one process)."""

    def __init__(
        self,
        consumer: EventConsumer,
        read_sessions: sessionmaker[Session],
        leader: Leader | None = None,
        notices: Sequence[NoticeSender] = (),
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "shopfloor_tracker_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.progress = Counter(
            "shopfloor_tracker_progress_requests",
            "customer progress requests by outcome: ok, not_modified, not_found, rate_limited",
            ["outcome"],
            registry=self.registry,
        )
        self.registry.register(_TrackerCollector(consumer, read_sessions))
        if leader is not None:
            self.registry.register(_LeadershipCollector(leader))
        self.registry.register(_NoticeCollector(notices))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Counts every HTTP request by the route it matched (not its path: bounded labels)."""

        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            status = [500]

            async def send_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_status)
            finally:
                route = getattr(scope.get("route"), "path", "unmatched")
                self.requests.labels(route, scope["method"], str(status[0])).inc()

        return counted


class _NoticeCollector(Collector):
    """Customers' notices this instance sent, and attempts that failed, by channel."""

    def __init__(self, senders: Sequence[NoticeSender]) -> None:
        self._senders = senders

    def collect(self) -> Iterator[Metric]:
        notices = CounterMetricFamily(
            "shopfloor_tracker_customer_notices",
            "customers' promise notices by channel (email, webhook) and outcome: sent, or an "
            "attempt failed (retried)",
            labels=["channel", "outcome"],
        )
        for sender in self._senders:
            notices.add_metric([sender.channel, "sent"], sender.sent)
            notices.add_metric([sender.channel, "failed"], sender.failed)
        yield notices


class _LeadershipCollector(Collector):
    """Whether this instance leads the singleton duties, and how often that changed."""

    def __init__(self, leader: Leader) -> None:
        self._leader = leader

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "shopfloor_tracker_leader",
            "1 on the instance running the singleton duties (checks, dispatch lists, alert"
            " delivery, optimiser), 0 on a follower",
            value=1.0 if self._leader.is_leader() else 0.0,
        )
        yield CounterMetricFamily(
            "shopfloor_tracker_leadership_changes",
            "times this instance took the lead or stepped down",
            value=self._leader.changes,
        )


class _TrackerCollector(Collector):
    """Read at each scrape: events the MQTT consumer applied, alerts raised (stored)."""

    def __init__(self, consumer: EventConsumer, read_sessions: sessionmaker[Session]) -> None:
        self._consumer = consumer
        self._read = read_sessions  # a scrape never waits for the write lock

    def collect(self) -> Iterator[Metric]:
        consumer = self._consumer
        events = CounterMetricFamily(
            "shopfloor_tracker_events",
            "machine event messages by outcome: applied, redelivered (no change), rejected, parked",
            labels=["outcome"],
        )
        events.add_metric(["applied"], consumer.applied)
        events.add_metric(["redelivered"], consumer.redelivered)
        events.add_metric(["rejected"], sum(consumer.rejected.values()))
        events.add_metric(["parked"], consumer.parked)
        yield events
        rejected = CounterMetricFamily(
            "shopfloor_tracker_events_rejected",
            "machine event messages rejected (and dead-lettered), by reason",
            labels=["reason"],
        )
        for reason, count in sorted(consumer.rejected.items()):
            rejected.add_metric([reason], count)
        yield rejected
        yield GaugeMetricFamily(
            "shopfloor_tracker_events_lag",
            "machine event messages received and not yet applied, rejected or parked",
            value=consumer.lag,
        )
        yield GaugeMetricFamily(
            "shopfloor_tracker_events_oldest_unacked_seconds",
            "age of the oldest machine event message received and not yet acknowledged",
            value=consumer.oldest_unacked_s(),
        )
        try:
            with self._read() as session:
                raised, parked = alerts_raised(session), parked_count(session)
        except Exception:  # the database is down: /readyz says so; the scrape still answers
            log.warning("alert and parked counts unavailable for /metrics", exc_info=True)
            return
        yield CounterMetricFamily(
            "shopfloor_tracker_alerts_raised", "late-order alerts raised (stored)", value=raised
        )
        yield GaugeMetricFamily(
            "shopfloor_tracker_parked_messages",
            "machine events parked (failed to apply), waiting for a replay",
            value=parked,
        )
