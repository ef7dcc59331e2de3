"""The simulated plant: machines, their work, scripted faults and what goes on the wire (no I/O)."""

from __future__ import annotations

import itertools
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from shopfloor.contract.payloads import encode

from .dispatch_board import DispatchBoard
from .ground_truth import GroundTruth
from .jobs import Job
from .machine import SimMachine
from .models import Alarm
from .network import Link, Outgoing
from .packml_bridge import BridgeSpec
from .scenario import PACKML_KINDS, BridgeKind, FaultSpec, Scenario

log = logging.getLogger(__name__)
BRIDGE_ONLY = ("reset", "restart", "crash_for")  # faults of the bridge, not of the machine


def _event_ids(prefix: str) -> Callable[[], str]:
    """`prefix-1`, `prefix-2`, ...: unique per machine and run."""
    numbers = itertools.count(1)
    return lambda: f"{prefix}-{next(numbers)}"


@dataclass(frozen=True)
class Sent:
    """One message on the wire: the machine that sent it, its kind and its payload."""

    machine: str
    kind: str
    payload: bytes


class Simulation:
    """Machines working their jobs, from a fixed list or the tracker's dispatch lists.

    With a fixed list a job waits for the order's earlier operations to finish. Scenario faults
    happen at their plant time: breakdowns and power-offs on the machine, network faults on its
    `Link`. Time is plant time: `step(now, dt_s)` advances `dt_s` plant seconds.
    """

    def __init__(
        self,
        machines: list[str],
        jobs: list[Job],
        seed: int,
        speed: float,
        telemetry_interval_s: float = 1.0,
        site: str = "plant1",
        line: str = "line1",
        board: DispatchBoard | None = None,
    ) -> None:
        names = list(dict.fromkeys([*machines, *(j.machine for j in jobs)]))
        self.rng = random.Random(seed)
        # unique per run: event ids never repeat across runs of one seed
        self.run_id = uuid.UUID(int=random.getrandbits(128)).hex[:8]
        self.speed = speed
        self.site = site
        self.lines = {name: line for name in names}
        self.board = board
        self.elapsed_s = 0.0
        self.machines: list[SimMachine] = []
        self.links: dict[str, Link] = {}
        for name in names:
            self.add_machine(
                SimMachine(
                    name,
                    random.Random(self.rng.random()),
                    [j for j in jobs if j.machine == name],
                    telemetry_interval_s,
                    event_id=_event_ids(f"{name}-{self.run_id}"),
                ),
                line,
            )
        self._jobs = jobs
        self._done: set[tuple[str, int]] = set()
        self._faults: list[FaultSpec] = []
        # machines played as PackML bridges, and the faults their bridges still have to play
        self.packml: dict[str, BridgeSpec] = {}
        self.bridge_faults: list[FaultSpec] = []
        # a machine's controller that holds its cycles (a PackML unit outside Execute)
        self.holds: dict[str, Callable[[], bool]] = {}
        self._garbage: dict[str, list[Outgoing]] = defaultdict(list)
        # what the machines really did, for a test to judge the tracker's figures by
        self.truth: GroundTruth | None = None

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        board: DispatchBoard | None,
        speed: float | None = None,
        seed: int | None = None,
        bridge: BridgeKind | None = None,
    ) -> Simulation:
        """The scenario's machines (models, lines, counters, bridges) and faults; work from
        `board`; `bridge` replaces the scenario's own default bridge kind."""
        sim = cls(
            [],
            [],
            seed=scenario.seed if seed is None else seed,
            speed=scenario.speed if speed is None else speed,
            telemetry_interval_s=scenario.telemetry_interval,
            site=scenario.site,
            board=board,
        )
        for spec in scenario.machines:
            sim.add_machine(
                SimMachine(
                    spec.id,
                    random.Random(sim.rng.random()),
                    [],
                    scenario.telemetry_interval,
                    counter_start=spec.counter_start,
                    event_id=_event_ids(f"{spec.id}-{sim.run_id}"),
                    model=spec.machine_model(),
                    failures=spec.failures,
                    counter_wrap=spec.wrap,
                    scrap_rate=spec.scrap,
                    heartbeat_s=scenario.heartbeat,
                ),
                spec.line,
            )
            kind = scenario.bridge_of(spec, bridge)
            if kind in PACKML_KINDS:
                sparkplug = kind == "packml-sparkplug"
                sim.packml[spec.id] = BridgeSpec(
                    sparkplug, scenario.prefix_of(spec), spec.packml_codes
                )
        sim._faults = sorted(scenario.faults, key=lambda f: f.at)
        return sim

    def bridge_all(self, kind: BridgeKind) -> None:
        """Play every machine as a PackML bridge of this kind, under `<site>/<line>/<machine>`."""
        if kind in PACKML_KINDS:
            for m in self.machines:
                prefix = f"{self.site}/{self.lines[m.machine_id]}/{m.machine_id}"
                self.packml[m.machine_id] = BridgeSpec(kind == "packml-sparkplug", prefix)

    def add_machine(self, machine: SimMachine, line: str) -> None:
        self.machines.append(machine)
        self.lines[machine.machine_id] = line
        self.links[machine.machine_id] = Link(random.Random(self.rng.random()))

    def ready(self, job: Job) -> bool:
        if self.board is not None:
            return True  # the tracker handed it out as ready
        earlier = [j for j in self._jobs if j.order_id == job.order_id and j.seq < job.seq]
        return all((j.order_id, j.seq) in self._done for j in earlier)

    @property
    def finished(self) -> bool:
        return all(m.idle for m in self.machines)

    def step(self, now: datetime, dt_s: float) -> list[tuple[str, str, bytes]]:
        """Advance every machine; returns (machine, kind, payload) as they go on the wire."""
        return [(s.machine, s.kind, s.payload) for s in self.wire(self.step_models(now, dt_s))]

    def step_models(self, now: datetime, dt_s: float) -> list[tuple[str, str, BaseModel]]:
        """Advance every machine `dt_s` plant seconds; returns (machine, kind, message)."""
        out: list[tuple[str, str, BaseModel]] = []
        faults = self._due_faults(now)
        for m in self.machines:
            if self.board is not None and m.current is None and not m.jobs and not m.stopped:
                job = self.board.take(m.machine_id)
                if job is not None:
                    m.jobs.append(job)
            done = len(m.done)
            out.extend((m.machine_id, kind, model) for kind, model in faults.pop(m, []))
            hold = self.holds.get(m.machine_id)
            held = hold is not None and hold()
            for kind, model in m.step(now, dt_s, self.ready, self.speed, held):
                out.append((m.machine_id, kind, model))
            for job in m.done[done:]:
                self._done.add(job.key)
                if self.board is not None:
                    self.board.finished(job, now)
        self.elapsed_s += dt_s
        if self.truth is not None:
            self.truth.record(out)
        return out

    def wire(self, messages: Sequence[tuple[str, str, BaseModel]]) -> list[Sent]:
        """Encode messages and pass each machine's through its link (network faults)."""
        by_machine: dict[str, list[Outgoing]] = defaultdict(list)
        for machine, kind, model in messages:
            by_machine[machine].append((kind, encode(model)))
        out = []
        for machine, link in self.links.items():
            outgoing = by_machine.get(machine, []) + self._garbage.pop(machine, [])
            out += [Sent(machine, k, p) for k, p in link.send(self.elapsed_s, outgoing)]
        return out

    def _due_faults(self, now: datetime) -> dict[SimMachine, list[tuple[str, BaseModel]]]:
        """Apply the faults whose time has come; returns the messages they made per machine."""
        made: dict[SimMachine, list[tuple[str, BaseModel]]] = defaultdict(list)
        while self._faults and self._faults[0].at <= self.elapsed_s:
            fault = self._faults.pop(0)
            machine = next(m for m in self.machines if m.machine_id == fault.machine)
            link = self.links[fault.machine]
            log.info("fault at %.0fs: %s %s", self.elapsed_s, fault.machine, fault.kind)
            if fault.machine in self.packml and (fault.down_for or fault.kind in BRIDGE_ONLY):
                self.bridge_faults.append(fault)
            if fault.down_for is not None:
                alarm = (
                    Alarm(fault.alarm, fault.message) if fault.alarm else machine.model.alarms[0]
                )
                machine.break_down(now, fault.down_for, alarm, made[machine])
            elif fault.offline_for is not None:
                machine.power_off(now, fault.offline_for, made[machine])
            elif fault.silent_for is not None:
                link.go_silent(self.elapsed_s, fault.silent_for, fault.buffered)
            elif fault.duplicate is not None:
                link.duplicate_next(fault.duplicate)
            elif fault.out_of_order is not None:
                link.reorder_next(fault.out_of_order)
            elif fault.malformed is not None:
                self._garbage[fault.machine] += link.garbage(fault.malformed)
        return made
