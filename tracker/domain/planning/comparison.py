"""Which of two plans of the same jobs is better: fewer left out, less tardiness, earlier end."""

from __future__ import annotations

from collections.abc import Sequence

from .model import Plan, PlanJob

_EPS_S = 1e-3  # plans closer than this (datetime rounding) count as equal


def total_tardiness_s(plan: Plan, jobs: Sequence[PlanJob]) -> float:
    """Sum over the jobs in the plan of how far past its due date each is planned to finish."""
    return sum(
        max(0.0, (eta - job.due_at).total_seconds())
        for job in jobs
        if (eta := plan.etas.get(job.order_id)) is not None
    )


def better(a: Plan, b: Plan, jobs: Sequence[PlanJob]) -> bool:
    """Whether `a` beats `b`: fewer jobs left out, then less total tardiness, then earlier end."""
    out_a, out_b = (sum(j.order_id not in p.etas for j in jobs) for p in (a, b))
    if out_a != out_b:
        return out_a < out_b
    late_a, late_b = total_tardiness_s(a, jobs), total_tardiness_s(b, jobs)
    if abs(late_a - late_b) > _EPS_S:
        return late_a < late_b
    end_a, end_b = (
        max((op.end for op in p.operations.values()), default=p.made_at) for p in (a, b)
    )
    return (end_a - end_b).total_seconds() < -_EPS_S
