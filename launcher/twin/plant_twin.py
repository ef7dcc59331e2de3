"""The plant twin: a scenario's simulated plant and the tracker's bus, domain and planner
under one virtual clock, stepped in plant time as fast as the machine allows.

Each step places the orders whose time has come (`CreateOrder`, as the API does), advances
the simulated machines, hands their events to the bus as the MQTT consumer would (the same
`to_command`), and replans when the bus asked for it or the periodic check is due; the
machines take their work from the dispatch lists of that plan. Every `observe_s` (and when
an order is placed) the twin looks at each open order as the API shows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from device_sim.dispatch_board import DispatchBoard
from device_sim.models import MODELS
from device_sim.scenario import OrderSpec, Scenario
from device_sim.simulation import Simulation
from shopfloor.contract.payloads import StateEvent
from shopfloor.contract.topics import EVENT
from tracker.adapters import orm
from tracker.domain import commands
from tracker.domain.foresight.estimator import Forecast, MachineRisk, forecast
from tracker.domain.foresight.learning import MachineHistory
from tracker.domain.planning.model import Plan
from tracker.domain.schedule import AtRiskRule, ScheduleRules
from tracker.entrypoints.event_messages import to_command

from .arrivals import arrivals
from .traces import Look, OrderTrace, TwinRun
from .tracker_side import TwinTracker, VirtualClock, fresh_database, plant_of, setting_default

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
TOKEN_HASH = "0" * 64
# what the twin forecasts with: the plan, each machine's risk, the open orders' due dates
Foresee = Callable[
    [Plan, Mapping[str, MachineRisk], Mapping[str, datetime], datetime], dict[str, Forecast]
]


# what reaches the tracker at once: job starts and ends, machines stopping or coming back
_URGENT = (commands.StartJob, commands.EndJob)
_STOPS = {"DOWN", "OFFLINE"}
# what a look reads of every order (built once)
_o = orm.orders.c
_LOOK = select(_o.order_id, _o.schedule_status, _o.schedule_reasons, _o.eta, _o.completed_at)


def create_order(spec: OrderSpec, start: datetime) -> commands.CreateOrder:
    """The scenario's order as the API would create it, due `spec.due` after the start."""
    return commands.CreateOrder(
        order_id=spec.id,
        customer=spec.customer,
        product=spec.product,
        quantity=spec.quantity,
        due_at=start + timedelta(seconds=spec.due),
        operations=tuple(
            commands.OperationSpec(op.seq, op.name, op.machine, op.setup, op.cycle)
            for op in spec.routing
        ),
        token_hash=TOKEN_HASH,
        priority=spec.priority,
    )


# the tracker's default spread of waits for planned starts (SHOPFLOOR_FORESIGHT_QUEUE_CV)
QUEUE_CV = setting_default("foresight_queue_cv")


def default_foresee(
    plan: Plan, risks: Mapping[str, MachineRisk], due: Mapping[str, datetime], now: datetime
) -> dict[str, Forecast]:
    return forecast(
        plan, due, risks, now, samples=300, seed=int(now.timestamp()), queue_cv=QUEUE_CV
    )


