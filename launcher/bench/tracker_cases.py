"""The tracker bench's measured cases, each on one migrated database (or on none)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from shopfloor.contract.topics import TopicTemplate
from tracker.adapters import orm
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.domain import commands
from tracker.domain.model import Order, OrderStatus
from tracker.entrypoints.mqtt_consumer import BATCH_SIZE, EventConsumer
from tracker.service_layer.bus import CommandResult, MessageBus

from .tracker_stream import TEMPLATE


@dataclass(frozen=True)
class Rate:
    """`count` things done in `seconds`."""

    name: str
    count: int
    seconds: float
    note: str = ""

    @property
    def per_s(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Row:
    """One measured case on one database (`mapping`: none); `key` names it in the JSON line."""

    db: str
    key: str
    rate: Rate


def utc_now() -> datetime:
    return datetime.now(UTC)


def consumer(bus: MessageBus | NullBus) -> EventConsumer:
    """The tracker's MQTT consumer on a client that never connects: no broker in this bench."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-tracker")
    return EventConsumer(client, cast(MessageBus, bus), TopicTemplate(TEMPLATE))


class NullBus:
    """Takes the consumer's commands and does nothing: the mapping's share of the path."""

    def handle(self, cmd: commands.Command) -> bool:
        return True

    def handle_batch(self, cmds: Sequence[commands.Command]) -> list[CommandResult]:
        return [True] * len(cmds)


def apply_events(
    name: str, bus: MessageBus | NullBus, stream: list[tuple[str, bytes]], budget_s: float
) -> Rate:
    """The stream applied in the consumer's batches, until it or the budget ends."""
    # as the running consumer's worker does: `parse` each message, then `apply` a batch (one
    # transaction); the stream is a backlog, so every batch is full
    events = consumer(bus)
    t0 = time.perf_counter()
    deadline = t0 + budget_s
    done = 0
    for start in range(0, len(stream), BATCH_SIZE):
        batch = stream[start : start + BATCH_SIZE]
        events.apply([events.parse(topic, payload) for topic, payload in batch])
        done += len(batch)
        if time.perf_counter() > deadline:
            break
    seconds = time.perf_counter() - t0
    rejected = sum(events.rejected.values())
    if rejected > done // 10:
        raise RuntimeError(f"{name}: {rejected} of {done} events rejected: {events.rejected}")
    note = f"{rejected} rejected ({', '.join(events.rejected)})" if rejected else ""
    return Rate(name, done, seconds, note)


def commit_floor(engine: Engine, count: int) -> Rate:
    """One INSERT and one COMMIT per event (SQLAlchemy Core): what a per-event transaction pays."""
    now = utc_now()
    t0 = time.perf_counter()
    for i in range(count):
        with engine.begin() as conn:
            conn.execute(
                insert(orm.processed_events).values(
                    machine_id="floor", event_id=str(i), received_at=now
                )
            )
    return Rate("floor: 1 INSERT + COMMIT per event", count, time.perf_counter() - t0)


def open_orders(engine: Engine) -> int:
    with engine.connect() as conn:
        stmt = select(func.count()).where(orm.orders.c.status != OrderStatus.COMPLETED.value)
        return int(conn.scalar(stmt) or 0)


def evaluate(bus: MessageBus) -> float:
    """Seconds for the periodic check (`CheckOrders`) over every open order."""
    t0 = time.perf_counter()
    bus.handle(commands.CheckOrders())
    return time.perf_counter() - t0


def evaluate_one_select(sessions: sessionmaker[Session]) -> tuple[float, float]:
    """Seconds to load every open order in one SELECT (+ operations), then to check them all.

    Nothing is written: this bounds what a set-based evaluation could reach on this database.
    """
    with SqlUnitOfWork(sessions) as uow:
        t0 = time.perf_counter()
        # operations are mapped `lazy="selectin"`: one more SELECT loads all of them
        stmt = select(Order).where(orm.orders.c.status != OrderStatus.COMPLETED.value)
        orders = list(uow.session.scalars(stmt))
        t1 = time.perf_counter()
        now = utc_now()
        for order in orders:
            order.project(now)
        t2 = time.perf_counter()
        uow.session.rollback()
    return t1 - t0, t2 - t1
