"""Random make-to-order job shops for the plant twin: machines, work centers, orders released
over time, breakdowns from MTBF/MTTR and a few scripted faults, as a scenario (seeded).

Each machine's true MTBF and MTTR differ from its model's figures (the prior the estimator
starts from) by up to a factor of two either way; due dates give each order between 1 and 2.5
times its own work (plus up to 1.5 h), so that on a loaded plant a share of them finishes late.
"""

from __future__ import annotations

import random
from collections import defaultdict

from device_sim.models import MODELS
from device_sim.scenario import Scenario

HOUR = 3600.0
# the models a job shop has, and how many of its machines are of each kind at most
KINDS = ("cnc_mill", "lathe", "press_brake", "welding_robot", "paint_line", "assembly_qa")
RELEASE_WINDOW_S = 24 * HOUR  # orders are released over the first day
NEVER = 300 * 86400.0  # no telemetry and no keep-alive states: the twin needs events only


def job_shop(seed: int, machines: int | None = None, orders_per_machine: float = 3.0) -> Scenario:
    """A seeded job shop of 6-20 machines (or `machines`), some pooled in work centers."""
    rng = random.Random(seed)
    count = machines or rng.randint(6, 20)
    specs, by_kind = _machines(rng, count)
    centers = {f"{k}-wc": ms for k, ms in by_kind.items() if len(ms) > 1}
    targets = [*centers, *(m for k, ms in by_kind.items() if len(ms) == 1 for m in ms)]
    orders = [_order(rng, k, targets) for k in range(max(4, round(count * orders_per_machine)))]
    faults = [
        {
            "at": rng.uniform(2 * HOUR, RELEASE_WINDOW_S),
            "machine": rng.choice(specs)["id"],
            "down_for": rng.uniform(1, 4) * HOUR,
            "message": "scripted breakdown",
        }
        for _ in range(rng.randint(1, 3))
    ]
    return Scenario.model_validate(
        {
            "name": f"job-shop-{seed}",
            "seed": seed,
            "telemetry_interval": NEVER,
            "heartbeat": NEVER,
            "machines": specs,
            "work_centers": centers,
            "orders": orders,
            "faults": faults,
        }
    )


def _machines(
    rng: random.Random, count: int
) -> tuple[list[dict[str, object]], dict[str, list[str]]]:
    """Machine specs (true MTBF/MTTR up to 2x off their model's) and the machines per model."""
    specs: list[dict[str, object]] = []
    by_kind: dict[str, list[str]] = defaultdict(list)
    for i in range(count):
        kind = KINDS[i % len(KINDS)] if i < len(KINDS) else rng.choice(KINDS)
        name = f"{kind.split('_')[0]}-{len(by_kind[kind]) + 1}"
        model = MODELS[kind]
        by_kind[kind].append(name)
        specs.append(
            {
                "id": name,
                "model": kind,
                "mtbf": model.mtbf_s * rng.uniform(0.5, 2.0),
                "mttr": model.mttr_s * rng.uniform(0.5, 2.0),
                "scrap_rate": 0.0,
            }
        )
    return specs, by_kind


def _order(rng: random.Random, k: int, targets: list[str]) -> dict[str, object]:
    """Order k: 2-6 operations on random machines or work centers, released in the window."""
    ops: list[dict[str, object]] = []
    quantity = rng.randint(4, 24)
    work = 0.0
    for j in range(rng.randint(2, 6)):
        setup = rng.choice((0.0, 600.0, 1200.0, 1800.0))
        cycle = float(rng.randrange(60, 420, 30))
        work += setup + quantity * cycle
        ops.append(
            {
                "seq": 10 * (j + 1),
                "name": f"op{j + 1}",
                "machine": rng.choice(targets),
                "setup": setup,
                "cycle": cycle,
            }
        )
    at = rng.uniform(0, RELEASE_WINDOW_S)
    return {
        "id": f"SO-{k + 1:03d}",
        "quantity": quantity,
        "at": at,
        "due": at + work * rng.uniform(1.0, 2.5) + rng.uniform(0.25, 1.5) * HOUR,
        "priority": rng.choice((0, 0, 0, 1, 2)),
        "routing": ops,
    }
