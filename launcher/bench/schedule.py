"""`shopfloor bench schedule`: dispatching rules, a breakdown, quotes and the CP-SAT optimiser.

Every dispatching rule plans three OR-Library job shops (ft06, ft10, la01: makespan against
the published optimum) and a seeded plant of --orders orders x --ops operations on --machines
machines. The plant's EDD plan (the tracker's default rule) is then what the product replans
after a breakdown (today a full `schedule()` with that machine up again in --breakdown-min
minutes) and what --quotes capable-to-promise quotes search; those two plans are timed as the
median of --repeats runs (the table's, once). The optimiser starts from the best rule's plan
of each job shop. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from tracker.adapters.optimiser import optimise
from tracker.domain.planning.comparison import total_tardiness_s
from tracker.domain.planning.dispatching_rules import schedule
from tracker.domain.planning.jobshop import makespan
from tracker.domain.planning.model import Plan, Rule
from tracker.domain.planning.quote import QuoteBook
from tracker.service_layer.optimiser import OptimiserUnavailable

from .running import measured, progress
from .schedule_cases import JOBSHOP_DIR, Shop, broken, jobshop, plant, quote_routings, timed
from .schedule_report import INSTANCES, Optimised, RuleRow, optimiser_lines, rule_table, targets

Best = tuple[float, Rule, Plan]  # a job shop's shortest dispatch makespan, its rule and plan


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The bench's command line."""
    p = argparse.ArgumentParser(prog="shopfloor bench schedule", description=__doc__.split("\n")[0])
    p.add_argument("--orders", type=int, default=10_000, help="open orders in the plant")
    p.add_argument("--ops", type=int, default=5, help="operations per order")
    p.add_argument("--machines", type=int, default=50, help="machines, in work centers of 5")
    p.add_argument("--quotes", type=int, default=200, help="quotes against the plant's plan")
    p.add_argument("--breakdown-min", type=float, default=30.0, help="minutes the machine is down")
    p.add_argument("--ft06-limit-s", type=float, default=5.0, help="optimiser limit, ft06 and la01")
    p.add_argument("--ft10-limit-s", type=float, default=30.0, help="optimiser limit on ft10")
    p.add_argument("--workers", type=int, default=2, help="CP-SAT search workers")
    p.add_argument("--repeats", type=int, default=3, help="runs of the EDD plan and replan")
    p.add_argument("--jobshop-dir", default=str(JOBSHOP_DIR), help="where ft06.txt etc. are")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if min(args.orders, args.ops, args.machines, args.quotes, args.workers, args.repeats) < 1:
        p.error("--orders, --ops, --machines, --quotes, --workers and --repeats must be >= 1")
    if min(args.ft06_limit_s, args.ft10_limit_s) <= 0 or args.breakdown_min < 0:
        p.error("the optimiser limits must be > 0 and --breakdown-min >= 0")
    return args


def run_rules(
    shops: dict[str, Shop], factory: Shop
) -> tuple[list[RuleRow], dict[Rule, Plan], dict[str, Best]]:
    """Every rule on the job shops and the plant: the rows, the plant's plans, the best."""
    rows: list[RuleRow] = []
    plans: dict[Rule, Plan] = {}
    best: dict[str, Best] = {}
    for rule in Rule:
        progress(f"rule {rule.value}: the job shops and the plant ...")
        spans = {}
        for name, shop in shops.items():
            plan = schedule(shop.jobs, shop.machines, shop.now, rule)
            spans[name] = makespan(plan, shop.now)
            if name not in best or spans[name] < best[name][0]:
                best[name] = (spans[name], rule, plan)
        plan, seconds = timed(partial(schedule, factory.jobs, factory.machines, factory.now, rule))
        late = sum(1 for j in factory.jobs if (eta := plan.etas.get(j.order_id)) and eta > j.due_at)
        rows.append(RuleRow(rule.value, spans, seconds, late, tardiness_days(plan, factory)))
        plans[rule] = plan
    return rows, plans, best


def tardiness_days(plan: Plan, shop: Shop) -> float:
    """The plan's total tardiness over the shop's orders, in days."""
    return total_tardiness_s(plan, shop.jobs) / 86_400


def run_optimiser(shop: Shop, best: Best, limit_s: float, workers: int) -> Optimised:
    """The optimiser on a job shop, hinted with the best rule's plan."""
    span, rule, hint = best
    progress(f"optimiser on {shop.name}, at most {limit_s:g} s ...")
    job = partial(optimise, shop.jobs, shop.machines, shop.now, limit_s, workers, hint=hint)
    plan, seconds = timed(job)
    got = None if plan is None else makespan(plan, shop.now)
    return Optimised(shop.name, got, rule.value, span, seconds, limit_s)


def median_s(run: Callable[[], object], first_s: float, repeats: int) -> float:
    """The median time of `run`, given its first run's time, over `repeats` runs."""
    return statistics.median([first_s] + [timed(run)[1] for _ in range(repeats - 1)])


@dataclass(frozen=True)
class Breakdown:
    """A busy machine breaks down: the replan's time, and how much of the plan it changed."""

    machine: str
    seconds: float
    retimed: int
    tardiness_days: float


