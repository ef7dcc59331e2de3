"""The simulator's record of what it did: state spans, parts good and scrap, breakdowns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from device_sim.dispatch_board import DispatchBoard
from device_sim.ground_truth import GroundTruth
from device_sim.jobs import Job
from device_sim.scenario import FaultSpec, MachineSpec, Scenario
from device_sim.simulation import Simulation
from shopfloor.contract.payloads import CycleEvent, MachineState, StateEvent

T0 = datetime(2026, 12, 7, 8, tzinfo=UTC)


def _at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def test_state_repeats_are_not_changes_and_seconds_are_counted_in_windows() -> None:
    truth = GroundTruth()
    states = [(0, "IDLE"), (10, "RUNNING"), (20, "RUNNING"), (40, "DOWN"), (50, "RUNNING")]
    truth.record(
        ("m", "event", StateEvent(type="state", event_id=f"e{t}", ts=_at(t), state=MachineState(s)))
        for t, s in states
    )
    did = truth.machines["m"]
    assert [s.state for s in did.spans()] == ["IDLE", "RUNNING", "DOWN", "RUNNING"]
    # RUNNING 10-40 and from 50 on (open: to each window's end)
    assert did.seconds("RUNNING", [(_at(0), _at(60))]) == 40
    assert did.seconds("RUNNING", [(_at(0), _at(30)), (_at(45), _at(55))]) == 25
    assert [(s.start, s.end) for s in truth.stops("m")] == [(_at(40), _at(50))]


def test_a_cycle_that_moves_the_scrap_counter_is_scrap() -> None:
    truth = GroundTruth()

    def cycle(n: int, counter: int, scrap: int | None) -> tuple[str, str, CycleEvent]:
        event = CycleEvent(
            type="cycle", event_id=f"c{n}", ts=_at(n), counter=counter, scrap_counter=scrap
        )
        return ("m", "event", event)

    truth.record([cycle(1, 1, 0), cycle(2, 1, 1), cycle(3, 2, 1), cycle(4, 3, None)])
    assert (truth.machines["m"].good, truth.machines["m"].scrap) == (3, 1)


def test_a_simulation_records_its_parts_and_its_breakdown_when_asked() -> None:
    scenario = Scenario(
        name="t",
        speed=60,
        machines=[MachineSpec(id="m1", model="press_brake", failures=False, scrap_rate=0.3)],
        faults=[FaultSpec(at=120, machine="m1", down_for=60)],
    )
    board = DispatchBoard(60)
    sim = Simulation.from_scenario(scenario, board)
    sim.machines[0].jobs.append(Job("O-1", 10, "m1", 12, 30.0, 0.0))
    sim.truth = GroundTruth()
    now = T0
    for _ in range(400):
        sim.step_models(now, 3.0)
        now += timedelta(seconds=0.05)
    did = sim.truth.machines["m1"]
    assert did.good == 12 and did.scrap == sim.machines[0].scrap_counter > 0
    assert len(sim.truth.stops("m1")) == 1
