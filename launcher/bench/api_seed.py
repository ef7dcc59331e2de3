"""The API bench's orders: imported through the bus before the server starts, tokens kept.

Importing 10,000 orders through `ImportOrders` takes ~10 s here (a SELECT per order for
duplicates, the assessment, an alert per late order), so the first --imported orders go through
the bus and the rest are SQL copies of them, made as `tracker_seed.grow_open_orders` makes its
own (same operations, states and alerts) under `<id>-c<n>`. A copy keeps its original's token
hash, so it is polled with the original's token: every order is polled, and the endpoint does
the same work per request as with a token of its own.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from tracker.adapters import orm
from tracker.adapters.database import make_engine, session_factory
from tracker.adapters.unit_of_work import SqlUnits
from tracker.auth.order_tokens import hash_token, new_token
from tracker.service_layer.bus import MessageBus

from .tracker_cases import utc_now
from .tracker_seed import _children, _copy
from .tracker_stream import import_command, machine_ids, make_orders

COPY = "-c"  # copies are `<original>-c<n>`: the API accepts [A-Za-z0-9._-] in an order id
IMPORT_CHUNK = 1_000
# 10,000 such orders are ~150 days of work for 50 machines: due dates within days would make
# nearly every order late, and the tracker's first check would raise ~7,000 alerts as it starts
# (~20 s) and leave their delivery running while the bench measures
DUE_MIN_DAYS, DUE_MAX_DAYS = 365.0, 730.0  # orders per ImportOrders command: one transaction each


@dataclass(frozen=True)
class Poller:
    """What a customer polls with: the order id, its access token and (once seen) its ETag."""

    order_id: str
    token: str
    etag: str | None = None


def seed_orders(
    database_url: str, count: int, imported: int, machines: int, seed: int
) -> list[Poller]:
    """`imported` open orders (2-5 operations) through the bus, copies up to `count`; tokens."""
    rng = random.Random(seed)
    orders = make_orders(min(count, imported), machine_ids(machines), utc_now(), rng, "API")
    tokens = {o.order_id: new_token() for o in orders}
    now = utc_now()
    orders = [
        dataclasses.replace(
            o,
            token_hash=hash_token(tokens[o.order_id]),
            due_at=now + timedelta(days=rng.uniform(DUE_MIN_DAYS, DUE_MAX_DAYS)),
        )
        for o in orders
    ]
    engine = make_engine(database_url)
    try:
        bus = MessageBus(SqlUnits(session_factory(engine)), utc_now)
        for start in range(0, len(orders), IMPORT_CHUNK):
            bus.handle(import_command(orders[start : start + IMPORT_CHUNK]))
        if count > len(orders):
            copy_orders(engine, [o.order_id for o in orders], count - len(orders))
        with engine.connect() as conn:
            ids = sorted(conn.scalars(select(orm.orders.c.order_id)))
    finally:
        engine.dispose()
    pollers = [Poller(oid, tokens[oid.split(COPY)[0]]) for oid in ids]
    rng.shuffle(pollers)  # customers poll orders in no particular order
    return pollers


def copy_orders(engine: Engine, ids: list[str], copies: int) -> None:
    """`copies` SQL copies of these orders (their operations and alerts too), in one transaction."""
    with engine.begin() as conn:
        for n in range(1, -(-copies // len(ids)) + 1):
            chunk = ids[: copies - (n - 1) * len(ids)]
            for table in [orm.orders, *_children()]:
                conn.execute(_copy(table, chunk, f"{COPY}{n}"))


def write_pollers(pollers: list[Poller], path: Path) -> Path:
    """One `order_id<TAB>token<TAB>etag` line per poller, for the wrk script to read."""
    path.write_text("".join(f"{p.order_id}\t{p.token}\t{p.etag or ''}\n" for p in pollers))
    return path
