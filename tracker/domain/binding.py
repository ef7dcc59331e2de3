"""How jobs bind to machines (events, dispatch list, operators) and when silence means OFFLINE."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from .downtime import DowntimeRules


class Binding(StrEnum):
    """Who binds a machine's job: its own events, its dispatch list, or people."""

    EVENT = "event"
    DISPATCH = "dispatch"
    OPERATOR = "operator"


class OfflineRule(StrEnum):
    """When a machine is OFFLINE: after a silence, or only when its bridge says so."""

    SILENCE = "silence"
    BRIDGE = "bridge"


@dataclass(frozen=True)
class MachineRules:
    """Each machine's binding and offline rule (the plant file's, else the defaults)."""

    binding: Binding = Binding.EVENT
    offline: OfflineRule = OfflineRule.SILENCE
    bindings: Mapping[str, Binding] = field(default_factory=dict)
    offline_rules: Mapping[str, OfflineRule] = field(default_factory=dict)
    # unassigned cycles up to this long before a binding are counted to the bound job
    unassigned_window_s: float = 300.0
    # machines the plant declares (others are known once they published something)
    machines: frozenset[str] = frozenset()
    # which stops are downtime records, and the reasons their alarms give
    downtime: DowntimeRules = field(default_factory=DowntimeRules)

    def binding_of(self, machine_id: str) -> Binding:
        return self.bindings.get(machine_id, self.binding)

    def offline_of(self, machine_id: str) -> OfflineRule:
        return self.offline_rules.get(machine_id, self.offline)

    def silence_scope(self) -> tuple[frozenset[str] | None, frozenset[str]]:
        """Which machines the silence check may mark OFFLINE: (only these, or None for every
        machine, then none of these)."""
        if self.offline is OfflineRule.BRIDGE:
            only = frozenset(m for m, r in self.offline_rules.items() if r is OfflineRule.SILENCE)
            return only, frozenset()
        bridged = frozenset(m for m, r in self.offline_rules.items() if r is OfflineRule.BRIDGE)
        return None, bridged


def resolve(
    own: Mapping[str, str],
    centers: Iterable[tuple[Sequence[str], str | None]],
) -> dict[str, str]:
    """A setting per machine: its own, else its (first) work center's that has one."""
    resolved = dict(own)
    for machines, value in centers:
        if value is None:
            continue
        for machine in machines:
            resolved.setdefault(machine, value)
    return resolved


class DispatchCandidate(NamedTuple):
    """A job of a machine's dispatch list as the binding rule sees it."""

    order_id: str
    seq: int
    ready: bool  # every earlier operation of the order is complete
    left: int  # good parts still to make


def first_ready(queue: Iterable[DispatchCandidate]) -> DispatchCandidate | None:
    """The job a dispatch-bound machine takes: the first ready one with parts left."""
    return next((job for job in queue if job.ready and job.left > 0), None)


class Backlog(NamedTuple):
    """An unassigned cycle event of a machine: when, and the parts it counted."""

    row_id: int
    event_at: datetime
    good: int
    scrap: int


def claimable(
    backlog: Iterable[Backlog], bound_at: datetime, window_s: float, until: datetime | None = None
) -> list[Backlog]:
    """The unassigned cycles a job bound at `bound_at` takes: from `window_s` before it up to
    it (or up to `until`: those stamped after the start, applied before it), oldest first."""
    since = bound_at - timedelta(seconds=window_s)
    upper = max(bound_at, until) if until is not None else bound_at
    return sorted(
        (b for b in backlog if since <= b.event_at <= upper and (b.good or b.scrap)),
        key=lambda b: (b.event_at, b.row_id),
    )
