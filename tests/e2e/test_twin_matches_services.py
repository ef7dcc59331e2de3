"""A plant twin run equals a run on real services for the same seed, within one cycle time.

tests/data/scenarios/twin_match.yaml is played twice: by the plant twin (launcher/twin: the
simulator and the tracker's bus, handlers and planner in one process under a virtual clock, on
SQLite) and on real services (the simulator at 120x publishing to Mosquitto and taking its work
from the retained dispatch lists, the tracker as a process of its own, the orders placed and
read through its API). Every operation's completion (plant time) and good count must agree
within that operation's cycle time.

The twin is run with the services' cadence: it steps as the simulator's runner ticks (50 ms
at 120x: 6 plant seconds), replans as the tracker's debounce allows and hands every event on at
once (see docs/foresight.md, "The plant twin"). Plant time of the real run is the simulator's
own clock: the plant seconds it had played at the tick that stamped an event, so a tick late on
a busy host is not counted as plant time.
"""

from __future__ import annotations

import bisect
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from device_sim.dispatch_board import DispatchBoard
from device_sim.ground_truth import GroundTruth
from device_sim.rehearsal import TrackerApi, rehearse
from device_sim.runner import run
from device_sim.scenario import Scenario, load_scenario
from device_sim.simulation import Simulation
from launcher.twin.plant_twin import START, PlantTwin
from launcher.twin.tracker_side import fresh_database
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate
from shopfloor.mqtt import broker_settings
from tests.processes import served_tracker
from tests.services import Mosquitto
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

SCENARIO = Path(__file__).parent.parent / "data" / "scenarios" / "twin_match.yaml"
SPEED = load_scenario(SCENARIO).speed
TICK_S = 0.05  # the simulator runner's tick (wall seconds)
DEBOUNCE_S = 0.2  # the tracker's replan debounce (wall seconds)
CHECK_S = 600.0  # the tracker's periodic replan: not within the run
MS = timedelta(milliseconds=1)  # how far a stamp may be rounded on its way
# (order, seq) -> (completed, plant seconds from the start; good parts)
Done = dict[tuple[str, int], tuple[float, int]]


class ClockedSimulation(Simulation):
    """The simulator, keeping the plant seconds it had played at each tick's wall-clock time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ticks: list[tuple[datetime, float]] = []

    def step_models(self, now: datetime, dt_s: float) -> list[Any]:
        self.ticks.append((now, self.elapsed_s))
        return super().step_models(now, dt_s)

    def plant_s(self, stamp: datetime) -> float:
        """The plant time at wall-clock `stamp`: an event's is that of the tick that stamped it,
        another's that of the tick before it plus the wall time since, times the speed."""
        times = [now for now, _ in self.ticks]
        now, elapsed = self.ticks[max(bisect.bisect_right(times, stamp + MS) - 1, 0)]
        since = (stamp - now).total_seconds()
        return elapsed if since < MS.total_seconds() else elapsed + since * self.speed


def _scenario() -> Scenario:
    """The test's scenario on a site of its own (the broker and its retained lists are shared)."""
    site = f"twin{uuid.uuid4().hex[:6]}"
    return load_scenario(SCENARIO).model_copy(update={"site": site})


def _cycles(scenario: Scenario) -> dict[tuple[str, int], float]:
    return {(o.id, op.seq): op.cycle for o in scenario.orders for op in o.routing}


def _twin(scenario: Scenario, workdir: Path) -> tuple[Done, GroundTruth]:
    """The twin's run, at the services' cadence: every operation's completion and good parts."""
    twin = PlantTwin(scenario, workdir, foresee=None)
    twin.sim.truth = GroundTruth()
    twin.run(
        step_s=TICK_S * SPEED,
        replan_s=0.0,
        debounce_s=DEBOUNCE_S * SPEED,
        check_s=CHECK_S * SPEED,
        hold_s=0.0,
        observe_s=TICK_S * SPEED,
    )
    done = {
        key: ((op.completed_at - START).total_seconds(), op.good)
        for key, op in twin.tracker.operations().items()
        if op.completed_at is not None
    }
    return done, twin.sim.truth


