"""Mapped metric updates to the contract's machine events, with ids that repeat on redelivery."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from pydantic import BaseModel, ValidationError

from shopfloor.contract.payloads import (
    AlarmEvent,
    CycleEvent,
    JobEndEvent,
    JobStartEvent,
    MachineState,
    PayloadError,
    StateEvent,
    encode,
)
from shopfloor.sparkplug.values import Scalar

from .machines import MachineRef
from .metrics import Update

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Publish(NamedTuple):
    """A message the host sends."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


@dataclass(frozen=True)
class Origin:
    """The Sparkplug message an event comes from: with the metric time, it names the event."""

    group: str
    node: str
    device: str | None
    bd_seq: int | None
    seq: int | None

    def event_id(self, kind: str, ts_ns: int | None) -> str:
        """Deterministic: a redelivered message yields the same ids, so consumers de-duplicate."""
        key = f"{self.group}|{self.node}|{self.device}|{self.bd_seq}|{self.seq}|{kind}|{ts_ns}"
        return "spb-" + hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass
class _Known:
    """The last live values of one machine's mapped metrics."""

    state: MachineState | None = None
    counter: int | None = None
    scrap: int | None = None
    cycle_time: float | None = None
    order: str | None = None
    operation: int | None = None
    alarm: str | None = None


def _at(ts_ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ts_ns // 1000)


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _whole(value: Scalar) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if value >= 0 else None


class EventMapper:
    """Remembers each machine's mapped values and emits an event when one changes."""

    def __init__(self) -> None:
        self._known: dict[str, _Known] = {}

    def known(self, machine: str) -> bool:
        """True once any mapped value of the machine was seen."""
        return machine in self._known

    def offline(self, ref: MachineRef, origin: Origin, at: datetime) -> list[Publish]:
        """The machine's node or device died: a state OFFLINE event."""
        self._known.setdefault(ref.machine, _Known()).state = MachineState.OFFLINE
        event = StateEvent(
            type="state",
            ts=at,
            event_id=origin.event_id(f"offline|{ref.machine}", None),
            state=MachineState.OFFLINE,
        )
        return [Publish(ref.event_topic, encode(event))]

    def apply(
        self,
        ref: MachineRef,
        updates: list[Update],
        origin: Origin,
        birth: bool,
        notes: list[PayloadError],
    ) -> list[Publish]:
        """Events for the changes in one message; a birth sets counters but counts no parts."""
        profile = ref.profile
        live = {u.name: u for u in updates if u.value is not None and not u.historical}
        mapped = [profile.state, profile.counter, profile.scrap_counter, profile.order]
        if not any(name in live for name in [*mapped, profile.operation, profile.alarm]):
            return []
        known = self._known.setdefault(ref.machine, _Known())
        events: list[BaseModel] = []

        def emit(model: type[BaseModel], kind: str, ts_ns: int, **fields: object) -> None:
            try:
                events.append(
                    model(type=kind, ts=_at(ts_ns), event_id=origin.event_id(kind, ts_ns), **fields)
                )
            except ValidationError as exc:
                notes.append(PayloadError("sparkplug_event", f"{kind}: {exc.errors()[0]['msg']}"))

        state = live.get(profile.state or "")
        if state is not None and state.value is not None:
            text = _text(state.value)
            new_state = profile.state_values.get(text) or MachineState.__members__.get(text.upper())
            if new_state is None:
                notes.append(PayloadError("sparkplug_state", f"state {text[:60]!r} is not mapped"))
            elif new_state is not known.state:
                known.state = new_state
                emit(StateEvent, "state", state.ts_ns, state=new_state)

        for attr, name in (("cycle_time", profile.cycle_time), ("operation", profile.operation)):
            update = live.get(name or "")
            if update is not None and update.value is not None:
                number = _whole(update.value) if attr == "operation" else update.value
                if isinstance(number, int | float) and not isinstance(number, bool):
                    setattr(known, attr, number)

        old_job = (known.order, known.operation) if known.order else None
        order = live.get(profile.order or "")
        job_ts = order.ts_ns if order is not None else 0
        if order is not None and order.value is not None:
            known.order = _text(order.value)
        new_job = (known.order, known.operation) if known.order else None
        ended = old_job is not None and new_job is not None and old_job != new_job
        if ended and old_job is not None:
            emit(JobEndEvent, "job_end", job_ts, order_id=old_job[0], operation=old_job[1])
        if new_job is not None and (old_job is None or ended):
            emit(JobStartEvent, "job_start", job_ts, order_id=new_job[0], operation=new_job[1])

        names = (profile.counter, profile.scrap_counter)
        self._cycle(known, live, names, birth, new_job, emit, notes)

        if old_job is not None and new_job is None:
            emit(JobEndEvent, "job_end", job_ts, order_id=old_job[0], operation=old_job[1])

        alarm = live.get(profile.alarm or "")
        if alarm is not None and alarm.value is not None:
            code = _text(alarm.value)
            if code and code != known.alarm and not birth:
                emit(AlarmEvent, "alarm", alarm.ts_ns, code=code[:128])
            known.alarm = code
        return [Publish(ref.event_topic, encode(e)) for e in events]

    @staticmethod
    def _cycle(
        known: _Known,
        live: dict[str, Update],
        names: tuple[str | None, str | None],
        birth: bool,
        job: tuple[str, int | None] | None,
        emit: Callable[..., None],
        notes: list[PayloadError],
    ) -> None:
        """A cycle event when the good or scrap counter moved (never for a birth's values)."""
        counts: list[int | None] = [known.counter, known.scrap]
        stamps: list[int] = []
        for i, name in enumerate(names):
            update = live.get(name or "")
            if update is None or update.value is None:
                continue
            number = _whole(update.value)
            if number is None:
                notes.append(PayloadError("sparkplug_counter", f"{update.name[:80]!r} is no count"))
                continue
            counts[i] = number
            stamps.append(update.ts_ns)
        moved = counts != [known.counter, known.scrap]
        good_moved = counts[0] != known.counter
        known.counter, known.scrap = counts
        if birth or not moved or counts[0] is None:
            return
        fields: dict[str, object] = {"counter": counts[0]}
        if counts[1] is not None:
            fields["scrap_counter"] = counts[1]
        if good_moved and known.cycle_time is not None and known.cycle_time > 0:
            fields["cycle_time_s"] = known.cycle_time
        if job is not None:
            fields["order_id"], fields["operation"] = job
        emit(CycleEvent, "cycle", max(stamps), **fields)
