"""Simulated failures, power-offs, scrap, counter wraps, network faults and dispatch lists."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from device_sim.dispatch_board import STALE, DispatchBoard
from device_sim.jobs import Job
from device_sim.machine import SimMachine
from device_sim.models import CNC_MILL, MODELS, WELDING_ROBOT
from device_sim.network import Link
from device_sim.scenario import parse_scenario
from device_sim.simulation import Simulation
from shopfloor.contract.payloads import (
    AlarmEvent,
    CycleEvent,
    DispatchJob,
    DispatchList,
    MachineState,
    PayloadError,
    StateEvent,
    TelemetryReading,
    encode,
    parse_event,
    parse_telemetry,
)
from shopfloor.contract.topics import EVENT, TELEMETRY

T0 = datetime(2026, 3, 2, 6, tzinfo=UTC)


def _always(_job: Job) -> bool:
    return True


def _run(machine: SimMachine, seconds: float, dt_s: float = 1.0) -> list[tuple[str, BaseModel]]:
    out = []
    for i in range(int(seconds / dt_s)):
        out.extend(machine.step(T0 + timedelta(seconds=i * dt_s), dt_s, _always))
    return out


def _events(messages: list[tuple[str, BaseModel]]) -> list[Any]:
    return [p for k, p in messages if k == EVENT]


def _states(messages: list[tuple[str, BaseModel]]) -> list[MachineState]:
    return [e.state for e in _events(messages) if isinstance(e, StateEvent)]


def _readings(messages: list[tuple[str, BaseModel]]) -> list[TelemetryReading]:
    return [p for k, p in messages if isinstance(p, TelemetryReading)]


# --- machines --------------------------------------------------------------------------------


def test_every_model_reports_its_own_channels_by_the_contract() -> None:
    for model in MODELS.values():
        machine = SimMachine("m", random.Random(1), [Job("A", 10, "m", 3, 5.0)], model=model)
        readings = _readings(_run(machine, 20))
        assert readings, model.kind
        for reading in readings:
            assert set(reading.values) == {c.name for c in model.channels}
            assert parse_telemetry(encode(reading)) == [reading]


def test_a_machine_with_failures_breaks_down_with_an_alarm_and_is_repaired() -> None:
    model = replace(WELDING_ROBOT, mtbf_s=600.0, mttr_s=120.0, warning_s=120.0)
    machine = SimMachine(
        "w", random.Random(3), [Job("A", 10, "w", 500, 10.0)], model=model, failures=True
    )

    out = _run(machine, 3 * 3600)

    states = _states(out)
    assert MachineState.DOWN in states
    # every breakdown ends: DOWN is followed by RUNNING again
    downs = [i for i, s in enumerate(states) if s is MachineState.DOWN]
    assert all(states[i + 1] is MachineState.RUNNING for i in downs if i + 1 < len(states))
    alarms = [e.code for e in _events(out) if isinstance(e, AlarmEvent)]
    assert set(alarms) - {"VIB-HI"} <= {a.code for a in model.alarms}
    assert len([a for a in alarms if a != "VIB-HI"]) == machine.breakdowns == len(downs)
    assert "VIB-HI" in alarms  # the warning before a failure


def test_vibration_rises_before_a_failure() -> None:
    model = replace(CNC_MILL, mtbf_s=3000.0, warning_s=600.0, cycle_cv=0.0)
    machine = SimMachine(
        "c", random.Random(5), [Job("A", 10, "c", 10_000, 10.0)], model=model, failures=True
    )
    vibration: list[float] = []
    for i in range(20_000):
        for kind, msg in machine.step(T0 + timedelta(seconds=i), 1.0, _always):
            if kind == EVENT and isinstance(msg, StateEvent) and msg.state is MachineState.DOWN:
                # the last readings before the failure against those well before it
                assert sum(vibration[-60:]) / 60 > 1.5 * sum(vibration[-900:-700]) / 200
                return
            if isinstance(msg, TelemetryReading):
                vibration.append(msg.values["vibration_mm_s"])
    raise AssertionError("no failure in 20,000 s with an MTBF of 3,000 s")


def test_without_failures_a_machine_never_breaks_down() -> None:
    machine = SimMachine("c", random.Random(5), [Job("A", 10, "c", 2000, 10.0)])

    assert MachineState.DOWN not in _states(_run(machine, 6 * 3600, dt_s=5.0))


def test_a_scripted_breakdown_stops_the_job_and_it_resumes_after() -> None:
    machine = SimMachine("c", random.Random(2), [Job("A", 10, "c", 10, 10.0)])
    out = _run(machine, 25)
    machine.break_down(T0 + timedelta(seconds=25), 100.0, WELDING_ROBOT.alarms[0], out)
    made_before = machine.counter
    later = []
    for i in range(26, 120):
        later.extend(machine.step(T0 + timedelta(seconds=i), 1.0, _always))

    assert machine.counter == made_before  # nothing made while down
    assert machine.state is MachineState.DOWN
    for i in range(120, 400):
        later.extend(machine.step(T0 + timedelta(seconds=i), 1.0, _always))
    assert _states(later)[0] is MachineState.RUNNING
    assert machine.counter == 10 and machine.idle


def test_a_powered_off_machine_says_offline_then_sends_nothing() -> None:
    machine = SimMachine("c", random.Random(2), [], telemetry_interval_s=1.0)
    out: list[tuple[str, BaseModel]] = []
    machine.power_off(T0, 60.0, out)
    silent = []
    for i in range(1, 59):
        silent.extend(machine.step(T0 + timedelta(seconds=i), 1.0, _always))
    back = machine.step(T0 + timedelta(seconds=61), 2.0, _always)

    assert _states(out) == [MachineState.OFFLINE]
    assert silent == []
    assert _states(back) == [MachineState.IDLE]


def test_scrap_counts_on_its_own_counter_and_good_parts_reach_the_quantity() -> None:
    machine = SimMachine("p", random.Random(4), [Job("A", 10, "p", 50, 1.0)], scrap_rate=0.2)

    cycles = [e for e in _events(_run(machine, 200)) if isinstance(e, CycleEvent)]

    assert cycles[-1].counter == 50
    assert cycles[-1].scrap_counter is not None and cycles[-1].scrap_counter > 0
    assert len(cycles) == 50 + cycles[-1].scrap_counter


def test_the_part_counter_wraps_as_a_plc_counter_does() -> None:
    machine = SimMachine(
        "p",
        random.Random(4),
        [Job("A", 10, "p", 5, 1.0)],
        counter_start=65534,
        counter_wrap=65536,
        scrap_rate=0.0,
    )

    cycles = [e for e in _events(_run(machine, 20)) if isinstance(e, CycleEvent)]

    assert [c.counter for c in cycles] == [65535, 0, 1, 2, 3]


def test_spindle_temperature_rises_while_running_and_falls_when_idle() -> None:
    machine = SimMachine("c", random.Random(1), [Job("A", 10, "c", 60, 30.0)], scrap_rate=0.0)
    temps = [r.values["spindle_temp_c"] for r in _readings(_run(machine, 3600, dt_s=5.0))]

    hottest = max(range(len(temps)), key=temps.__getitem__)
    assert temps[hottest] > temps[0] + 25
    assert temps[-1] < temps[hottest] - 15  # cooled after the job


# --- network faults --------------------------------------------------------------------------


def _msgs(n: int) -> list[tuple[str, bytes]]:
    return [(EVENT, f'{{"n": {i}}}'.encode()) for i in range(n)]


def test_a_silent_link_drops_everything_until_it_is_back() -> None:
    link = Link(random.Random(1))
    link.go_silent(100.0, 50.0, buffered=False)

    assert link.send(120.0, _msgs(3)) == []
    assert link.send(150.0, _msgs(1)) == _msgs(1)
    assert link.dropped == 3


def test_a_buffered_silent_link_delivers_late_and_in_order() -> None:
    link = Link(random.Random(1))
    link.go_silent(0.0, 10.0, buffered=True)
    assert link.send(5.0, _msgs(2)) == []

    assert link.send(10.0, [(TELEMETRY, b"x")]) == [*_msgs(2), (TELEMETRY, b"x")]


def test_duplicates_repeat_the_next_events_only() -> None:
    link = Link(random.Random(1))
    link.duplicate_next(2)

    out = link.send(0.0, [(TELEMETRY, b"t"), *_msgs(3)])

    assert out == [(TELEMETRY, b"t"), *[m for m in _msgs(2) for _ in (1, 2)], _msgs(3)[2]]


def test_out_of_order_sends_the_next_events_reversed() -> None:
    link = Link(random.Random(1))
    link.reorder_next(3)

    first = link.send(0.0, _msgs(2))
    second = link.send(1.0, _msgs(4)[2:])

    assert first == []
    assert second == [(EVENT, b'{"n": 0}'), (EVENT, b'{"n": 1}'), (EVENT, b'{"n": 2}')][::-1] + [
        (EVENT, b'{"n": 3}')
    ]


def test_every_malformed_payload_breaks_the_contract() -> None:
    link = Link(random.Random(1))

    for kind, payload in link.garbage(18):
        parse = parse_event if kind == EVENT else parse_telemetry
        try:
            parse(payload)
        except PayloadError:
            continue
        raise AssertionError(f"accepted {payload[:80]!r}")
    assert link.malformed == 18


# --- dispatch lists --------------------------------------------------------------------------


def _dispatch(machine: str, jobs: list[tuple[str, int, bool]], made: datetime = T0) -> DispatchList:
    return DispatchList(
        machine=machine,
        plan_made_at=made,
        jobs=[
            DispatchJob(
                order_id=o,
                operation=seq,
                quantity=2,
                setup_s=1.0,
                cycle_s=0.5,
                ready=ready,
                planned_start=T0,
                planned_end=T0,
                due_at=T0,
            )
            for o, seq, ready in jobs
        ],
    )


def test_a_machine_takes_the_first_ready_job_in_plant_time() -> None:
    board = DispatchBoard(time_scale=60.0)
    board.update(_dispatch("m1", [("A", 20, False), ("B", 10, True)]))

    job = board.take("m1")

    assert job == Job("B", 10, "m1", 2, 30.0, 60.0)
    assert board.take("m1") is None  # B is taken, A is not ready
    assert board.take("m2") is None


def test_a_finished_job_is_handed_out_again_only_by_a_list_made_well_after() -> None:
    board = DispatchBoard()
    board.update(_dispatch("m1", [("B", 10, True)]))
    job = board.take("m1")
    assert job is not None
    board.finished(job, T0)

    board.update(_dispatch("m1", [("B", 10, True)], made=T0 + STALE / 2))
    assert board.take("m1") is None
    board.update(_dispatch("m1", [("B", 10, True)], made=T0 + 2 * STALE))
    assert board.take("m1") is not None


def test_an_older_list_never_replaces_a_newer_one_and_bad_lists_are_ignored() -> None:
    board = DispatchBoard()
    board.update(_dispatch("m1", [("B", 10, True)], made=T0 + timedelta(seconds=5)))
    board.update(_dispatch("m1", [("A", 10, True)], made=T0))
    board.receive("shopfloor/p/dispatch/m1", b"{not json")

    assert board.rejected == 1
    job = board.take("m1")
    assert job is not None and job.order_id == "B"


# --- scenario simulation ---------------------------------------------------------------------

SCENARIO = """\
name: t
seed: 11
telemetry_interval: 5s
machines:
  - {id: m1, model: lathe, failures: false}
  - {id: m2, model: welding_robot, line: fab, failures: false}
