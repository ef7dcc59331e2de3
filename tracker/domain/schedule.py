"""Schedule status of an open order (on track, at risk, late) and the human-readable reasons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# machine states in which the active operation cannot progress
STOPPED_STATES = frozenset({"DOWN", "OFFLINE"})


class ScheduleStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    LATE = "late"


_RANK = {ScheduleStatus.ON_TRACK: 0, ScheduleStatus.AT_RISK: 1, ScheduleStatus.LATE: 2}


def worse(a: ScheduleStatus, b: ScheduleStatus) -> bool:
    """True when `a` is a worse schedule status than `b`."""
    return _RANK[a] > _RANK[b]


@dataclass(frozen=True)
class ScheduleRules:
    """When an order counts as at risk; from SHOPFLOOR_AT_RISK_SLACK_S and _BEHIND_PLAN_RATIO."""

    at_risk_slack_s: float = 3600.0
    behind_plan_ratio: float = 0.2


@dataclass(frozen=True)
class ActiveOperation:
    """What the assessment needs of the operation being worked (or waited for)."""

    seq: int
    name: str
    planned_cycle_s: float
    observed_cycle_s: float | None
    machine_states: Mapping[str, str]  # machine id -> state, for the machines that work it


@dataclass(frozen=True)
class Assessment:
    status: ScheduleStatus
    reasons: tuple[str, ...]


def _at(t: datetime) -> str:
    return f"{t:%Y-%m-%d %H:%M}Z"


def _span(seconds: float) -> str:
    """A duration as people say it: 45 s, 12 min, 3.5 h, 2.0 d."""
    s = abs(seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def assess(
    eta: datetime,
    due_at: datetime,
    now: datetime,
    active: ActiveOperation | None,
    rules: ScheduleRules,
) -> Assessment:
    """The status of an open order and every reason for it, worst first."""
    late: list[str] = []
    risk: list[str] = []
    if now > due_at:
        late.append(f"due date {_at(due_at)} passed {_span((now - due_at).total_seconds())} ago")
    margin = (due_at - eta).total_seconds()
    if margin < 0:
        late.append(
            f"projected to finish {_at(eta)}, {_span(-margin)} after its due date {_at(due_at)}"
        )
    elif margin < rules.at_risk_slack_s:
        risk.append(
            f"projected to finish {_at(eta)}, only {_span(margin)} before its due date "
            f"{_at(due_at)} (slack {_span(rules.at_risk_slack_s)})"
        )
    if active is not None:
        observed, planned = active.observed_cycle_s, active.planned_cycle_s
        if (
            observed is not None
            and planned > 0
            and observed > planned * (1 + rules.behind_plan_ratio)
        ):
            over = 100 * (observed / planned - 1)
            risk.append(
                f"operation {active.seq} ({active.name}) runs at {observed:.1f} s/part, "
                f"{over:.0f}% over its planned {planned:.1f} s "
                f"(threshold {100 * rules.behind_plan_ratio:.0f}%)"
            )
        for machine, state in sorted(active.machine_states.items()):
            if state in STOPPED_STATES:
                risk.append(
                    f"machine {machine} of operation {active.seq} ({active.name}) is {state}"
                )
    if late:
        return Assessment(ScheduleStatus.LATE, tuple(late + risk))
    if risk:
        return Assessment(ScheduleStatus.AT_RISK, tuple(risk))
    return Assessment(ScheduleStatus.ON_TRACK, ())


def summary(order_id: str, status: ScheduleStatus, reasons: Sequence[str]) -> str:
    """One line for people: `order SO-1 is late: reason; reason`."""
    label = {"on_track": "back on track", "at_risk": "at risk", "late": "late"}[status.value]
    return f"order {order_id} is {label}" + (f": {'; '.join(reasons)}" if reasons else "")


def completion_note(completed_at: datetime, due_at: datetime) -> tuple[str, ...]:
    """Why a completed order has the status it keeps."""
    lateness = (completed_at - due_at).total_seconds()
    if lateness > 0:
        return (f"completed {_at(completed_at)}, {_span(lateness)} after its due date",)
    return ()
