"""A simulated machine: state machine, part counters, sensor dynamics, alarms and failures.

No I/O: `step()` advances simulated time and returns the messages a real machine (or its PLC
bridge) would publish. States follow the contract: IDLE, SETUP, RUNNING, DOWN, OFFLINE.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel

from shopfloor.contract.payloads import (
    AlarmEvent,
    CycleEvent,
    JobEndEvent,
    JobStartEvent,
    MachineState,
    StateEvent,
)
from shopfloor.contract.topics import EVENT, TELEMETRY

from .jobs import Job
from .models import CNC_MILL, Alarm, MachineModel
from .sensors import reading, settle

__all__ = ["WEAR_ALARM", "Job", "Message", "SimMachine"]  # Job: where callers found it

# the alarm a machine raises once when its wear channels pass half-way to failure
WEAR_ALARM = Alarm("VIB-HI", "vibration rising: maintenance due")


Message = tuple[str, BaseModel]  # (kind, payload)


class SimMachine:
    """Steps in simulated seconds; returns the messages a real machine would publish.

    With `failures` on, the machine breaks down after an exponentially distributed running
    time (mean `model.mtbf_s`) and is repaired after a lognormal time (mean `model.mttr_s`);
    its wear channels (vibration) rise over the `model.warning_s` before the failure.
    `break_down()` and `power_off()` are the scripted faults of a scenario.
    """

    def __init__(
        self,
        machine_id: str,
        rng: random.Random,
        jobs: list[Job],
        telemetry_interval_s: float = 1.0,
        counter_start: int = 0,
        event_id: Callable[[], str] | None = None,
        model: MachineModel = CNC_MILL,
        failures: bool = False,
        counter_wrap: int | None = None,
        scrap_rate: float | None = None,
        heartbeat_s: float | None = None,
    ) -> None:
        self.machine_id = machine_id
        self.rng = rng
        self.jobs = list(jobs)
        self.telemetry_interval_s = telemetry_interval_s
        self.model = model
        self.counter_wrap = counter_wrap
        self.counter = counter_start
        self.scrap_counter = 0
        self.scrap_rate = scrap_rate or 0.0  # scenarios give the model's
        self.failures = failures
        self.state = MachineState.IDLE
        self.values = {c.name: c.target(MachineState.IDLE) for c in model.channels}
        self._n = 0
        self._event_id = event_id or self._default_event_id
        self._job: Job | None = None
        self._made = 0
        self._phase_left = 0.0  # seconds left in the current setup or cycle
        self._phase_len = 0.0
        self._since_telemetry = telemetry_interval_s
        # a PLC bridge repeats the state now and then: the tracker hears an idle machine too
        self.heartbeat_s = heartbeat_s
        self._since_state = 0.0
        # a stop (DOWN or OFFLINE): seconds left, and the state to go back to
        self._stopped_left = 0.0
        self._resume = MachineState.IDLE
        self._to_failure = self._time_to_failure()
        self._wear_alarmed = False
        self.done: list[Job] = []
        self.breakdowns = 0

    def _default_event_id(self) -> str:
        self._n += 1
        return f"{self.machine_id}-{self._n}"

    @property
    def idle(self) -> bool:
        """Nothing in hand, nothing queued."""
        return self._job is None and not self.jobs

    @property
    def current(self) -> Job | None:
        return self._job

    @property
    def stopped(self) -> bool:
        return self.state in (MachineState.DOWN, MachineState.OFFLINE)

    @property
    def cycle_s(self) -> float | None:
        """The length of the cycle in hand (plant seconds), None outside a running cycle."""
        running = self.state is MachineState.RUNNING and self._phase_len > 0
        return self._phase_len if running else None

    @property
    def cycle_progress(self) -> float:
        """The share of the cycle in hand that is done: 0 outside a running cycle, below 1."""
        if self.cycle_s is None:
            return 0.0
        return min(0.999, max(0.0, 1.0 - self._phase_left / self._phase_len))

    def step(
        self,
        now: datetime,
        dt_s: float,
        ready: Callable[[Job], bool],
        speed: float = 1.0,
        hold: bool = False,
    ) -> list[Message]:
        """Advance `dt_s` simulated seconds; `ready` says whether a job's predecessors are done.

        With `hold` its controller holds the cycle in hand (a PackML unit not in Execute): the
        time passes without progress."""
        out: list[Message] = []
        if self.stopped:
            self._stopped_left -= dt_s
            if self._stopped_left <= 0:
                self._restart(now, out)
        else:
            self._work(now, dt_s, ready, speed, out, hold)
        # an OFFLINE machine cools down as an idle one does
        state = MachineState.IDLE if self.state is MachineState.OFFLINE else self.state
        settle(self.values, self.model, state, self.wear(), dt_s)
        if self.state is MachineState.OFFLINE:
            return out  # a machine that is off sends nothing more
        self._since_state += dt_s
        if self.heartbeat_s is not None and self._since_state >= self.heartbeat_s:
            self._set_state(self.state, now, out)
        self._since_telemetry += dt_s
        if self._since_telemetry >= self.telemetry_interval_s:
            self._since_telemetry = 0.0
            out.append((TELEMETRY, reading(self.values, self.model, self.rng, now)))
        return out

    def _work(
        self,
        now: datetime,
        dt_s: float,
        ready: Callable[[Job], bool],
        speed: float,
        out: list[Message],
        hold: bool = False,
    ) -> None:
        if self._job is None and self.jobs and ready(self.jobs[0]):
            self._start(self.jobs.pop(0), now, out)
        if self._job is None or (hold and self.state is MachineState.RUNNING):
            return
        if self.state is MachineState.RUNNING and self.failures:
            self._to_failure -= dt_s
            if self._to_failure <= self.model.warning_s / 2 and not self._wear_alarmed:
                self._wear_alarmed = True
                self._alarm(now, WEAR_ALARM, out)
            if self._to_failure <= 0:
                alarm = self.rng.choice(self.model.alarms)
                self.break_down(now, self._repair_time(), alarm, out)
                return
        self._phase_left -= dt_s
        if self._phase_left <= 0:
            self._advance(now, out, speed)

    def break_down(
        self, now: datetime, down_s: float, alarm: Alarm | None, out: list[Message]
    ) -> None:
        """The machine stops with an alarm for `down_s` (the cycle in hand starts over)."""
        self._stop(MachineState.DOWN, now, down_s, out)
        self.breakdowns += 1
        if alarm is not None:
            self._alarm(now, alarm, out)

    def power_off(self, now: datetime, off_s: float, out: list[Message]) -> None:
        """The machine is switched off for `off_s`: it says OFFLINE, then nothing at all."""
        self._stop(MachineState.OFFLINE, now, off_s, out)

    def _stop(self, state: MachineState, now: datetime, for_s: float, out: list[Message]) -> None:
        if self.stopped:
            self._stopped_left = max(self._stopped_left, for_s)
            return
        self._resume = self.state
        self._stopped_left = for_s
        self._set_state(state, now, out)

    def _restart(self, now: datetime, out: list[Message]) -> None:
        if self.state is MachineState.DOWN:
            # repaired: the wear is gone, the next failure is drawn anew
            self._to_failure = self._time_to_failure()
            self._wear_alarmed = False
        if self._job is None:
            self._set_state(MachineState.IDLE, now, out)
        elif self._resume is MachineState.SETUP:
            self._set_state(MachineState.SETUP, now, out)
            self._phase_left = self._phase_len
        else:
            self._begin_cycle(now, out, force_state=True)

    def _time_to_failure(self) -> float:
        return self.rng.expovariate(1.0 / self.model.mtbf_s) if self.failures else math.inf

    def _repair_time(self) -> float:
        # lognormal with mean mttr_s: repairs are mostly short, sometimes long
        sigma = 0.5
        mu = math.log(self.model.mttr_s) - sigma * sigma / 2
        return self.rng.lognormvariate(mu, sigma)

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

    def _begin_cycle(self, now: datetime, out: list[Message], force_state: bool = False) -> None:
        assert self._job is not None
        if force_state or self.state is not MachineState.RUNNING:
            self._set_state(MachineState.RUNNING, now, out)
        cv = self.model.cycle_cv
        # cycle-time variance around the standard, never below half of it
        factor = max(0.5, self.rng.gauss(1.0, cv)) if cv > 0 else 1.0
        self._phase_left = self._phase_len = self._job.cycle_s * factor

    def _wrap(self, value: int) -> int:
        return value % self.counter_wrap if self.counter_wrap else value

    def _advance(self, now: datetime, out: list[Message], speed: float) -> None:
        job = self._job
        assert job is not None
        if self.state is MachineState.SETUP:
            self._begin_cycle(now, out)
            return
        scrap = self.scrap_rate > 0 and self.rng.random() < self.scrap_rate
        if scrap:
            self.scrap_counter = self._wrap(self.scrap_counter + 1)
        else:
            self.counter = self._wrap(self.counter + 1)
            self._made += 1
        self._emit(
            out,
            CycleEvent,
            now,
            type="cycle",
            counter=self.counter,
            scrap_counter=self.scrap_counter if self.scrap_rate > 0 else None,
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

    def _alarm(self, now: datetime, alarm: Alarm, out: list[Message]) -> None:
        self._emit(out, AlarmEvent, now, type="alarm", code=alarm.code, message=alarm.message)

    def _set_state(self, state: MachineState, now: datetime, out: list[Message]) -> None:
        self.state = state
        self._since_state = 0.0
        self._emit(out, StateEvent, now, type="state", state=state)

    def wear(self) -> float:
        """0 far from a failure, rising to 1 at it (over the model's warning window)."""
        if not math.isfinite(self._to_failure) or self.model.warning_s <= 0:
            return 0.0
        return min(1.0, max(0.0, 1.0 - self._to_failure / self.model.warning_s))
