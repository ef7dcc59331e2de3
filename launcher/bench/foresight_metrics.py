"""How rightly and how early a warning rule spoke, from the twin's order traces.

A rule is the time it first warned of each order (None: never). Recall: late orders warned
before their due date; lead share: (due date - first warning) / (due date - release), median
over every late order (0 for one not warned in time); precision: warned orders that finished
late. ETA error at 25/50/75% of an order's elapsed time (release to completion), as a share of
that time; flip-flops: orders warned, cleared and warned again; calibration: of the orders
given P(on time) p, the share on time, per decile.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from launcher.twin.traces import Look, OrderTrace

FRACTIONS = (0.25, 0.5, 0.75)
Warned = Callable[[OrderTrace], datetime | None]


@dataclass(frozen=True)
class RuleFigures:
    """What one warning rule achieved over every order."""

    recall: float
    lead_share_median: float
    precision: float
    warned: int
    false_alarms: Counter[str]


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def rule_figures(
    traces: list[OrderTrace], warned: Warned, why: Callable[[OrderTrace], str]
) -> RuleFigures:
    """Recall, median lead share, precision and false alarms (by reason) of one rule."""
    late = [t for t in traces if t.late]
    leads, caught = [], 0
    for t in late:
        at = warned(t)
        lead = (t.due_at - at).total_seconds() if at is not None else 0.0
        caught += at is not None and at < t.due_at
        leads.append(max(0.0, _share(lead, (t.due_at - t.released_at).total_seconds())))
    flagged = [t for t in traces if warned(t) is not None]
    false = Counter(why(t) for t in flagged if not t.late)
    return RuleFigures(
        _share(caught, len(late)),
        statistics.median(leads) if leads else 0.0,
        _share(sum(t.late for t in flagged), len(flagged)),
        len(flagged),
        false,
    )


def tracker_warned(t: OrderTrace) -> datetime | None:
    """When the tracker's rules first said at risk or late."""
    look = t.first_warning()
    return look.at if look is not None else None


def tracker_why(t: OrderTrace) -> str:
    """The kind of the first warning's reason: P(on time) low, machine down, behind plan, ETA
    near due."""
    look = t.first_warning()
    text = " ".join(look.reasons) if look is not None else ""
    if look is not None and look.status == "at_risk" and "P(on time)" in text:
        return "P(on time) low"  # the p_on_time rule (a late order's P is a side note)
    if " is DOWN" in text or " is OFFLINE" in text:
        return "machine down"
    if "over its planned" in text:
        return "behind plan"
    if "due date" in text and "passed" in text:
        return "due date passed"
    return "ETA near or past due"


def baseline_warned(t: OrderTrace) -> datetime | None:
    """A static plan (as Odoo): flagged at release when the planned finish then is past due,
    else when the due date passes unfinished."""
    first = next((look for look in t.looks if look.eta is not None), None)
    if first is not None and first.eta is not None and first.eta > t.due_at:
        return first.at
    if t.completed_at is None or t.completed_at > t.due_at:
        return t.due_at
    return None


def baseline_why(t: OrderTrace) -> str:
    return "planned finish past due"


def foresight_rule(threshold: float, clear_above: float) -> Warned:
    """Warn when P(on time) falls below `threshold`; cleared only above `clear_above`."""

    def warned(t: OrderTrace) -> datetime | None:
        for look in t.looks:
            if look.p_on_time is not None and look.p_on_time < threshold:
                return look.at
        return None

    return warned


def foresight_flip_flops(t: OrderTrace, threshold: float, clear_above: float) -> bool:
    """Whether the foresight rule warned, cleared and warned again."""
    states = []
    warned = False
    for look in t.looks:
        if look.p_on_time is None:
            continue
        if not warned and look.p_on_time < threshold:
            warned = True
        elif warned and look.p_on_time > clear_above:
            warned = False
        states.append(warned)
    return _raised_again(states)


def tracker_flip_flops(t: OrderTrace) -> bool:
    """Whether the tracker's status went to a warning, back on track and to a warning again."""
    return _raised_again([look.status != "on_track" for look in t.looks])


def _raised_again(states: Iterable[bool]) -> bool:
    raised = 0
    previous = False
    for state in states:
        raised += state and not previous
        previous = state
    return raised > 1


def eta_errors(
    traces: list[OrderTrace], fraction: float, eta: Callable[[Look], datetime | None]
) -> list[float]:
    """|ETA - completion| / elapsed, looked at `fraction` of each finished order's elapsed time."""
    out = []
    for t in traces:
        if t.completed_at is None:
            continue
        elapsed = t.completed_at - t.released_at
        look = t.look_at(t.released_at + elapsed * fraction)
        said = eta(look) if look is not None else None
        if said is not None and elapsed.total_seconds() > 0:
            out.append(abs((said - t.completed_at).total_seconds()) / elapsed.total_seconds())
    return out


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def calibration(traces: list[OrderTrace]) -> list[tuple[int, int, float, float]]:
    """Per decile of P(on time) said at 25/50/75% of elapsed time: (decile, orders, mean p,
    share on time)."""
    bins: dict[int, list[tuple[float, bool]]] = {}
    for t in traces:
        elapsed = (t.completed_at or t.due_at) - t.released_at
        for fraction in FRACTIONS:
            look = t.look_at(t.released_at + elapsed * fraction)
            if look is None or look.p_on_time is None:
                continue
            decile = min(9, int(look.p_on_time * 10))
            bins.setdefault(decile, []).append((look.p_on_time, not t.late))
    return [
        (d, len(v), statistics.fmean(p for p, _ in v), statistics.fmean(ok for _, ok in v))
        for d, v in sorted(bins.items())
    ]


def calibration_gap(rows: list[tuple[int, int, float, float]], min_count: int = 10) -> float:
    """The largest |mean p - share on time| over deciles with at least `min_count` looks."""
    gaps = [abs(p - ok) for _, n, p, ok in rows if n >= min_count]
    return max(gaps) if gaps else 0.0
