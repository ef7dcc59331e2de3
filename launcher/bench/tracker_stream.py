"""The tracker bench's plant: open orders routed over machines, and their machines' event stream.

Orders are `ImportOrders` commands as the bulk import builds them; the events come from
`device_sim`'s simulated machines working those orders (job_start, SETUP/RUNNING/IDLE states,
cycles with the PLC's cumulative counter, job_end), interleaved in time as a broker would
deliver them, with a few redeliveries (QoS 1 after a reconnect: same payload, same event id).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from device_sim.machine import Job, SimMachine
from shopfloor.contract.payloads import encode
from shopfloor.contract.topics import DEFAULT_TEMPLATE, EVENT
from tracker.domain import commands

TEMPLATE = DEFAULT_TEMPLATE
SITE, LINE = "plant1", "line1"
TOKEN_HASH = "0" * 64
STEP_S = 5.0  # simulated seconds per step of every machine
NO_TELEMETRY_S = 1e12  # the sim's telemetry is not the tracker's business


def machine_ids(machines: int) -> list[str]:
    """`cnc-001`, `cnc-002`, ..."""
    return [f"cnc-{i:03d}" for i in range(1, machines + 1)]


def make_orders(
    count: int, machines: list[str], now: datetime, rng: random.Random, prefix: str = "SO"
) -> list[commands.CreateOrder]:
    """`count` orders of 2-5 operations on random machines, due from 2 hours to 3 days out."""
    orders = []
    for i in range(1, count + 1):
        ops = tuple(
            commands.OperationSpec(
                seq=10 * (k + 1),
                name=f"op{k + 1}",
                machine=rng.choice(machines),
                setup_s=float(rng.randrange(300, 1800, 60)),
                cycle_s=float(rng.randrange(20, 120)),
            )
            for k in range(rng.randint(2, 5))
        )
        orders.append(
            commands.CreateOrder(
                order_id=f"{prefix}-{i:05d}",
                customer=f"customer-{rng.randint(1, 40)}",
                product=f"part-{rng.randint(1, 200)}",
                quantity=rng.randint(20, 500),
                due_at=now + timedelta(minutes=rng.randint(120, 72 * 60)),
                operations=ops,
                token_hash=TOKEN_HASH,
            )
        )
    return orders


def import_command(orders: list[commands.CreateOrder]) -> commands.ImportOrders:
    """The orders as one bulk import (one transaction), rows numbered from 2 as in a CSV file."""
    return commands.ImportOrders(tuple((row, o) for row, o in enumerate(orders, start=2)))


def event_stream(
    orders: list[commands.CreateOrder],
    machines: list[str],
    events: int,
    start: datetime,
    rng: random.Random,
    redelivery_share: float = 0.01,
) -> list[tuple[str, bytes]]:
    """(topic, payload) of the first `events` machine events, plus redeliveries of some."""
    queues: dict[str, list[Job]] = {m: [] for m in machines}
    for order in orders:
        for op in order.operations:
            queues[op.machine].append(
                Job(order.order_id, op.seq, op.machine, order.quantity, op.cycle_s, op.setup_s)
            )
    sims = []
    for m in machines:
        # first operations first: within the bench's window machines mostly work those
        jobs = sorted(queues[m], key=lambda j: (j.seq, j.order_id))
        sims.append(SimMachine(m, random.Random(rng.random()), jobs, NO_TELEMETRY_S))
    topic = {m: TEMPLATE.format(site=SITE, line=LINE, machine=m, kind=EVENT) for m in machines}
    out: list[tuple[str, bytes]] = []
    now = start
    while len(out) < events:
        now += timedelta(seconds=STEP_S)
        for sim in sims:
            for kind, message in sim.step(now, STEP_S, _always):
                if kind == EVENT:
                    out.append((topic[sim.machine_id], encode(message)))
        if all(sim.idle for sim in sims):
            break
    out = out[:events]
    for _ in range(int(len(out) * redelivery_share)):
        # a message delivered again a little later, as after a reconnect before the ack
        i = rng.randrange(len(out))
        out.insert(min(len(out), i + rng.randint(1, 200)), out[i])
    return out


def _always(_job: Job) -> bool:
    return True
