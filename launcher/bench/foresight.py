"""`shopfloor bench foresight`: how early and how rightly orders are warned, by backtest.

N seeded make-to-order job shops (6-20 machines, work centers, orders released over 36 h with
2-6 operations, random breakdowns from each machine's MTBF/MTTR, scripted faults) run through
the plant twin (launcher/twin/): the simulator's machines and the tracker's real bus, domain
and planner under one virtual clock. For every order the twin records the tracker's status
and ETA over time, the forecast P(on time)/P50/P90, and the true completion. Printed for the
tracker's rules, a static-plan baseline (as Odoo) and the P(on time) rule: recall, lead time,
precision, false alarms; ETA error; flip-flops; calibration. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from launcher.twin.job_shop import job_shop
from launcher.twin.plant_twin import PlantTwin
from launcher.twin.traces import OrderTrace, TwinRun
from launcher.twin.tracker_side import default_rules, remove_dir, scratch_dir, setting_default
from tracker.domain.schedule import AtRiskRule

from .foresight_refresh import refresh_seconds
from .foresight_report import report

TARGETS = {
    "recall": 0.95,
    "lead_time_share_median": 0.5,
    "precision": 0.85,
    "eta_error_share_p50_at_50pct": 0.05,
    "eta_error_share_p90_at_50pct": 0.12,
    "flip_flop_share": 0.05,
    "calibration_max_gap": 0.1,
    "refresh_1000_orders_s": 2.0,
}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The bench's command line."""
    p = argparse.ArgumentParser(
        prog="shopfloor bench foresight", description=__doc__.split("\n")[0]
    )
    p.add_argument("--scenarios", type=int, default=12, help="seeded job shops to run")
    p.add_argument("--seed", type=int, default=1, help="the first scenario's seed")
    p.add_argument("--workers", type=int, default=2, help="scenarios run side by side")
    p.add_argument("--machines", type=int, default=None, help="machines per plant (6-20 random)")
    p.add_argument(
        "--orders-per-machine", type=float, default=3.0, help="orders released per machine"
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=setting_default("foresight_at_risk_below"),
        help="P(on time) rule (and the tracker's, in p_on_time mode): warn below this",
    )
    p.add_argument(
        "--clear",
        type=float,
        default=setting_default("foresight_back_on_track_above"),
        help="P(on time) rule (and the tracker's, in p_on_time mode): clear above this",
    )
    p.add_argument(
        "--at-risk-rule",
        choices=[r.value for r in AtRiskRule],
        default=AtRiskRule.RULES.value,
        help="the tracker's SHOPFLOOR_AT_RISK_RULE: its status is the 'tracker' row",
    )
    p.add_argument(
        "--arrivals",
        action="store_true",
        help="forecast with orders still to come at the last day's pace (docs/foresight.md)",
    )
    args = p.parse_args(argv)
    if not 0 <= args.threshold <= args.clear <= 1:
        p.error("--threshold and --clear: 0 <= threshold <= clear <= 1")
    return args


def run_scenario(
    seed: int,
    machines: int | None,
    orders_per_machine: float,
    arrivals: bool = False,
    at_risk_rule: str = AtRiskRule.RULES.value,
    thresholds: tuple[float | None, float | None] = (None, None),
) -> TwinRun:
    """One seeded job shop through the twin (in a worker process); `thresholds`: the
    tracker's at-risk-below and back-on-track-above in p_on_time mode."""
    logging.disable(logging.WARNING)  # the tracker's alert and incident lines, per order
    workdir = scratch_dir()
    try:
        shop = job_shop(seed, machines, orders_per_machine)
        rules = default_rules(AtRiskRule(at_risk_rule), *thresholds)
        return PlantTwin(shop, workdir, rules, with_arrivals=arrivals).run()
    finally:
        remove_dir(workdir)


def run_all(args: argparse.Namespace) -> list[TwinRun]:
    """Every scenario, `args.workers` at a time."""
    seeds = range(args.seed, args.seed + args.scenarios)
    given = (
        args.machines,
        args.orders_per_machine,
        args.arrivals,
        args.at_risk_rule,
        (args.threshold, args.clear),
    )
    if args.workers <= 1:
        return [run_scenario(s, *given) for s in seeds]
    # the biggest plants first, so that no worker is left with a big one at the end
    with ProcessPoolExecutor(args.workers) as pool:
        futures = {
            s: pool.submit(run_scenario, s, *given)
            for s in sorted(seeds, key=lambda s: -_size(s, args))
        }
        return [futures[s].result() for s in seeds]


def _size(seed: int, args: argparse.Namespace) -> int:
    """How much work a scenario is, roughly: machines x orders (cheap: the plant only)."""
    shop = job_shop(seed, args.machines, args.orders_per_machine)
    return len(shop.machines) * len(shop.orders)


def measure(argv: Sequence[str]) -> dict[str, Any]:
    """Run the backtest; print its tables; returns the JSON summary."""
    args = parse_args(argv)
    t0 = time.perf_counter()
    runs = run_all(args)
    wall = time.perf_counter() - t0
    traces: list[OrderTrace] = [t for run in runs for t in run.orders.values()]
    print(
        f"shopfloor bench foresight: {len(runs)} job shops (seeds {args.seed}-"
        f"{args.seed + args.scenarios - 1}), {len(traces)} orders, {wall:.1f} s wall "
        f"({sum(r.plant_s for r in runs) / 86400:.1f} plant days, "
        f"{sum(r.events for r in runs):,} machine events, {sum(r.replans for r in runs):,} replans)"
    )
    result = report(traces, args.threshold, args.clear, args.at_risk_rule)
    refresh = refresh_seconds()
    print(f"P(on time) of 1,000 open orders after a replan: {refresh:.2f} s (target 2 s)")
    result["refresh_1000_orders_s"] = round(refresh, 2)
    result["wall_s"] = round(wall, 1)
    result["scenarios"] = len(runs)
    missed = [k for k, target in TARGETS.items() if not _met(k, result[k], target)]
    print("targets missed: " + (", ".join(missed) if missed else "none"))
    return result


def _met(key: str, value: float, target: float) -> bool:
    upper = key.startswith(("eta_error", "flip_flop", "calibration", "refresh"))
    return value <= target if upper else value >= target


def main(argv: Sequence[str] | None = None) -> int:
    result = measure(list(argv or []))
    print(json.dumps(result))
    return 0
