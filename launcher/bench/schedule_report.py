"""What the scheduling bench measured: the per-rule table, the optimiser, the targets."""

from __future__ import annotations

from dataclasses import dataclass

from .schedule_cases import OPTIMA

INSTANCES = ("ft06", "ft10", "la01")


@dataclass(frozen=True)
class RuleRow:
    """One dispatching rule: its makespans on the job shops and its plan of the plant."""

    rule: str
    makespans: dict[str, float]
    plan_s: float
    late_orders: int
    tardiness_days: float


@dataclass(frozen=True)
class Optimised:
    """The optimiser on one job shop: its makespan, the hint's, its time and its limit."""

    instance: str
    makespan: float | None  # None: no plan in time
    hint_rule: str
    hint_makespan: float
    seconds: float
    limit_s: float


def rule_table(rows: list[RuleRow], plant: str) -> str:
    """Each rule's makespans (and the optimum) and its plan of the plant, aligned."""
    head = f"{'rule':<8}" + "".join(f"{name:>7}" for name in INSTANCES)
    head += f"  {'plan ' + plant:>24}  {'late orders':>11}  {'tardiness (days)':>16}"
    out = [head, "-" * len(head)]
    for row in rows:
        line = f"{row.rule:<8}" + "".join(f"{row.makespans[n]:>7.0f}" for n in INSTANCES)
        line += f"  {row.plan_s:>22.3f} s  {row.late_orders:>11,}  {row.tardiness_days:>16,.0f}"
        out.append(line)
    out.append(f"{'optimum':<8}" + "".join(f"{OPTIMA[n]:>7}" for n in INSTANCES))
    return "\n".join(out)


def optimiser_lines(results: list[Optimised], workers: int) -> str:
    """The optimiser's makespan on each instance, against its hint and the optimum."""
    out = []
    for r in results:
        got = "no plan" if r.makespan is None else f"{r.makespan:.0f}"
        gap = "" if r.makespan is None else f", {100 * (r.makespan / OPTIMA[r.instance] - 1):.1f}%"
        out.append(
            f"optimiser (CP-SAT, {workers} workers) {r.instance}: {got} (optimum "
            f"{OPTIMA[r.instance]}{gap}) in {r.seconds:.1f} s, limit {r.limit_s:g} s, "
            f"from the {r.hint_rule} plan's {r.hint_makespan:.0f}"
        )
    return "\n".join(out)


def targets(result: dict[str, object], ft10_limit_s: float, plant: str) -> str:
    """The issue's targets, each marked met or missed, with the figure behind it."""

    def num(key: str) -> float:
        value = result[key]
        return float(value) if isinstance(value, int | float) else float("inf")

    ft10 = num("ft10_makespan_optimised")
    within = f"ft10 optimised within 5% of 930 ({ft10_limit_s:g} s limit, target: in 60 s)"
    checks = [
        (f"full plan of {plant} < 2 s", num("schedule_10k_s") < 2, "schedule_10k_s"),
        (
            "reschedule after a breakdown < 0.5 s",
            num("reschedule_after_breakdown_s") < 0.5,
            "reschedule_after_breakdown_s",
        ),
        ("quote < 100 ms (median)", num("quote_ms") < 100, "quote_ms"),
        ("ft06 optimised to 55", num("ft06_makespan") == 55, "ft06_makespan"),
        (within, ft10 <= 930 * 1.05, "ft10_makespan_optimised"),
    ]
    return "\n".join(
        f"target {name:<66} {'met' if ok else 'MISSED':<7} ({key} = {result[key]})"
        for name, ok, key in checks
    )
