"""Schedule status of an open order (on track, at risk, late) and the human-readable reasons."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from . import events
from .wording import at, span

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


class AtRiskRule(StrEnum):
    """What makes an open order at risk (SHOPFLOOR_AT_RISK_RULE)."""

    RULES = "rules"  # ETA within a slack of due, cycle over plan, machine down
    P_ON_TIME = "p_on_time"  # its forecast P(on time) is low (the rules until it has one)


@dataclass(frozen=True)
class ScheduleRules:
    """When an order counts as at risk, and when it is back on track (hysteresis).

    From SHOPFLOOR_AT_RISK_SLACK_S, _BEHIND_PLAN_RATIO and _RECOVERY_MARGIN_S. An order that
    is at risk or late is back on track only once its ETA is `at_risk_slack_s +
    recovery_margin_s` ahead of its due date and its operation runs within half the
    behind-plan ratio, so an ETA hovering at the threshold does not flap between the two.
    With `at_risk_rule` p_on_time (SHOPFLOOR_AT_RISK_RULE) an order with a forecast is at risk
    when its P(on time) is below `at_risk_below`, and back on track only at
    `back_on_track_above` or more (SHOPFLOOR_FORESIGHT_AT_RISK_BELOW, _BACK_ON_TRACK_ABOVE).
    """

    at_risk_slack_s: float = 3600.0
    behind_plan_ratio: float = 0.2
    recovery_margin_s: float = 600.0
    # the plant's time zone (plant file `timezone:`): the times in the reasons read in it
    tz: tzinfo = UTC
    at_risk_rule: AtRiskRule = AtRiskRule.RULES
    at_risk_below: float = 0.5
    back_on_track_above: float = 0.7


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


def eta_with_plan(projected: datetime, planned: datetime | None) -> datetime:
    """The ETA: the later of the order's own projection from now and its end in the plan.

    The plan adds queues, shifts and machines down; the projection keeps a plan made a while
    ago from promising what the remaining work can no longer make.
    """
    return planned if planned is not None and planned > projected else projected


@dataclass(frozen=True)
class OnTimeOdds:
    """An order's forecast P(on time) and what threatens it most (the foresight's reason)."""

    p_on_time: float
    reason: str | None = None


def assess(
    eta: datetime,
    due_at: datetime,
    now: datetime,
    active: ActiveOperation | None,
    rules: ScheduleRules,
    previous: ScheduleStatus = ScheduleStatus.ON_TRACK,
    odds: OnTimeOdds | None = None,
) -> Assessment:
    """The status of an open order and every reason for it, worst first.

    `previous` is the status the order had: one that was not on track needs the recovery
    margin on top of the slack (and half the behind-plan ratio) to be on track again.
    Late is always the ETA's (or the due date's) word; at risk is the rules', or with the
    p_on_time rule and `odds` (the order's forecast) P(on time)'s alone (`odds_risk`).
    """
    recovering = previous is not ScheduleStatus.ON_TRACK
    late: list[str] = []
    if now > due_at:
        passed = span((now - due_at).total_seconds())
        late.append(f"due date {at(due_at, rules.tz)} passed {passed} ago")
    margin = (due_at - eta).total_seconds()
    if margin < 0:
        late.append(
            f"projected to finish {at(eta, rules.tz)}, {span(-margin)} after its due date "
            f"{at(due_at, rules.tz)}"
        )
    if rules.at_risk_rule is AtRiskRule.P_ON_TIME and odds is not None:
        risk = odds_risk(odds, rules, recovering)
    else:
        risk = _rule_risks(eta, due_at, active, rules, recovering)
    if late:
        return Assessment(ScheduleStatus.LATE, tuple(late + risk))
    if risk:
        return Assessment(ScheduleStatus.AT_RISK, tuple(risk))
    return Assessment(ScheduleStatus.ON_TRACK, ())


def odds_risk(odds: OnTimeOdds, rules: ScheduleRules, recovering: bool) -> list[str]:
    """The p_on_time rule: at risk below `at_risk_below`; an order that was not on track stays
    at risk until `back_on_track_above` (hysteresis). The reason: P(on time) and its threat."""
    p = odds.p_on_time
    threat = f": {odds.reason}" if odds.reason else ""
    if p < rules.at_risk_below:
        return [f"P(on time) {percent(p)}{threat}"]
    if recovering and p < rules.back_on_track_above:
        needs = percent(rules.back_on_track_above)
        return [f"P(on time) {percent(p)}, not yet back on track (needs {needs}){threat}"]
    return []


def percent(p: float) -> str:
    """A probability as whole percent, rounded down: 0.499 is 49%, never the 50% it is under."""
    return f"{int(100 * p + 1e-9)}%"


def _rule_risks(
    eta: datetime,
    due_at: datetime,
    active: ActiveOperation | None,
    rules: ScheduleRules,
    recovering: bool,
) -> list[str]:
    """The rules: ETA within the slack of due, the operation behind plan, its machine stopped."""

    def _at(t: datetime) -> str:
        return at(t, rules.tz)

    risk: list[str] = []
    margin = (due_at - eta).total_seconds()
    # a margin below 0 is late, said by `assess`
    if 0 <= margin < rules.at_risk_slack_s:
        risk.append(
            f"projected to finish {_at(eta)}, only {span(margin)} before its due date "
            f"{_at(due_at)} (slack {span(rules.at_risk_slack_s)})"
        )
    elif recovering and 0 <= margin < rules.at_risk_slack_s + rules.recovery_margin_s:
        risk.append(
            f"projected to finish {_at(eta)}, {span(margin)} before its due date "
            f"{_at(due_at)}: not yet back on track (needs "
            f"{span(rules.at_risk_slack_s + rules.recovery_margin_s)})"
        )
    if active is not None:
        observed, planned = active.observed_cycle_s, active.planned_cycle_s
        ratio = rules.behind_plan_ratio / 2 if recovering else rules.behind_plan_ratio
        if observed is not None and planned > 0 and observed > planned * (1 + ratio):
            over = 100 * (observed / planned - 1)
            risk.append(
                f"operation {active.seq} ({active.name}) runs at {observed:.1f} s/part, "
                f"{over:.0f}% over its planned {planned:.1f} s "
                f"(threshold {100 * ratio:.0f}%)"
            )
        for machine, state in sorted(active.machine_states.items()):
            if state in STOPPED_STATES:
                risk.append(
                    f"machine {machine} of operation {active.seq} ({active.name}) is {state}"
                )
    return risk


def summary(order_id: str, status: ScheduleStatus, reasons: Sequence[str]) -> str:
    """One line for people: `order SO-1 is late: reason; reason`."""
    label = {"on_track": "back on track", "at_risk": "at risk", "late": "late"}[status.value]
    return f"order {order_id} is {label}" + (f": {'; '.join(reasons)}" if reasons else "")


def completion_note(completed_at: datetime, due_at: datetime, tz: tzinfo = UTC) -> tuple[str, ...]:
    """Why a completed order has the status it keeps."""
    lateness = (completed_at - due_at).total_seconds()
    if lateness > 0:
        return (f"completed {at(completed_at, tz)}, {span(lateness)} after its due date",)
    return ()


ScheduleNews = (
    type[events.OrderFellBehind] | type[events.OrderBackOnTrack] | type[events.OrderScheduleUpdated]
)


def schedule_news(
    previous: ScheduleStatus,
    previous_reasons: Sequence[str],
    previous_eta: datetime | None,
    result: Assessment,
    eta: datetime,
) -> ScheduleNews | None:
    """Which schedule event an assessment is news for, if any (alerts follow these events)."""
    if worse(result.status, previous):
        return events.OrderFellBehind
    if result.status is ScheduleStatus.ON_TRACK:
        return events.OrderBackOnTrack if previous is not ScheduleStatus.ON_TRACK else None
    if (
        _gist(result.reasons) != _gist(previous_reasons)
        or previous_eta is None
        or abs((eta - previous_eta).total_seconds()) >= ETA_UPDATE_MIN_S
    ):
        # an alert is refreshed when there is news, not on every check
        return events.OrderScheduleUpdated
    return None


# an ETA that moved less than this is no news for an open alert
ETA_UPDATE_MIN_S = 60.0


def _gist(reasons: Sequence[str]) -> list[str]:
    """Reasons without their figures: "due date passed 3 min ago" stays the same news."""
    return [re.sub(r"\d+(?:\.\d+)?", "#", reason) for reason in reasons]