def _services(
    scenario: Scenario, mosquitto: Mosquitto, tracker: dict[str, str]
) -> tuple[Done, GroundTruth, dict[str, float]]:
    """The run on real services: every operation's completion (the simulator's plant time) and
    good parts, as the tracker's API answers them, and when the tracker had each order."""
    api = TrackerApi(tracker["api"], tracker["key"])
    sim = ClockedSimulation.from_scenario(scenario, DispatchBoard(SPEED))
    assert isinstance(sim, ClockedSimulation) and sim.truth is None
    sim.truth = GroundTruth()
    stop = threading.Event()
    broker = broker_settings(f"mqtt://{mosquitto.host}:{mosquitto.port}")
    runner = threading.Thread(
        target=run,
        args=(sim, broker, TopicTemplate(DEFAULT_TEMPLATE)),
        kwargs={"stop": stop, "tick_s": TICK_S},
    )
    runner.start()
    try:
        rehearse(scenario, api, SPEED, stop, check=False)

        def completed() -> list[dict[str, Any]] | None:
            orders = [api.get(f"/api/v1/orders/{o.id}") for o in scenario.orders]
            return orders if all(o and o["status"] == "completed" for o in orders) else None

        orders = wait_for(completed, "every order completed", timeout_s=60, interval_s=0.3)
    finally:
        stop.set()
        runner.join(30)
        api.close()
    done = {
        (o["order_id"], op["seq"]): (
            sim.plant_s(datetime.fromisoformat(op["completed_at"])),
            op["good_qty"],
        )
        for o in orders
        for op in o["operations"]
    }
    placed = {o["order_id"]: sim.plant_s(datetime.fromisoformat(o["created_at"])) for o in orders}
    return done, sim.truth, placed


def _placed_at(scenario: Scenario, placed: dict[str, float]) -> Scenario:
    """The scenario with its orders coming when the tracker on real services had them."""
    orders = [o.model_copy(update={"at": placed[o.id]}) for o in scenario.orders]
    return scenario.model_copy(update={"orders": orders})


def _broke_while_working(truth: GroundTruth, machine: str) -> bool:
    """The machine's scripted breakdown caught it in a job (not idle)."""
    changes = truth.machines[machine].changes
    states = [s for s, _ in changes]
    return "DOWN" in states and states[states.index("DOWN") - 1] in ("SETUP", "RUNNING")


def test_a_twin_run_equals_a_run_on_real_services_within_one_cycle_time(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    scenario = _scenario()
    settings = {
        "SHOPFLOOR_SITE": scenario.site,
        "SHOPFLOOR_REPLAN_DEBOUNCE_S": str(DEBOUNCE_S),
        "SHOPFLOOR_CHECK_INTERVAL_S": str(CHECK_S),
    }
    database = fresh_database(tmp_path)  # a copy of the twin's migrated template
    with served_tracker(mosquitto, tmp_path, "twin", settings, database) as tracker:
        real, real_truth, placed = _services(scenario, mosquitto, tracker)
    # placing the orders over HTTP took a moment of plant time: the twin's come then too
    twin, twin_truth = _twin(_placed_at(scenario, placed), tmp_path)
    cycles = _cycles(scenario)
    assert set(twin) == set(real) == set(cycles)
    report = {k: (twin[k], real[k]) for k in sorted(cycles)}
    for key, cycle in cycles.items():
        (t_twin, good_twin), (t_real, good_real) = twin[key], real[key]
        assert abs(t_twin - t_real) <= cycle, (key, report)
        assert good_twin == good_real, (key, report)
    for truth in (twin_truth, real_truth):
        assert _broke_while_working(truth, "lathe-t"), truth.machines["lathe-t"].changes
        assert truth.machines["press-t"].scrap > 0  # scrap drawn alike, or the counts differ