class PlantTwin:
    """One scenario, its plant and a tracker of its own; `run()` plays it to the end."""

    def __init__(
        self,
        scenario: Scenario,
        workdir: Path,
        rules: ScheduleRules | None = None,
        foresee: Foresee | None = default_foresee,
        with_arrivals: bool = False,
        start: datetime = START,
    ) -> None:
        self.scenario = scenario
        self.start = start
        self.clock = VirtualClock(start)
        self.board = DispatchBoard(1.0)
        self.sim = Simulation.from_scenario(scenario, self.board, speed=1.0)
        plant = plant_of([m.id for m in scenario.machines], scenario.work_centers)
        self.tracker = TwinTracker(fresh_database(workdir), plant, self.clock, self.board, rules)
        self.foresee = foresee
        self.arrivals = with_arrivals
        # each machine's prior: its model's figures (what a plant file would say), not its
        # true ones (job_shop.py draws those apart)
        self.priors = {
            m.id: MachineRisk(
                mtbf_s=MODELS[m.model].mtbf_s,
                mttr_s=MODELS[m.model].mttr_s,
                duration_cv=MODELS[m.model].cycle_cv,
            )
            for m in scenario.machines
        }
        self.history = {m.id: MachineHistory() for m in scenario.machines}
        if rules is not None and rules.at_risk_rule is AtRiskRule.P_ON_TIME:
            self.tracker.foresee = self._forecast  # the tracker's status takes P(on time)
        self.traces: dict[str, OrderTrace] = {}
        self.events = 0
        self._held: list[commands.Command] = []
        self._held_since = start

    def risks(self, now: datetime) -> dict[str, MachineRisk]:
        """What the tracker has learned of each machine by now, from its prior and states,
        and the orders released over the last day (what is still to come, at that pace)."""
        learned = {m: h.risk(self.priors[m], now) for m, h in self.history.items()}
        if not self.arrivals:
            return learned
        return arrivals(learned, self.scenario, self.tracker.plant, self.start, now)

    def _forecast(self, plan: Plan) -> dict[str, Forecast]:
        """What the tracker's foresight would say after `plan`: its open orders' forecasts."""
        now = self.clock.now
        due = {o: self.traces[o].due_at for o in plan.etas if o in self.traces}
        return self.foresee(plan, self.risks(now), due, now) if self.foresee is not None else {}

    def run(
        self,
        horizon_s: float = 7 * 86400.0,
        step_s: float = 60.0,
        observe_s: float = 600.0,
        check_s: float = 1800.0,
        replan_s: float = 300.0,
        hold_s: float = 900.0,
        debounce_s: float = 0.0,
    ) -> TwinRun:
        """Play the scenario until every order is done (or `horizon_s` of plant time).

        The tracker replans when the bus asks, at most every `replan_s`, once the bus has not
        asked for `debounce_s` (the live planner's debounce), and every `check_s` (the periodic
        check); part counts reach it within `hold_s`.
        """
        t0 = time.perf_counter()
        pending = sorted(self.scenario.orders, key=lambda o: o.at)
        elapsed, next_check, next_look, last_plan = 0.0, 0.0, 0.0, -replan_s
        if debounce_s:
            # a live tracker's start-up plan comes before any order (an empty one): the orders
            # placed at the start wait for the debounce, as they do there
            next_check = check_s
        while elapsed <= horizon_s:
            now = self.start + timedelta(seconds=elapsed)
            self.clock.now = now
            placed = [create_order(o, self.start) for o in pending if o.at <= elapsed]
            if placed:
                pending = pending[len(placed) :]
                self.tracker.bus.handle_batch(placed)
                for cmd in placed:
                    self.traces[cmd.order_id] = OrderTrace(cmd.order_id, now, cmd.due_at)
            self._machines(now, step_s, hold_s)
            quiet = now >= self.tracker.asked_at + timedelta(seconds=debounce_s)
            asked = (
                self.tracker.wanted and quiet and (bool(placed) or elapsed >= last_plan + replan_s)
            )
            if asked or elapsed >= next_check:
                self.tracker.replan()
                next_check, last_plan = elapsed + check_s, elapsed
            if placed or elapsed >= next_look:
                open_left = self._look(now)
                next_look = elapsed + observe_s
                if not pending and not open_left:
                    break
            elapsed += step_s
        self.tracker.close()
        return TwinRun(
            self.scenario.name,
            self.traces,
            self.tracker.replans,
            self.events,
            time.perf_counter() - t0,
            elapsed,
        )

    def _machines(self, now: datetime, step_s: float, hold_s: float) -> None:
        """Advance the machines one step; their events go to the bus in one batch.

        Part counts and ordinary state changes wait up to `hold_s` (they only move the ETA);
        a job start or end, or a machine stopping or coming back, goes at once, with what was
        held before it, in time order.
        """
        urgent = False
        for machine, kind, message in self.sim.step_models(now, step_s):
            if kind != EVENT:
                continue
            if isinstance(message, StateEvent):
                history = self.history[machine]
                urgent = urgent or _STOPS & {history.state, message.state.value} != set()
                history.record(message.state.value, message.ts or now)
            cmd = to_command(machine, message, now)  # type: ignore[arg-type]
            if cmd is not None:
                self._held.append(cmd)
                urgent = urgent or isinstance(cmd, _URGENT)
        if self._held and (urgent or now >= self._held_since + timedelta(seconds=hold_s)):
            self.events += len(self._held)
            self.tracker.bus.handle_batch(self._held)
            self._held = []
        if not self._held:
            self._held_since = now

    def _look(self, now: datetime) -> int:
        """Record every order's status and ETA (and forecast); returns how many are open."""
        with self.tracker.read_sessions() as session:
            rows = session.execute(_LOOK).all()
        open_rows = [r for r in rows if r.completed_at is None]
        plan = self.tracker.plan
        forecasts: dict[str, Forecast] = {}
        if self.foresee is not None and plan is not None and open_rows:
            due = {r.order_id: self.traces[r.order_id].due_at for r in open_rows}
            forecasts = self.foresee(plan, self.risks(now), due, now)
        for row in rows:
            trace = self.traces[row.order_id]
            if row.completed_at is not None:
                trace.completed_at = trace.completed_at or row.completed_at
                continue
            f = forecasts.get(row.order_id)
            trace.looks.append(
                Look(
                    now,
                    str(getattr(row.schedule_status, "value", row.schedule_status)),
                    tuple(row.schedule_reasons or ()),
                    row.eta,
                    f.p_on_time if f else None,
                    f.p50 if f else None,
                    f.p90 if f else None,
                )
            )
        return len(open_rows)
