"""Wires the tracker: database, bus, MQTT consumer, alert and dispatch-list publishers, checks."""

# size: the composition root; every adapter is made and wired here, in dependency order, and
# the few callbacks between them (commits, plans, leadership) stay beside that wiring

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from shopfloor.failures import OnceLog
from shopfloor.mqtt import connect, make_client
from tracker.adapters.alert_publisher import MqttAlertPublisher
from tracker.adapters.database import make_engine, read_session_factory, session_factory
from tracker.adapters.dispatch_list_publisher import DispatchListPublisher
from tracker.adapters.migrations import check_migrated
from tracker.adapters.optimiser import optimise
from tracker.adapters.parked import ParkedMessages
from tracker.adapters.planning_reads import SqlPlanningSessions
from tracker.adapters.unit_of_work import SqlUnits
from tracker.adapters.webhooks import WebhookSender
from tracker.change_feed import ChangeFeed
from tracker.customer_notify import CustomerNotify
from tracker.domain import commands
from tracker.domain.alerts import AlertPolicy
from tracker.domain.binding import MachineRules
from tracker.domain.commands import OperationSpec
from tracker.domain.downtime import DowntimeRules
from tracker.domain.foresight.estimator import MachineRisk
from tracker.domain.foresight.priors import Priors
from tracker.domain.planning.model import Plan
from tracker.domain.planning.quote import Quote
from tracker.domain.routing import Plant
from tracker.domain.schedule import ScheduleRules
from tracker.entrypoints.mqtt_consumer import EventConsumer
from tracker.instances import Handover, make_fanout, make_leader
from tracker.plant import load_plant
from tracker.service_layer.bus import Changes, MessageBus
from tracker.service_layer.foresight import Foresight, ForesightPolicy, Outlook
from tracker.service_layer.machine_queues import read_machine_queues
from tracker.service_layer.planning import Planner, PlanningPolicy
from tracker.settings import TrackerSettings

log = logging.getLogger(__name__)
# the periodic jobs run every few seconds: a failure that repeats is logged in full once
_periodic = OnceLog(log)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _alert_policy(settings: TrackerSettings, plant: Plant) -> AlertPolicy:
    """When an order is at risk or late, the webhooks its alerts go to, the plant's zone."""
    rules = ScheduleRules(
        settings.at_risk_slack_s,
        settings.behind_plan_ratio,
        settings.recovery_margin_s,
        ZoneInfo(plant.timezone),
        settings.at_risk_rule,
        settings.foresight_at_risk_below,
        settings.foresight_back_on_track_above,
    )
    return AlertPolicy(rules, tuple(settings.webhook_keys()))


def _machine_rules(settings: TrackerSettings, plant: Plant) -> MachineRules:
    """How each machine's jobs bind and when it counts as OFFLINE (plant file, else settings)."""
    return MachineRules(
        binding=settings.job_binding,
        offline=settings.offline_rule,
        bindings=plant.bindings,
        offline_rules=plant.offline_rules,
        unassigned_window_s=settings.unassigned_window_s,
        machines=frozenset(plant.machines),
        downtime=DowntimeRules(plant.reasons, settings.downtime_min_s),
    )


def _foresight_policy(settings: TrackerSettings, plant: Plant) -> ForesightPolicy:
    """Samples per forecast and every machine's prior failure figures: the plant file's for
    the machines it gives figures for, else the settings' (docs/foresight.md)."""
    default = MachineRisk(
        settings.foresight_mtbf_s, settings.foresight_mttr_s, 0.5, settings.foresight_duration_cv
    )
    return ForesightPolicy(
        settings.foresight_samples,
        Priors.of_plant(default, plant.reliability),
        settings.foresight_queue_cv,
    )


