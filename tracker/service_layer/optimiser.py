"""The planner's optional optimiser, as the service layer sees it: a function that may improve a
dispatch plan (`tracker/adapters/optimiser.py` implements it with CP-SAT, when OR-Tools is
installed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from tracker.domain.planning.model import Plan, PlanJob, PlanMachine


class OptimiserUnavailable(RuntimeError):
    """OR-Tools is not installed: the `optimize` extra is missing."""


class Optimise(Protocol):
    """A plan of `jobs` at least as good as `hint`, within `time_limit_s`; None if none found."""

    def __call__(
        self,
        jobs: Sequence[PlanJob],
        machines: Sequence[PlanMachine],
        now: datetime,
        time_limit_s: float = ...,
        workers: int = ...,
        hint: Plan | None = ...,
    ) -> Plan | None: ...