faults:
  - {at: 30s, machine: m2, down_for: 2m, alarm: WF-204, message: wire feed blocked}
  - {at: 10s, machine: m1, malformed: 4}
  - {at: 20s, machine: m1, silent_for: 30s}
"""


def _scenario_run(seed: int | None = None) -> tuple[Simulation, list[tuple[str, str, bytes]]]:
    sim = Simulation.from_scenario(parse_scenario(SCENARIO, None), None, seed=seed)  # type: ignore[arg-type]
    out = []
    for i in range(60):
        out.extend(sim.step(T0 + timedelta(seconds=5 * i), 5.0))
    return sim, out


def test_a_scenario_puts_machines_on_their_lines_and_its_faults_at_their_times() -> None:
    sim, out = _scenario_run()

    assert sim.lines == {"m1": "line1", "m2": "fab"}
    m2_events = [json.loads(p) for m, k, p in out if m == "m2" and k == EVENT]
    assert [e["state"] for e in m2_events if e["type"] == "state"] == ["DOWN", "IDLE"]
    assert any(e["type"] == "alarm" and e["code"] == "WF-204" for e in m2_events)
    assert sim.links["m1"].malformed == 4
    # silent from 20 s until 50 s: the readings sent at 25, 30, 35, 40 and 45 s are lost
    assert sim.links["m1"].dropped == 5


def test_a_scenario_run_repeats_with_its_seed() -> None:
    def telemetry(out: list[tuple[str, str, bytes]]) -> list[dict[str, float]]:
        return [json.loads(p)["values"] for _m, k, p in out if k == TELEMETRY and p[:1] == b"{"]

    assert telemetry(_scenario_run()[1]) == telemetry(_scenario_run()[1])
    assert telemetry(_scenario_run()[1]) != telemetry(_scenario_run(seed=12)[1])


def test_an_idle_machine_repeats_its_state_as_a_keep_alive() -> None:
    machine = SimMachine("c", random.Random(1), [], heartbeat_s=60.0)

    states = [e for e in _events(_run(machine, 250)) if isinstance(e, StateEvent)]

    assert [s.state for s in states] == [MachineState.IDLE] * 4
    assert [(s.ts - T0).total_seconds() for s in states if s.ts] == [59.0, 119.0, 179.0, 239.0]