class Tracker:
    """One running tracker; `start()`/`stop()` run its background parts."""

    # size: the composition root, every adapter wired in dependency order in one place
    def __init__(self, settings: TrackerSettings, clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        # a bad plant file raises PlantFileError (path:line: problem) before anything starts
        self.plant = load_plant(settings.plant_file) if settings.plant_file else Plant()
        self.engine = make_engine(settings.database_url)
        try:
            check_migrated(self.engine)  # NotMigratedError names `shopfloor migrate`
        except Exception:
            self.engine.dispose()
            raise
        self.sessions = session_factory(self.engine)
        # for the API's reads: on SQLite they never wait for the write lock
        self.read_sessions = read_session_factory(self.engine)
        self.client = make_client(settings.mqtt, settings.mqtt.client_id, manual_ack=True)
        self.alert_publisher = MqttAlertPublisher(self.sessions, self.client, settings.site, clock)
        webhook_keys = settings.webhook_keys()
        self.webhooks = WebhookSender(
            self.sessions,
            clock,
            timeout_s=settings.webhook_timeout_s,
            backoff_max_s=settings.webhook_backoff_max_s,
            keys={url: key for url, key in webhook_keys.items() if key is not None},
        )
        self.changes = ChangeFeed()
        self.fanout = make_fanout(settings, self.changes, self._committed_elsewhere)
        # planning and dispatch lists only read: no write lock on SQLite
        self.planning_reads = SqlPlanningSessions(self.read_sessions)
        self.planner = Planner(
            self.planning_reads,
            self.plant,
            clock,
            PlanningPolicy(settings.dispatch_rule, settings.down_allowance_s, settings.optimise_s),
            on_replanned=self._replanned,
            debounce_s=settings.replan_debounce_s,
            optimise=self._optimise,
        )
        self.foresight = Foresight(self.planning_reads, _foresight_policy(settings, self.plant))
        self.notify_customers = CustomerNotify(
            settings, self.plant.timezone, self.sessions, self.read_sessions, clock
        )
        self.bus = MessageBus(
            SqlUnits(self.sessions),
            clock,
            on_alert=self.notify_alerts,
            policy=_alert_policy(settings, self.plant),
            plans=lambda: self.planner.current,
            on_plan_change=self.planner.request,
            on_commit=self._committed,
            rules=_machine_rules(settings, self.plant),
            odds=lambda: self.foresight.current.odds,
        )
        self.dispatch_list_publisher = self._dispatch_list_publisher()
        self.parked = ParkedMessages(self.sessions)
        self.consumer = EventConsumer(
            self.client,
            self.bus,
            settings.template,
            self.counter_wrap,
            park=self.parked.park,
            attempts=settings.apply_attempts,
            clock=clock,
            share_group=settings.tracker_share_group,
        )
        publishers = (self.alert_publisher, self.webhooks, self.dispatch_list_publisher)
        handover = Handover(self.planner, self.sessions, clock, publishers, self.check_orders)
        self.leadership = make_leader(settings, handover)  # and only it delivers and publishes
        self.notify_customers.set_fence(self.leadership.confirm)
        self.scheduler = self._periodic_jobs()

    def _dispatch_list_publisher(self) -> DispatchListPublisher | None:
        """Publishes each machine's dispatch list after every plan (None: turned off)."""
        settings = self.settings
        if not settings.publish_dispatch:
            return None
        return DispatchListPublisher(
            self.client,
            settings.site,
            plans=lambda: self.planner.current,
            queues_of=lambda plan, told: read_machine_queues(
                self.planning_reads, self.plant, plan, told, settings.dispatch_max_jobs
            ),
        )

    def _periodic_jobs(self) -> BackgroundScheduler:
        """The replan-and-check and the silent-machine check, on a timer (not started)."""
        settings = self.settings
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(
            self.replan,
            "interval",
            seconds=settings.check_interval_s,
            id="replan-and-check-open-orders",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            self.mark_silent_machines,
            "interval",
            seconds=min(settings.check_interval_s, settings.offline_after_s),
            id="mark-silent-machines-offline",
            max_instances=1,
            coalesce=True,
        )
        return scheduler

    def counter_wrap(self, machine_id: str) -> int | None:
        """A machine's counter wrap: from SHOPFLOOR_COUNTER_WRAPS, else the plant file, else
        SHOPFLOOR_COUNTER_WRAP."""
        wraps = self.settings.counter_wraps
        if machine_id in wraps:
            return wraps[machine_id]
        return self.plant.counter_wraps.get(machine_id, self.settings.counter_wrap)

    @property
    def plan(self) -> Plan | None:
        """The current plan (None until the first one is made)."""
        return self.planner.current

    def quote(
        self,
        operations: Sequence[OperationSpec],
        quantity: int,
        priority: int,
        due_at: datetime | None = None,
    ) -> tuple[Quote, datetime]:
        """Capable-to-promise against the current plan, and when that plan was made."""
        quoted = self.planner.quote(operations, quantity, priority, due_at)
        plan = self.planner.current
        return quoted, plan.made_at if plan is not None else self.clock()

    def _committed(self, changes: Changes) -> None:
        """A commit: this instance's live streams and caches, then the other instances'."""
        self.changes.publish(changes)
        self.fanout.send(changes)

    def _committed_elsewhere(self, changes: Changes) -> None:
        """Another instance applied events: replan (the leader's dispatch lists follow), and
        the leader delivers the alerts they raised."""
        self.planner.request()
        if changes.alerts:
            self.notify_alerts()

    def _optimise(self, *args: Any, **kwargs: Any) -> Plan | None:
        """The optimiser runs on the leader only (a follower keeps its dispatch plan)."""
        return optimise(*args, **kwargs) if self.leadership.is_leader() else None

    def _replanned(self, plan: Plan) -> None:
        """A new plan: on the leader, the machines' dispatch lists go out (on the publisher's
        thread); on every instance each open order's P(on time) is forecast (the planner's
        thread, off the event path); then, on the leader, customers hear of the promises that
        forecast moved, and every open order is assessed against the plan and that forecast
        (alerts follow), so an order whose P(on time) crossed a threshold changes status now,
        not at its next machine event."""
        # a follower's plan (and forecast) serves its own reads (ETAs, quotes, the board)
        leader = self.leadership.is_leader()
        if leader and self.dispatch_list_publisher is not None:
            self.dispatch_list_publisher.notify()
        try:
            outlook = self.foresight.refresh(plan, self.clock())
        except Exception as exc:
            _periodic.failed("foresight", exc, "forecasting open orders failed")
        else:
            _periodic.ok("foresight")
            if leader:  # customers hear of moved promises from the leader
                self._watch_promises(outlook)
        if leader:
            self.check_orders()

    def _watch_promises(self, outlook: Outlook) -> None:
        """Customers' notices of the promises this forecast moved (customer-notifications.md)."""
        try:
            self.notify_customers.after_forecast(outlook)
        except Exception as exc:
            _periodic.failed("promises", exc, "watching customers' promises failed")
        else:
            _periodic.ok("promises")

    def replan(self) -> None:
        """The periodic replan (reality moves even when no event says so: time passes)."""
        try:
            self.planner.replan()
        except Exception as exc:
            _periodic.failed("replan", exc, "periodic planning failed")
        else:
            _periodic.ok("replan")

    def mark_silent_machines(self) -> None:
        """The periodic check: machines silent for `offline_after_s` become OFFLINE."""
        if not self.leadership.is_leader():  # the leader's duty
            return
        try:
            self.bus.handle(
                commands.MarkSilentMachinesOffline(self.clock(), self.settings.offline_after_s)
            )
        except Exception as exc:
            _periodic.failed("silent", exc, "periodic silent-machine check failed")
        else:
            _periodic.ok("silent")

    def notify_alerts(self) -> None:
        """New rows in the alert outbox: wake both delivery threads."""
        self.alert_publisher.notify()
        self.webhooks.notify()

    def check_orders(self) -> None:
        """The periodic check: re-project every open order, then deliver pending alerts."""
        try:
            self.bus.handle(commands.CheckOrders())
        except Exception as exc:
            _periodic.failed("check", exc, "periodic order check failed")
        else:
            _periodic.ok("check")
        self.notify_alerts()

    def start(self) -> None:
        self.leadership.start()  # SQLite: AnotherInstanceError if a tracker runs on it
        self.fanout.start()
        self.planner.replan()  # ETAs and quotes from the first request on
        self.planner.start()
        self.consumer.start()
        connect(self.client, self.settings.mqtt)
        self.client.loop_start()
        self.alert_publisher.start()
        self.webhooks.start()
        self.notify_customers.start()
        if self.dispatch_list_publisher is not None:
            self.dispatch_list_publisher.start()
        self.scheduler.start()
        log.info(
            "tracker started (database %s, checks every %.0fs, %s)",
            self.engine.url.render_as_string(hide_password=True),
            self.settings.check_interval_s,
            self.leadership.role,
        )

    def stop(self) -> None:
        self.leadership.stop()  # first: a standby takes over while this one winds down
        self.scheduler.shutdown(wait=False)
        self.planner.stop()
        self.alert_publisher.stop()
        self.webhooks.stop()
        self.notify_customers.stop()
        if self.dispatch_list_publisher is not None:
            self.dispatch_list_publisher.stop()
        # the batch in hand is committed and acknowledged before the connection closes
        self.consumer.stop()
        self.client.disconnect()
        self.client.loop_stop()
        self.fanout.stop()
        self.engine.dispose()
        log.info("tracker stopped")

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        self.start()
        try:
            yield
        finally:
            self.stop()
