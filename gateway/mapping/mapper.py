"""One machine's tag values to the contract's events, with ids that repeat on redelivery (pure)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ValidationError

from shopfloor.contract.payloads import (
    AlarmEvent,
    CycleEvent,
    JobEndEvent,
    JobStartEvent,
    MachineState,
    PayloadError,
    StateEvent,
)

from .counters import Counter, CounterStep, CumulativeCounter, IncrementCounter
from .presets import state_key
from .spec import CounterTag, Source

Scalar = int | float | bool | str
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_ALARM = frozenset({"", "0", "false", "none"})


@dataclass(frozen=True)
class TagValue:
    """One tag's value (None: no value) at its time in ns since the epoch."""

    name: str
    value: Scalar | None
    ts_ns: int


@dataclass
class Mapped:
    """The events one message gives, and the problems with single values (dead-lettered)."""

    events: list[BaseModel] = field(default_factory=list)
    problems: list[PayloadError] = field(default_factory=list)


def _at(ts_ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ts_ns // 1000)


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _whole(value: Scalar) -> int | None:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, bool) or not math.isfinite(value) or value != int(value):
        return None
    return int(value) if 0 <= value < 2**63 else None


def _seconds(value: Scalar) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and 0 < number <= 7 * 86400 else None


def _counter(spec: CounterTag | None, wrap: int | None) -> Counter | None:
    if spec is None:
        return None
    if spec.kind == "cumulative":
        return CumulativeCounter(wrap)
    return IncrementCounter(per_message=spec.kind == "per_message")


def event_id(*parts: object) -> str:
    """A deterministic event id: the same message gives the same ids, so consumers de-duplicate."""
    return "map-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


