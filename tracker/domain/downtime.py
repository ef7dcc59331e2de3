"""Downtime: which stops are records, which reason a machine's alarm gives, lost minutes by key.

A stop is a machine DOWN, or IDLE while a job is bound to it; it becomes a downtime record once
it has lasted longer than the plant's minimum (shorter ones are forgotten when they end). A
record's reason comes from its alarm code through the plant file's mapping (source `alarm`),
or from a person (source `person`), who may also change it later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

DOWN, IDLE = "DOWN", "IDLE"
UNCLASSIFIED = "unclassified"  # the Pareto's key of records without a reason
# an alarm raised this long before a machine went DOWN came with the stop (PLC bridges may
# publish the alarm first; the simulator publishes the state first)
ALARM_LEAD_S = 60.0


class Category(StrEnum):
    """What kind of loss a reason is (the Pareto's `by=category`)."""

    MECHANICAL = "mechanical"
    ELECTRICAL = "electrical"
    MATERIAL = "material"
    QUALITY = "quality"
    CHANGEOVER = "changeover"
    NO_OPERATOR = "no_operator"
    TOOLING = "tooling"
    PLANNED = "planned"
    OTHER = "other"


class Source(StrEnum):
    """Who gave a record its reason."""

    ALARM = "alarm"
    PERSON = "person"


@dataclass(frozen=True)
class Reason:
    """One entry of the plant's reason catalogue."""

    code: str
    name: str
    category: Category


@dataclass(frozen=True)
class ReasonCatalogue:
    """The plant file's reasons, and which reason each machine's alarm codes give."""

    reasons: Mapping[str, Reason] = field(default_factory=dict)
    # alarm code -> reason code, plant-wide and per machine (the machine's own wins)
    alarms: Mapping[str, str] = field(default_factory=dict)
    machine_alarms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def reason_for_alarm(self, machine_id: str, alarm_code: str | None) -> Reason | None:
        """The reason the machine's alarm gives, None when the plant file maps it to none."""
        if alarm_code is None:
            return None
        own = self.machine_alarms.get(machine_id, {})
        code = own.get(alarm_code, self.alarms.get(alarm_code))
        return None if code is None else self.reasons.get(code)


@dataclass(frozen=True)
class DowntimeRules:
    """The reason catalogue and the shortest stop that is a record."""

    catalogue: ReasonCatalogue = field(default_factory=ReasonCatalogue)
    min_s: float = 60.0


def stop_of(state: str, order_id: str | None) -> str | None:
    """The kind of stop a machine is in (DOWN or IDLE), None when it is not stopped.

    IDLE counts only while a job is bound (the job waits); a machine with nothing to do is not
    losing anything. OFFLINE is unknown, not a stop.
    """
    if state == DOWN:
        return DOWN
    if state == IDLE and order_id is not None:
        return IDLE
    return None


def lasted(started_at: datetime, ended_at: datetime | None, now: datetime) -> float:
    """Seconds a stop lasted, up to `now` while it lasts (never negative)."""
    return max(0.0, ((ended_at or now) - started_at).total_seconds())


def is_record(started_at: datetime, ended_at: datetime | None, now: datetime, min_s: float) -> bool:
    """Whether a stop is a downtime record: it lasted (so far) longer than `min_s`."""
    return lasted(started_at, ended_at, now) > min_s


@dataclass(frozen=True)
class Stop:
    """A downtime record as the Pareto sees it."""

    machine_id: str
    started_at: datetime
    ended_at: datetime | None
    reason: str | None
    category: str | None


@dataclass(frozen=True)
class ParetoBar:
    """Lost minutes and the number of stops of one key (reason, machine or category)."""

    key: str
    minutes: float
    count: int


class ParetoBy(StrEnum):
    """What the Pareto groups stops by."""

    REASON = "reason"
    MACHINE = "machine"
    CATEGORY = "category"


def _key(stop: Stop, by: ParetoBy) -> str:
    if by is ParetoBy.MACHINE:
        return stop.machine_id
    value = stop.reason if by is ParetoBy.REASON else stop.category
    return value or UNCLASSIFIED


def pareto(
    stops: Iterable[Stop], since: datetime, until: datetime, now: datetime, by: ParetoBy
) -> list[ParetoBar]:
    """Minutes lost inside [since, until] per key, largest first (open stops count up to
    `now`); a stop counts once, under the key it has now."""
    minutes: dict[str, float] = {}
    counts: dict[str, int] = {}
    for stop in stops:
        start = max(stop.started_at, since)
        end = min(stop.ended_at or now, until)
        if end <= start:
            continue
        key = _key(stop, by)
        minutes[key] = minutes.get(key, 0.0) + (end - start).total_seconds() / 60
        counts[key] = counts.get(key, 0) + 1
    bars = [ParetoBar(k, round(m, 3), counts[k]) for k, m in minutes.items()]
    return sorted(bars, key=lambda b: (-b.minutes, b.key))
