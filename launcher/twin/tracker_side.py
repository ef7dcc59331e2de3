"""The tracker as the twin runs it: its real bus, handlers, planner and dispatch lists, on a
SQLite database of its own, with a clock the twin moves; no broker, no threads.

A migrated database is made once per process and copied for every run (migrating costs
about a second; a copy costs nothing), on /dev/shm where there is one.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from device_sim.dispatch_board import DispatchBoard
from tracker.adapters import orm
from tracker.adapters.database import make_engine, read_session_factory, session_factory
from tracker.adapters.migrations import upgrade
from tracker.adapters.planning_reads import SqlPlanningSessions
from tracker.adapters.unit_of_work import SqlUnits
from tracker.domain import commands
from tracker.domain.alerts import AlertPolicy
from tracker.domain.binding import MachineRules
from tracker.domain.foresight.estimator import Forecast
from tracker.domain.planning.dispatch_lists import Queue, dispatch_list, news
from tracker.domain.planning.model import Plan
from tracker.domain.routing import Plant
from tracker.domain.schedule import AtRiskRule, OnTimeOdds, ScheduleRules
from tracker.service_layer.bus import MessageBus
from tracker.service_layer.machine_queues import read_machine_queues
from tracker.service_layer.planning import Planner, PlanningPolicy
from tracker.settings import TrackerSettings

from .traces import OperationDone

_template: dict[str, Path] = {}


class VirtualClock:
    """Plant time, moved by the twin: the tracker reads `now` from it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def setting_default(name: str) -> float:
    """A tracker setting's default: the twin judges the tracker as it ships."""
    value = TrackerSettings.model_fields[name].default
    assert isinstance(value, float)
    return value


def default_rules(
    at_risk_rule: AtRiskRule = AtRiskRule.RULES,
    at_risk_below: float | None = None,
    back_on_track_above: float | None = None,
) -> ScheduleRules:
    """The at-risk rules with the tracker's default settings (and this at-risk rule, and
    these P(on time) thresholds when given)."""
    return ScheduleRules(
        setting_default("at_risk_slack_s"),
        setting_default("behind_plan_ratio"),
        setting_default("recovery_margin_s"),
        at_risk_rule=at_risk_rule,
        at_risk_below=(
            setting_default("foresight_at_risk_below") if at_risk_below is None else at_risk_below
        ),
        back_on_track_above=(
            setting_default("foresight_back_on_track_above")
            if back_on_track_above is None
            else back_on_track_above
        ),
    )


def fresh_database(workdir: Path) -> str:
    """A migrated SQLite database in `workdir` (a copy of this process's migrated template)."""
    key = str(workdir)
    if key not in _template:
        path = workdir / "template.db"
        upgrade(f"sqlite:///{path}")
        _template[key] = path
    target = workdir / f"twin-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(_template[key], target)
    return f"sqlite:///{target}"


def scratch_dir() -> Path:
    """Where the twin keeps its databases: memory-backed when the system has /dev/shm."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="shopfloor-twin-", dir=shm if shm.is_dir() else None))


class TwinTracker:
    """The tracker's bus and planner on one database; `replan()` runs what a replan runs in
    the tracker (plan, check every open order, dispatch lists out) synchronously."""

    def __init__(
        self,
        url: str,
        plant: Plant,
        clock: VirtualClock,
        board: DispatchBoard,
        rules: ScheduleRules | None = None,
    ) -> None:
        self.engine: Engine = make_engine(url)
        self.sessions = session_factory(self.engine)
        self.read_sessions = read_session_factory(self.engine)
        self.plant = plant
        self.board = board
        self.clock = clock
        self.wanted = True  # a replan is due (the bus asked for one)
        self.asked_at = clock.now  # when the bus last asked (the planner's debounce counts from it)
        self.planning_reads = SqlPlanningSessions(self.read_sessions)
        self.planner = Planner(
            self.planning_reads,
            plant,
            clock,
            PlanningPolicy(down_allowance_s=setting_default("down_allowance_s")),
        )
        self.bus = MessageBus(
            SqlUnits(self.sessions),
            clock,
            policy=AlertPolicy(rules or default_rules()),
            plans=lambda: self.planner.current,
            on_plan_change=self._want,
            rules=MachineRules(machines=frozenset(plant.machines)),
            odds=lambda: self.odds,
        )
        # forecasts every open order of a new plan, as the tracker's foresight does (None: off)
        self.foresee: Callable[[Plan], Mapping[str, Forecast]] | None = None
        self.odds: Mapping[str, OnTimeOdds] = {}
        self._told: dict[str, Queue] = {}
        self.replans = 0

    def _want(self) -> None:
        self.wanted = True
        self.asked_at = self.clock.now

    def replan(self) -> Plan:
        """Plan, forecast it, check every open order against both, hand out dispatch lists."""
        self.wanted = False
        plan = self.planner.replan()
        if self.foresee is not None:
            forecasts = self.foresee(plan).items()
            self.odds = {order_id: OnTimeOdds(f.p_on_time, f.reason) for order_id, f in forecasts}
        self.bus.handle(commands.CheckOrders())
        queues = read_machine_queues(self.planning_reads, self.plant, plan, self._told)
        for machine in news(self._told, queues):
            self.board.update(dispatch_list(machine, plan.made_at, queues[machine]))
            self._told[machine] = queues[machine]
        self.replans += 1
        return plan

    @property
    def plan(self) -> Plan | None:
        return self.planner.current

    def operations(self) -> dict[tuple[str, int], OperationDone]:
        """Every operation as the tracker recorded it, by (order, seq)."""
        ops = orm.operations.c
        query = select(
            ops.order_id, ops.seq, ops.started_at, ops.completed_at, ops.good_qty, ops.scrap_qty
        )
        with self.read_sessions() as session:
            return {
                (r.order_id, r.seq): OperationDone(
                    r.started_at, r.completed_at, r.good_qty, r.scrap_qty
                )
                for r in session.execute(query)
            }

    def close(self) -> None:
        self.engine.dispose()


def plant_of(machines: list[str], work_centers: Mapping[str, list[str]]) -> Plant:
    """The tracker's plant for the twin's machines and work centers."""
    return Plant(
        machines=tuple(machines),
        work_centers={name: tuple(ms) for name, ms in work_centers.items()},
    )


def remove_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
