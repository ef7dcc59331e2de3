"""What a machine's state history teaches of its failures and repairs, blended with a prior.

Running time between failures is taken as exponential, so the estimate of its mean with a
prior worth `weight` failures is the gamma-exponential posterior mean:
(prior x weight + running time) / (weight + failures); repairs the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from .estimator import MachineRisk

RUNNING, DOWN = "RUNNING", "DOWN"


def histories(
    intervals: Iterable[tuple[str, str, datetime, datetime]],
) -> dict[str, MachineHistory]:
    """Each machine's running time, failures and repairs from its closed state intervals
    (machine, state, start, end); a DOWN interval is one failure and its repair."""
    out: dict[str, MachineHistory] = {}
    for machine, state, started, ended in intervals:
        history = out.setdefault(machine, MachineHistory())
        spent = max(0.0, (ended - started).total_seconds())
        if state == RUNNING:
            history.running_s += spent
        elif state == DOWN:
            history.failures += 1
            history.repairs += 1
            history.repair_s += spent
    return out


@dataclass
class MachineHistory:
    """One machine's running time, failures and repairs seen so far (fed its state changes)."""

    state: str = "IDLE"
    since: datetime | None = None
    running_s: float = 0.0
    failures: int = 0
    repairs: int = 0
    repair_s: float = 0.0

    def record(self, state: str, at: datetime) -> None:
        """The machine is in `state` from `at` on (a repeat of the same state changes nothing)."""
        if state == self.state and self.since is not None:
            return
        if self.since is not None:
            spent = max(0.0, (at - self.since).total_seconds())
            if self.state == RUNNING:
                self.running_s += spent
            elif self.state == DOWN:
                self.repairs += 1
                self.repair_s += spent
        if state == DOWN:
            self.failures += 1
        self.state, self.since = state, at

    def risk(self, prior: MachineRisk, now: datetime, weight: float = 2.0) -> MachineRisk:
        """The prior updated with this history; `down_left_s` when the machine is down now."""
        running = self.running_s
        if self.state == RUNNING and self.since is not None:
            running += max(0.0, (now - self.since).total_seconds())
        mtbf = (prior.mtbf_s * weight + running) / (weight + self.failures)
        mttr = (prior.mttr_s * weight + self.repair_s) / (weight + self.repairs)
        down_left = 0.0
        if self.state == DOWN and self.since is not None:
            elapsed = max(0.0, (now - self.since).total_seconds())
            down_left = max(mttr - elapsed, mttr / 3)
        return replace(prior, mtbf_s=mtbf, mttr_s=mttr, down_left_s=down_left)
