"""The in-memory "database" of the fake unit of work: tables, what one transaction holds."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from tests.clock import T0
from tracker.domain import commands
from tracker.domain.alerts import Alert
from tracker.domain.incidents import Incident
from tracker.domain.machine import Machine, StateInterval
from tracker.domain.model import Order


@dataclass
class Tables:
    """Everything a unit of work can write."""

    orders: dict[str, Order] = field(default_factory=dict)
    machines: dict[str, Machine] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    processed: set[tuple[str, str]] = field(default_factory=set)
    unassigned: list[dict[str, Any]] = field(default_factory=list)
    job_bindings: list[dict[str, Any]] = field(default_factory=list)
    intervals: list[StateInterval] = field(default_factory=list)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    downtime: dict[int, dict[str, Any]] = field(default_factory=dict)  # by record id
    operator_actions: list[dict[str, Any]] = field(default_factory=list)
    planned: dict[tuple[str, int], tuple[str, datetime, datetime]] = field(default_factory=dict)


@dataclass
class FakeStore:
    """The committed state, and how many commits reached it."""

    tables: Tables = field(default_factory=Tables)
    commits: int = 0


@dataclass
class Work:
    """What one transaction holds: its copy of the tables and what it saw."""

    db: Tables
    seen: list[Order] = field(default_factory=list)
    alerts_seen: list[Alert] = field(default_factory=list)
    incidents_seen: list[Incident] = field(default_factory=list)
    touched_orders: set[str] = field(default_factory=set)
    deliveries_added: int = 0
    loaded_states: dict[str, str | None] = field(default_factory=dict)
    rebound: bool = False


def columns(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as a row would hold them."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def order(
    order_id: str, quantity: int = 2, due_at: datetime = T0 + timedelta(days=2), cycle_s: float = 30
) -> commands.CreateOrder:
    """An order of one operation, 10 (cut) on saw-1."""
    return commands.CreateOrder(
        order_id=order_id,
        customer="ACME",
        product="bracket",
        quantity=quantity,
        due_at=due_at,
        token_hash="a" * 64,
        operations=(commands.OperationSpec(10, "cut", "saw-1", 60, cycle_s),),
    )