class MachineMapper:
    """Remembers one machine's mapped values and emits an event when one changes."""

    def __init__(self, machine: str, source: Source, counter_wrap: int | None = None) -> None:
        self.machine = machine
        self.source = source
        self._states = source.state.table() if source.state else {}
        self._tags = frozenset(source.tags())
        self.good = _counter(source.good, counter_wrap)
        self.scrap = _counter(source.scrap, counter_wrap)
        self.state: MachineState | None = None
        self.cycle_time: float | None = None
        self.order: str | None = None
        self.operation: int | None = None
        self.alarm: str | None = None
        self._last_part_ns: int | None = None
        self.seen = False  # any mapped value was seen

    def maps(self, tag: str) -> bool:
        """True when a role is mapped from `tag`."""
        return tag in self._tags

    def offline(self, at: datetime, key: str) -> StateEvent:
        """The machine's bridge said it is gone (its will, a death certificate)."""
        self.state = MachineState.OFFLINE
        ident = event_id(self.machine, key, "offline")
        return StateEvent(type="state", ts=at, event_id=ident, state=MachineState.OFFLINE)

    def apply(self, values: list[TagValue], key: str = "", birth: bool = False) -> Mapped:
        """Events for the changes one message brings; `key` names the message's origin.

        A message that holds one tag several times (a buffering bridge) is taken in time order,
        as if each value had come on its own."""
        mapped = [v for v in values if v.value is not None and v.name in self._tags]
        out = Mapped()
        if not mapped:
            return out
        self.seen = True
        if len(mapped) == 1 or len({v.name for v in mapped}) == len(mapped):
            self._apply({v.name: v for v in mapped}, key, birth, out)
            return out
        group: dict[str, TagValue] = {}
        for tv in sorted(mapped, key=lambda v: v.ts_ns):
            if tv.name in group:
                self._apply(group, key, birth, out)
                group = {}
            group[tv.name] = tv
        self._apply(group, key, birth, out)
        return out

    def _apply(self, live: dict[str, TagValue], key: str, birth: bool, out: Mapped) -> None:
        src = self.source

        def emit(model: type[BaseModel], kind: str, tv: TagValue, **fields: object) -> None:
            shown = _text(tv.value) if tv.value is not None else ""
            ident = event_id(self.machine, key, kind, tv.name, shown, tv.ts_ns)
            extra = fields.pop("_id", None)
            if extra is not None:
                ident = event_id(ident, extra)
            try:
                out.events.append(model(type=kind, ts=_at(tv.ts_ns), event_id=ident, **fields))
            except ValidationError as exc:
                detail = f"{kind} from {tv.name[:80]!r}: {exc.errors()[0]['msg']}"
                out.problems.append(PayloadError("mapped_event", detail))

        if src.state is not None and src.state.tag in live:
            self._state(live[src.state.tag], emit, out)
        if src.cycle_time is not None and src.cycle_time.tag in live:
            value = live[src.cycle_time.tag].value
            seconds = _seconds(value) if value is not None else None
            if seconds is not None:
                self.cycle_time = seconds
        self._jobs_and_counts(live, birth, emit, out)
        if src.alarm is not None and src.alarm.tag in live:
            self._alarm(live, birth, emit)

    def _state(self, tv: TagValue, emit: _Emit, out: Mapped) -> None:
        found = state_key(tv.value if tv.value is not None else "")
        if not found:
            return  # an empty state (a birth before the PLC answered): nothing to say yet
        if found not in self._states:
            out.problems.append(_bad(tv, "mapped_state", "is not mapped to a state"))
            return
        state = self._states[found]
        if state is not None and state is not self.state:
            self.state = state
            emit(StateEvent, "state", tv, state=state)

    def _jobs_and_counts(
        self, live: dict[str, TagValue], birth: bool, emit: _Emit, out: Mapped
    ) -> None:
        src = self.source
        old_job = self._job()
        order, operation = live.get(src.order or ""), live.get(src.operation or "")
        if order is not None and order.value is not None:
            self.order = _text(order.value)[:64] or None
        if operation is not None and operation.value is not None:
            number = _whole(operation.value)
            if number is None:
                out.problems.append(_bad(operation, "mapped_operation", "is no operation number"))
            else:
                self.operation = number
        new_job = self._job()  # a job needs both: an order without its operation waits
        changed = order or operation
        if changed is not None and old_job is not None and new_job not in (None, old_job):
            emit(JobEndEvent, "job_end", changed, order_id=old_job[0], operation=old_job[1])
        if changed is not None and new_job is not None and new_job != old_job:
            emit(JobStartEvent, "job_start", changed, order_id=new_job[0], operation=new_job[1])
        self._counts(live, birth, new_job, emit, out)
        if changed is not None and old_job is not None and new_job is None:
            emit(JobEndEvent, "job_end", changed, order_id=old_job[0], operation=old_job[1])

    def _job(self) -> tuple[str, int] | None:
        if self.order and self.operation is not None:
            return self.order, self.operation
        return None

    def _counts(
        self,
        live: dict[str, TagValue],
        birth: bool,
        job: tuple[str, int] | None,
        emit: _Emit,
        out: Mapped,
    ) -> None:
        src = self.source
        steps: dict[str, tuple[TagValue, CounterStep]] = {}
        for role, spec, counter in (
            ("good", src.good, self.good),
            ("scrap", src.scrap, self.scrap),
        ):
            if spec is None or counter is None or spec.tag not in live:
                continue
            tv = live[spec.tag]
            if birth and isinstance(counter, IncrementCounter):
                continue  # a birth repeats values: it makes no parts
            step = counter.update(tv.value, tv.ts_ns)
            if step.error:
                out.problems.append(_bad(tv, "mapped_counter", step.error))
            if step.counters:
                steps[role] = (tv, step)
        good_now = self.good.reported if self.good is not None else None
        if good_now is None or not steps:
            return  # the tracker needs the good counter with every count
        scrap_now = self.scrap.reported if self.scrap is not None else None
        good = steps.get("good")
        tv = good[0] if good else steps["scrap"][0]
        reports = list(good[1].counters) if good else [good_now]
        baseline = (good[1].baseline if good else False) or (
            "scrap" in steps and steps["scrap"][1].baseline
        )
        fields: dict[str, object] = {}
        if job is not None:
            fields["order_id"], fields["operation"] = job
        if scrap_now is not None:
            fields["scrap_counter"] = scrap_now
        cycle = self._cycle_time(tv.ts_ns, good[1].parts if good else 0)
        for i, reported in enumerate(reports):
            first = i == 0 and baseline
            extra: dict[str, object] = {"baseline": True} if first else {}
            if cycle is not None and not first:
                extra["cycle_time_s"] = cycle
            ident = f"{reported}|{scrap_now}"
            emit(CycleEvent, "cycle", tv, counter=reported, _id=ident, **fields, **extra)

    def _cycle_time(self, ts_ns: int, parts: int) -> float | None:
        if parts <= 0:
            return None
        spec = self.source.cycle_time
        last, self._last_part_ns = self._last_part_ns, ts_ns
        if spec is not None and spec.from_counts:
            if last is None or ts_ns <= last:
                return None
            return _seconds((ts_ns - last) / 1e9 / parts)
        return self.cycle_time

    def _alarm(self, live: dict[str, TagValue], birth: bool, emit: _Emit) -> None:
        spec = self.source.alarm
        assert spec is not None
        tv = live[spec.tag]
        code = _text(tv.value if tv.value is not None else "")[:128]
        active = code.lower() not in _NO_ALARM
        previous, self.alarm = self.alarm, code if active else ""
        if not active or birth or code == previous:
            return  # no alarm, or one already known (a birth or a retained value repeats)
        text = live.get(spec.text or "")
        message = _text(text.value)[:1024] if text is not None and text.value is not None else ""
        emit(AlarmEvent, "alarm", tv, code=code, message=message)


def _bad(tv: TagValue, reason: str, why: str) -> PayloadError:
    shown = repr(tv.value)[:60]
    return PayloadError(reason, f"tag {tv.name[:120]!r}: {shown} {why}")


class _Emit(Protocol):
    """The shape of MachineMapper.apply's `emit`."""

    def __call__(
        self, model: type[BaseModel], kind: str, tv: TagValue, **fields: object
    ) -> None: ...
