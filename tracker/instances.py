"""One tracker or several: who leads the singleton duties, and how commits reach the others.

On PostgreSQL any number of instances run side by side: a PostgreSQL advisory lock elects the
one that runs the periodic check, publishes dispatch lists, delivers alerts and runs the
optimiser, and LISTEN/NOTIFY carries each instance's commits to the others' live streams and
caches. On SQLite there is one instance (a second refuses to start) and nothing to fan out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tracker.adapters.alert_outbox import release_leases
from tracker.adapters.change_fanout import PgChangeFanout
from tracker.adapters.dispatch_list_publisher import DispatchListPublisher
from tracker.adapters.leadership import Leader, PgLeadership, SoleInstance
from tracker.adapters.worker import Worker
from tracker.change_feed import ChangeFeed
from tracker.service_layer.bus import Changes
from tracker.service_layer.planning import Planner
from tracker.settings import TrackerSettings

log = logging.getLogger(__name__)


def on_postgresql(settings: TrackerSettings) -> bool:
    return settings.database_url.startswith("postgresql")


class Handover:
    """What a tracker does as it takes over or loses the lead."""

    def __init__(
        self,
        planner: Planner,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        workers: tuple[Worker, Worker, DispatchListPublisher | None],
        check_orders: Callable[[], None],
    ) -> None:
        self._planner, self._sessions, self._clock = planner, sessions, clock
        self.workers = tuple(worker for worker in workers if worker is not None)
        self._publisher = workers[2]  # the dispatch lists (None: turned off)
        self._check_orders = check_orders

    def elected(self) -> None:
        """The plan is rebuilt from the database before anything is published, and what the
        old leader had leased in the outbox is due now."""
        self._planner.replan()  # not the leader yet: no check, no publishing
        released = release_leases(self._sessions, self._clock())
        log.info("taking over: plan rebuilt, %d undelivered alert rows due now", released)
        if self._publisher is not None:
            self._publisher.forget()

    def leading(self) -> None:
        """Open orders are assessed against the new plan (alerts follow), and every dispatch
        list goes out once."""
        self._check_orders()
        if self._publisher is not None:
            self._publisher.notify()

    def deposed(self) -> None:
        """What this instance published may be overwritten by the new leader's."""
        if self._publisher is not None:
            self._publisher.forget()


def make_leader(settings: TrackerSettings, handover: Handover) -> Leader:
    """The advisory lock on PostgreSQL; on SQLite the only instance, always the leader."""
    leader: Leader
    if on_postgresql(settings):
        leader = PgLeadership(
            settings.database_url, settings.site, settings.leadership_timeout_s, handover
        )
    else:
        leader = SoleInstance(settings.database_url)
    for worker in handover.workers:  # alerts, webhooks, dispatch lists: from the leader only
        worker.fence = leader.confirm
    return leader


class NoFanout:
    """SQLite: one instance, no one else to tell."""

    def send(self, changes: Changes) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def make_fanout(
    settings: TrackerSettings, feed: ChangeFeed, also: Callable[[Changes], None]
) -> PgChangeFanout | NoFanout:
    """LISTEN/NOTIFY between instances on PostgreSQL; nothing on SQLite. What another instance
    committed goes to the local feed, then to `also`."""
    if not on_postgresql(settings):
        return NoFanout()

    def deliver(changes: Changes) -> None:
        feed.publish(changes)
        also(changes)

    return PgChangeFanout(settings.database_url, deliver, feed.resync)