def run_breakdown(factory: Shop, edd: Plan, down_s: float, repeats: int) -> Breakdown:
    """What the tracker does today when a machine goes down: a full EDD replan."""
    running = (j.operations[0].running_on for j in factory.jobs if j.operations[0].running_on)
    victim = next(running, None) or factory.machines[0].machine_id
    progress(f"{victim} breaks down: full replan ...")
    replan = partial(schedule, factory.jobs, broken(factory, victim, down_s), factory.now, Rule.EDD)
    plan, first_s = timed(replan)
    retimed = sum(1 for key, op in plan.operations.items() if edd.operations.get(key) != op)
    seconds = median_s(replan, first_s, repeats)
    return Breakdown(victim, seconds, retimed, tardiness_days(plan, factory))


def run_quotes(factory: Shop, edd: Plan, n: int, seed: int) -> tuple[float, list[float]]:
    """The quote book's build time, and each quote's milliseconds, sorted."""
    progress(f"quote book and {n} quotes ...")
    book, book_s = timed(partial(QuoteBook, edd, factory.machines, factory.jobs, factory.now))
    routings = quote_routings(factory, n, seed)
    return book_s, sorted(1000 * timed(partial(book.quote, *r))[1] for r in routings)


def run_optimisers(
    args: argparse.Namespace, shops: dict[str, Shop], best: dict[str, Best]
) -> dict[str, Optimised]:
    """The optimiser on each job shop; none when the optional extra is not installed."""
    optimised: dict[str, Optimised] = {}
    try:
        for name in INSTANCES:
            limit = args.ft10_limit_s if name == "ft10" else args.ft06_limit_s
            optimised[name] = run_optimiser(shops[name], best[name], limit, args.workers)
    except OptimiserUnavailable as exc:
        progress(str(exc))
    return optimised


def run(args: argparse.Namespace) -> dict[str, object]:
    """Every case; print the table and the figures; return the JSON summary."""
    now = datetime.now(UTC).replace(microsecond=0)
    shops = {name: jobshop(name, now, Path(args.jobshop_dir)) for name in INSTANCES}
    size = f"{args.orders:,} orders x {args.ops} operations on {args.machines} machines"
    progress(f"generating {size} ...")
    factory = plant(args.orders, args.ops, args.machines, now, args.seed)
    rows, plans, best = run_rules(shops, factory)
    edd, edd_row = plans[Rule.EDD], next(row for row in rows if row.rule == Rule.EDD.value)
    plan_edd = partial(schedule, factory.jobs, factory.machines, now, Rule.EDD)
    edd_s = median_s(plan_edd, edd_row.plan_s, args.repeats)
    down = run_breakdown(factory, edd, args.breakdown_min * 60, args.repeats)
    book_s, quote_ms = run_quotes(factory, edd, args.quotes, args.seed)
    optimised = run_optimisers(args, shops, best)

    def span(name: str) -> int | None:
        got = optimised[name].makespan if name in optimised else None
        return None if got is None else round(got)

    result: dict[str, object] = {
        "bench": "schedule",
        "schedule_10k_s": round(edd_s, 3),
        "reschedule_after_breakdown_s": round(down.seconds, 3),
        "quote_ms": round(statistics.median(quote_ms), 3),
        "ft06_makespan": span("ft06"),
        "ft10_makespan_dispatch": round(best["ft10"][0]),
        "ft10_makespan_optimised": span("ft10"),
        "ft10_dispatch_rule": best["ft10"][1].value,
        "ft10_limit_s": args.ft10_limit_s,
        "la01_makespan": span("la01"),
        "quote_book_build_s": round(book_s, 3),
        "quote_ms_p95": round(quote_ms[int(0.95 * (len(quote_ms) - 1))], 3),
        "quote_ms_max": round(quote_ms[-1], 3),
        "breakdown_retimed_operations": down.retimed,
        "orders": args.orders,
        "operations": len(edd.operations),
        "machines": args.machines,
        "workers": args.workers,
    }
    print(f"shopfloor bench schedule: {size} (seed {args.seed}), job shops {', '.join(INSTANCES)}")
    print(rule_table(rows, f"{args.orders:,} x {args.ops}"))  # the plant: orders x operations
    print(
        f"plant, EDD (the tracker's default): {len(edd.operations):,} operations in "
        f"{edd_s:.3f} s (median of {args.repeats}), {edd_row.late_orders:,} orders late"
    )
    print(
        f"breakdown: {down.machine} down for {args.breakdown_min:g} min -> full EDD replan in "
        f"{down.seconds:.3f} s (median of {args.repeats}; {down.retimed:,} operations re-timed, "
        f"{down.tardiness_days:,.0f} days of tardiness)"
    )
    print(
        f"quotes: QuoteBook built in {book_s:.3f} s (once per plan); {len(quote_ms)} quotes: "
        f"median {result['quote_ms']} ms, p95 {result['quote_ms_p95']} ms, "
        f"max {result['quote_ms_max']} ms"
    )
    if optimised:
        print(optimiser_lines(list(optimised.values()), args.workers))
    print(targets(result, args.ft10_limit_s, size))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for `shopfloor bench schedule` and `python -m launcher.bench.schedule`."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = measured(lambda: run(args))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
