"""Tables and the imperative mapping of the domain classes onto them (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import registry, relationship

from tracker.domain.model import (
    Machine,
    Operation,
    OperationState,
    Order,
    OrderStatus,
    ScheduleStatus,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, values_callable=lambda e: [m.value for m in e], length=20)


# named constraints, so later migrations (SQLite batch mode included) can find them by name
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("customer", String(200), nullable=False),
    Column("product", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("due_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", _enum(OrderStatus), nullable=False),
    Column("schedule_status", _enum(ScheduleStatus), nullable=False),
    Column("eta", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("token_hash", String(64), nullable=False),
)

operations = Table(
    "operations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("machine", String(100), nullable=False),
    Column("setup_s", Float, nullable=False),
    Column("cycle_s", Float, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("good_qty", Integer, nullable=False, default=0),
    Column("state", _enum(OperationState), nullable=False),
    Column("started_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("observed_cycle_s", Float),
    Column("last_count_at", UTCDateTime),
    UniqueConstraint("order_id", "seq"),
)

machines = Table(
    "machines",
    metadata,
    Column("machine_id", String(100), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("last_counter", Integer),
    Column("last_seen", UTCDateTime),
    Column("order_id", String(64)),
    Column("seq", Integer),
)

# events already applied, so a redelivered message changes nothing
processed_events = Table(
    "processed_events",
    metadata,
    Column("machine_id", String(100), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("eta", UTCDateTime),
    Column("due_at", UTCDateTime, nullable=False),
    Column("message", Text, nullable=False),
    # outbox: set once the broker acknowledged the alert's publication
    Column("delivered_at", UTCDateTime),
)

mapper_registry = registry(metadata=metadata)
_mapped = False


def start_mappers() -> None:
    """Map the domain classes onto the tables (once per process)."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Operation, operations)
    mapper_registry.map_imperatively(
        Order,
        orders,
        properties={
            "operations": relationship(
                Operation, order_by=operations.c.seq, cascade="all, delete-orphan", lazy="selectin"
            )
        },
    )
    mapper_registry.map_imperatively(Machine, machines)
    _mapped = True

    @event.listens_for(Order, "load")
    def _init_events(order: Order, _context: object) -> None:
        order.events = []
