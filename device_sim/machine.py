"""A simulated machine: state machine, cumulative part counter and sensor dynamics (no I/O)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from shopfloor.contract.payloads import (
    CycleEvent,
    JobEndEvent,
    JobStartEvent,
    MachineState,
    StateEvent,
    TelemetryReading,
)
from shopfloor.contract.topics import EVENT, TELEMETRY


@dataclass(frozen=True)
class Job:
    """Make `quantity` parts for one operation of an order."""

    order_id: str
    seq: int
    machine: str
    quantity: int
    cycle_s: float
    setup_s: float = 0.0

    @classmethod
    def parse(cls, spec: str) -> Job:
        """`ORDER:SEQ:MACHINE:QTY:CYCLE_S[:SETUP_S]`, e.g. `SO-1001:10:cnc-1:5:2.0`."""
        parts = spec.split(":")
        if len(parts) not in (5, 6):
            raise ValueError(f"job {spec!r} must be ORDER:SEQ:MACHINE:QTY:CYCLE_S[:SETUP_S]")
        try:
            job = cls(
                parts[0],
                int(parts[1]),
                parts[2],
                int(parts[3]),
                float(parts[4]),
                float(parts[5]) if len(parts) == 6 else 0.0,
            )
        except ValueError:
            raise ValueError(f"job {spec!r}: SEQ and QTY must be integers, times numbers") from None
        if not job.order_id or not job.machine:
            raise ValueError(f"job {spec!r}: ORDER and MACHINE must not be empty")
        if job.quantity < 1 or job.seq < 0:
            raise ValueError(f"job {spec!r}: QTY must be at least 1 and SEQ not negative")
        if not (math.isfinite(job.cycle_s) and job.cycle_s > 0):
            raise ValueError(f"job {spec!r}: CYCLE_S must be a number above 0")
        if not (math.isfinite(job.setup_s) and job.setup_s >= 0):
            raise ValueError(f"job {spec!r}: SETUP_S must be a number, 0 or more")
        return job


Message = tuple[str, BaseModel]  # (kind, payload)


class SimMachine:
    """Steps in simulated seconds; returns the messages a real machine would publish."""

    def __init__(
        self,
        machine_id: str,
        rng: random.Random,
        jobs: list[Job],
        telemetry_interval_s: float = 1.0,
        counter_start: int = 0,
        event_id: Callable[[], str] | None = None,
    ) -> None:
        self.machine_id = machine_id
        self.rng = rng
        self.jobs = list(jobs)
        self.telemetry_interval_s = telemetry_interval_s
        self.counter = counter_start
        self.state = MachineState.IDLE
        self.temp_c = 22.0 + rng.random() * 2
        self._n = 0
        self._event_id = event_id or self._default_event_id
        self._job: Job | None = None
        self._made = 0
        self._phase_left = 0.0  # seconds left in the current setup or cycle
        self._phase_len = 0.0
        self._since_telemetry = telemetry_interval_s
        self.done: list[Job] = []

    def _default_event_id(self) -> str:
        self._n += 1
        return f"{self.machine_id}-{self._n}"

    @property
    def idle(self) -> bool:
        return self._job is None and not self.jobs

    def step(
        self, now: datetime, dt_s: float, ready: Callable[[Job], bool], speed: float = 1.0
    ) -> list[Message]:
        """Advance `dt_s` simulated seconds; `ready` says whether a job's predecessors are done."""
        out: list[Message] = []
        if self._job is None and self.jobs and ready(self.jobs[0]):
            self._start(self.jobs.pop(0), now, out)
        if self._job is not None:
            self._phase_left -= dt_s
            if self._phase_left <= 0:
                self._advance(now, out, speed)
        self._dynamics(dt_s)
        self._since_telemetry += dt_s
        if self._since_telemetry >= self.telemetry_interval_s:
            self._since_telemetry = 0.0
            out.append((TELEMETRY, self._reading(now)))
        return out

    def _start(self, job: Job, now: datetime, out: list[Message]) -> None:
        self._job, self._made = job, 0
        self._emit(
            out, JobStartEvent, now, type="job_start", order_id=job.order_id, operation=job.seq
        )
        if job.setup_s > 0:
            self._set_state(MachineState.SETUP, now, out)
            self._phase_left = self._phase_len = job.setup_s
        else:
            self._begin_cycle(now, out)

    def _begin_cycle(self, now: datetime, out: list[Message]) -> None:
        assert self._job is not None
        if self.state is not MachineState.RUNNING:
            self._set_state(MachineState.RUNNING, now, out)
        # cycle-time variance of a few percent, as on a real machine
        self._phase_left = self._phase_len = self._job.cycle_s * self.rng.uniform(0.95, 1.05)

    def _advance(self, now: datetime, out: list[Message], speed: float) -> None:
        job = self._job
        assert job is not None
        if self.state is MachineState.SETUP:
            self._begin_cycle(now, out)
            return
        self.counter += 1
        self._made += 1
        self._emit(
            out,
            CycleEvent,
            now,
            type="cycle",
            counter=self.counter,
            cycle_time_s=self._phase_len / speed,
            order_id=job.order_id,
            operation=job.seq,
        )
        if self._made >= job.quantity:
            self._emit(
                out, JobEndEvent, now, type="job_end", order_id=job.order_id, operation=job.seq
            )
            self.done.append(job)
            self._job = None
            self._set_state(MachineState.IDLE, now, out)
        else:
            self._begin_cycle(now, out)

    def _emit(
        self, out: list[Message], cls: type[BaseModel], now: datetime, **fields: object
    ) -> None:
        """Append one event of `cls`, stamped with the time and a fresh event id."""
        out.append((EVENT, cls(ts=now, event_id=self._event_id(), **fields)))

    def _set_state(self, state: MachineState, now: datetime, out: list[Message]) -> None:
        self.state = state
        self._emit(out, StateEvent, now, type="state", state=state)

    def _dynamics(self, dt_s: float) -> None:
        # first-order approach to the running or ambient temperature
        target = 65.0 if self.state is MachineState.RUNNING else 24.0
        self.temp_c += (target - self.temp_c) * min(1.0, dt_s / 120.0)

    def _reading(self, now: datetime) -> TelemetryReading:
        running = self.state is MachineState.RUNNING
        g = self.rng.gauss
        return TelemetryReading(
            ts=now,
            values={
                "spindle_temp_c": round(self.temp_c + g(0, 0.3), 2),
                "vibration_mm_s": round(abs((2.5 if running else 0.3) + g(0, 0.2)), 3),
                "power_kw": round(
                    (7.5 if running else 1.2 if self.state is MachineState.SETUP else 0.4)
                    + g(0, 0.1),
                    3,
                ),
                "spindle_load_pct": round(max(0.0, (55.0 if running else 0.0) + g(0, 3.0)), 1),
            },
        )
