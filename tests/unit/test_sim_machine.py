"""Simulated machines: deterministic per seed, counters, event order, routing waits, job specs."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from device_sim.jobs import Job
from device_sim.machine import SimMachine
from device_sim.models import CNC_MILL
from device_sim.simulation import Simulation
from shopfloor.contract.payloads import (
    CycleEvent,
    JobEndEvent,
    JobStartEvent,
    MachineState,
    StateEvent,
    TelemetryReading,
    parse_event,
    parse_telemetry,
)
from shopfloor.contract.topics import EVENT, TELEMETRY

T0 = datetime(2024, 3, 1, 8, tzinfo=UTC)


def _always(_job: Job) -> bool:
    return True


def _run(
    machine: SimMachine,
    steps: int,
    dt_s: float = 0.5,
    start: datetime = T0,
    ready: Callable[[Job], bool] = _always,
    speed: float = 1.0,
) -> list[tuple[str, BaseModel]]:
    out = []
    for i in range(steps):
        out.extend(machine.step(start + timedelta(seconds=i * dt_s), dt_s, ready, speed))
    return out


def _events(messages: list[tuple[str, BaseModel]]) -> list[Any]:
    return [payload for kind, payload in messages if kind == EVENT]


def _without_ts(payload: BaseModel) -> dict[str, Any]:
    return payload.model_dump(exclude={"ts"})


# --- Job.parse -------------------------------------------------------------------------------


def test_job_spec_without_setup_parses() -> None:
    assert Job.parse("SO-1001:10:cnc-1:5:2.0") == Job("SO-1001", 10, "cnc-1", 5, 2.0, 0.0)


def test_job_spec_with_setup_parses() -> None:
    assert Job.parse("SO-1001:20:mill-1:3:1.5:30") == Job("SO-1001", 20, "mill-1", 3, 1.5, 30.0)


@pytest.mark.parametrize(
    "spec",
    ["SO-1001:10:cnc-1:5", "SO-1001:10:cnc-1:5:2.0:30:extra", "", "SO-1001"],
)
def test_job_spec_with_the_wrong_number_of_parts_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="ORDER:SEQ:MACHINE:QTY:CYCLE_S"):
        Job.parse(spec)


@pytest.mark.parametrize(
    "spec",
    [
        "SO-1001:ten:cnc-1:5:2.0",
        "SO-1001:10:cnc-1:2.5:2.0",
        "SO-1001:10:cnc-1:5:fast",
        "SO-1001:10:cnc-1:5:2.0:",
    ],
)
def test_job_spec_with_non_numeric_fields_is_refused_naming_the_spec(spec: str) -> None:
    with pytest.raises(ValueError, match="must be integers") as excinfo:
        Job.parse(spec)

    assert spec in str(excinfo.value)


# --- one machine -----------------------------------------------------------------------------


def test_same_seed_gives_the_same_payloads_apart_from_timestamps() -> None:
    jobs = [Job("SO-1", 10, "m1", 3, 1.0, 1.0), Job("SO-2", 10, "m1", 2, 1.5)]
    first = _run(SimMachine("m1", random.Random(7), jobs), 30)
    second = _run(SimMachine("m1", random.Random(7), jobs), 30, start=T0 + timedelta(days=1))

    assert [k for k, _ in first] == [k for k, _ in second]
    assert [_without_ts(p) for _, p in first] == [_without_ts(p) for _, p in second]


def test_different_seeds_give_different_telemetry() -> None:
    first = _run(SimMachine("m1", random.Random(1), []), 5)
    second = _run(SimMachine("m1", random.Random(2), []), 5)

    assert [_without_ts(p) for _, p in first] != [_without_ts(p) for _, p in second]


def test_cumulative_counter_increases_by_one_per_cycle() -> None:
    machine = SimMachine(
        "m1",
        random.Random(3),
        [Job("SO-1", 10, "m1", 4, 1.0), Job("SO-2", 10, "m1", 3, 1.0)],
        counter_start=500,
    )

    cycles = [e for e in _events(_run(machine, 40)) if isinstance(e, CycleEvent)]

    assert [c.counter for c in cycles] == list(range(501, 508))
    assert machine.counter == 507


def test_job_runs_start_setup_running_cycles_end_idle_in_order() -> None:
    machine = SimMachine("m1", random.Random(4), [Job("SO-1", 10, "m1", 2, 1.0, setup_s=2.0)])

    events = _events(_run(machine, 20))

    summary = [(e.type, getattr(e, "state", None)) for e in events]
    assert summary == [
        ("job_start", None),
        ("state", MachineState.SETUP),
        ("state", MachineState.RUNNING),
        ("cycle", None),
        ("cycle", None),
        ("job_end", None),
        ("state", MachineState.IDLE),
    ]


def test_job_without_setup_goes_straight_to_running() -> None:
    machine = SimMachine("m1", random.Random(4), [Job("SO-1", 10, "m1", 1, 1.0)])

    events = _events(_run(machine, 10))

    assert [e.type for e in events[:2]] == ["job_start", "state"]
    assert events[1].state is MachineState.RUNNING


def test_job_events_carry_the_order_and_operation() -> None:
    machine = SimMachine("m1", random.Random(5), [Job("SO-9", 30, "m1", 2, 1.0)])

    events = _events(_run(machine, 10))

    job_events = [e for e in events if isinstance(e, JobStartEvent | JobEndEvent | CycleEvent)]
    assert len(job_events) == 4
    assert {(e.order_id, e.operation) for e in job_events} == {("SO-9", 30)}


def test_reported_cycle_time_is_near_the_planned_time_in_real_seconds() -> None:
    machine = SimMachine("m1", random.Random(6), [Job("SO-1", 10, "m1", 5, 2.0)])

    cycles = [e for e in _events(_run(machine, 60, speed=4.0)) if isinstance(e, CycleEvent)]

    assert len(cycles) == 5
    spread = 4 * CNC_MILL.cycle_cv  # the model's cycle-time variance, four sigmas
    for c in cycles:
        assert c.cycle_time_s is not None
        assert (1 - spread) * 2.0 / 4 <= c.cycle_time_s <= (1 + spread) * 2.0 / 4


def test_jobs_are_worked_one_after_another_in_list_order() -> None:
    machine = SimMachine(
        "m1", random.Random(8), [Job("SO-1", 10, "m1", 1, 1.0), Job("SO-2", 10, "m1", 1, 1.0)]
    )

    starts = [e.order_id for e in _events(_run(machine, 20)) if isinstance(e, JobStartEvent)]

    assert starts == ["SO-1", "SO-2"]
    assert [j.order_id for j in machine.done] == ["SO-1", "SO-2"]
    assert machine.idle


def test_job_that_is_not_ready_waits_and_the_machine_stays_idle() -> None:
    machine = SimMachine("m1", random.Random(9), [Job("SO-1", 20, "m1", 1, 1.0)])

    events = _events(_run(machine, 10, ready=lambda _job: False))

    assert events == []
    assert machine.state is MachineState.IDLE
    assert not machine.idle  # it still has work queued


def test_telemetry_is_sent_at_the_first_step_and_then_every_interval() -> None:
    machine = SimMachine("m1", random.Random(10), [], telemetry_interval_s=1.0)

    messages = _run(machine, 8, dt_s=0.25)

    assert [k for k, _ in messages] == [TELEMETRY, TELEMETRY]
    reading = messages[0][1]
    assert isinstance(reading, TelemetryReading)
    assert reading.ts == T0
    assert set(reading.values) == {c.name for c in CNC_MILL.channels}  # the default model


def test_default_event_ids_are_unique_and_name_the_machine() -> None:
    machine = SimMachine("m1", random.Random(11), [Job("SO-1", 10, "m1", 3, 1.0)])

    ids = [e.event_id for e in _events(_run(machine, 20))]

    assert len(ids) == len(set(ids)) > 0
    assert all(i.startswith("m1-") for i in ids)


def test_every_message_is_stamped_with_the_step_time() -> None:
    machine = SimMachine("m1", random.Random(12), [Job("SO-1", 10, "m1", 1, 1.0)])

    out = machine.step(T0 + timedelta(hours=1), 0.5, _always)

    assert out
    assert {p.ts for _, p in out} == {T0 + timedelta(hours=1)}  # type: ignore[attr-defined]


# --- simulation ------------------------------------------------------------------------------


def _sim_steps(
    sim: Simulation, steps: int, dt_s: float = 0.5, start: datetime = T0
) -> Iterator[tuple[str, str, bytes]]:
    for i in range(steps):
        yield from sim.step(start + timedelta(seconds=i * dt_s), dt_s)


def _decode(kind: str, payload: bytes) -> list[BaseModel]:
    return list(parse_telemetry(payload)) if kind == TELEMETRY else [parse_event(payload)]


def test_simulation_with_the_same_seed_repeats_apart_from_timestamps_and_run_ids() -> None:
    jobs = [Job.parse("SO-1:10:cnc-1:3:1.0"), Job.parse("SO-1:20:mill-1:2:1.0:1.0")]

    def payloads(start: datetime) -> list[tuple[str, str, dict[str, Any]]]:
        sim = Simulation(["cnc-1", "mill-1"], jobs, seed=42, speed=1.0)
        out = []
        for machine, kind, raw in _sim_steps(sim, 40, start=start):
            for model in _decode(kind, raw):
                out.append((machine, kind, model.model_dump(exclude={"ts", "event_id"})))
        return out

    assert payloads(T0) == payloads(T0 + timedelta(days=3))


def test_simulation_event_ids_differ_between_runs_of_the_same_seed() -> None:
    jobs = [Job.parse("SO-1:10:cnc-1:1:1.0")]

    def ids() -> set[str]:
        sim = Simulation([], jobs, seed=42, speed=1.0)
        return {json.loads(raw)["event_id"] for _, kind, raw in _sim_steps(sim, 5) if kind == EVENT}

    assert ids().isdisjoint(ids())


def test_simulation_adds_machines_named_only_by_jobs_once() -> None:
    sim = Simulation(
        ["cnc-1"],
        [Job.parse("SO-1:10:cnc-1:1:1"), Job.parse("SO-1:20:mill-1:1:1")],
        seed=1,
        speed=1.0,
    )

    assert [m.machine_id for m in sim.machines] == ["cnc-1", "mill-1"]


def test_later_operation_is_ready_only_after_earlier_operations_of_its_order() -> None:
    op10, op20, op30 = (Job.parse(f"SO-1:{seq}:m{seq}:1:1.0") for seq in (10, 20, 30))
    other = Job.parse("SO-2:20:m20:1:1.0")
    sim = Simulation([], [op30, op20, op10, other], seed=1, speed=1.0)

    assert sim.ready(op10)
    assert not sim.ready(op20)
    assert not sim.ready(op30)
    assert sim.ready(other)  # another order's routing does not hold it back


def test_jobs_of_the_same_order_wait_for_earlier_operations_on_other_machines() -> None:
    jobs = [Job.parse("SO-1:20:mill-1:1:1.0"), Job.parse("SO-1:10:cnc-1:2:1.0")]
    sim = Simulation(["mill-1", "cnc-1"], jobs, seed=5, speed=1.0)

    timeline = []
    for machine, kind, raw in _sim_steps(sim, 30):
        if kind == EVENT:
            event = parse_event(raw)
            if isinstance(event, JobStartEvent | JobEndEvent):
                timeline.append((event.type, event.operation, machine))
    assert timeline == [
        ("job_start", 10, "cnc-1"),
        ("job_end", 10, "cnc-1"),
        ("job_start", 20, "mill-1"),
        ("job_end", 20, "mill-1"),
    ]
    assert sim.finished


def test_simulation_is_finished_only_when_every_machine_is_idle() -> None:
    sim = Simulation(["cnc-1"], [Job.parse("SO-1:10:cnc-1:2:1.0")], seed=3, speed=1.0)
    assert not sim.finished

    list(_sim_steps(sim, 1))
    assert not sim.finished

    list(_sim_steps(sim, 20))
    assert sim.finished


def test_simulation_payloads_follow_the_wire_contract() -> None:
    sim = Simulation(["cnc-1"], [Job.parse("SO-1:10:cnc-1:2:1.0:1.0")], seed=8, speed=2.0)

    decoded = [(kind, m) for _, kind, raw in _sim_steps(sim, 20) for m in _decode(kind, raw)]

    kinds = {type(m) for _, m in decoded}
    assert kinds == {TelemetryReading, JobStartEvent, StateEvent, CycleEvent, JobEndEvent}
    assert all(m.ts is not None for _, m in decoded)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "spec",
    [
        "SO-1:10:cnc-1:0:2.0",  # no parts to make
        "SO-1:10:cnc-1:-3:2.0",
        "SO-1:10:cnc-1:5:0",  # a cycle takes time
        "SO-1:10:cnc-1:5:nan",
        "SO-1:10:cnc-1:5:inf",
        "SO-1:10:cnc-1:5:2.0:-1",  # negative setup
        "SO-1:-10:cnc-1:5:2.0",
        ":10:cnc-1:5:2.0",
        "SO-1:10::5:2.0",
    ],
)
def test_job_spec_that_cannot_be_worked_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="job"):
        Job.parse(spec)
