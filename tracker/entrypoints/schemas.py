"""HTTP request and response models, named by purpose."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

# text the databases can store (PostgreSQL refuses NUL characters)
NO_NUL = r"^[^\x00]*$"
# what a new order's id may be: letters, digits, `.`, `_` and `-`, starting with a letter or a
# digit, never two dots in a row (no `..`), at most 64 characters (`NEW_ORDER_ID_MAX`)
NEW_ORDER_ID = r"^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.[A-Za-z0-9_-])*\.?$"
NEW_ORDER_ID_MAX = 64
# what reads accept: also the ids stored before that rule, so those orders stay reachable
ORDER_ID = r"^[A-Za-z0-9._-]+$"
MACHINE_ID = r"^[^/+#\s\x00]+$"

_EARLIEST, _LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def _in_calendar(value: datetime) -> datetime:
    # ETAs and slack margins are computed around the due date: keep far from datetime's ends
    if not _EARLIEST <= value < _LATEST:
        raise ValueError("must be between 1970 and 2200")
    return value


DueAt = Annotated[AwareDatetime, AfterValidator(_in_calendar)]


def _new_order_id(value: str) -> str:
    # the pattern is in the schema for clients; this says the rule in words when it is broken
    if len(value) > NEW_ORDER_ID_MAX or not re.fullmatch(NEW_ORDER_ID, value):
        raise ValueError(
            f"an order id is 1 to {NEW_ORDER_ID_MAX} letters, digits, '.', '_' or '-', "
            "starting with a letter or a digit, with no '..'"
        )
    return value


NewOrderId = Annotated[
    str,
    AfterValidator(_new_order_id),
    Field(
        json_schema_extra={
            "pattern": NEW_ORDER_ID,
            "minLength": 1,
            "maxLength": NEW_ORDER_ID_MAX,
        },
        description="letters, digits, `.`, `_`, `-`; starts with a letter or digit; no `..`",
    ),
]

OrderId = Annotated[str, Path(min_length=1, max_length=64, pattern=ORDER_ID)]
MachineId = Annotated[str, Path(min_length=1, max_length=100, pattern=MACHINE_ID)]
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class OperationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=0, le=100_000)
    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    machine: str = Field(min_length=1, max_length=100, pattern=MACHINE_ID)
    setup_s: float = Field(ge=0, le=30 * 86400)
    cycle_s: float = Field(gt=0, le=7 * 86400)


def parse_options(value: Any) -> Any:
    """`paint=powder;size=L` (as CSV exports carry them) into a mapping; mappings pass through."""
    if not isinstance(value, str):
        return value
    options: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in value.split(";"))):
        key, sep, val = (part.strip() for part in pair.partition("="))
        if not sep or not key or not val:
            raise ValueError(f"options are key=value pairs separated by ';', not {pair!r}")
        if key in options:
            raise ValueError(f"option {key} is given twice")
        options[key] = val
    return options


Options = Annotated[dict[str, str], BeforeValidator(parse_options)]


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: NewOrderId
    customer: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    product: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    quantity: int = Field(ge=1, le=10_000_000)
    due_at: DueAt
    priority: int = Field(default=0, ge=0, le=100)
    operations: list[OperationCreate] | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="an explicit routing; without it `product` names a plant-file template",
    )
    options: Options | None = Field(
        default=None,
        description='options of the product template, e.g. {"paint": "powder"} '
        'or "paint=powder;size=L"',
    )


class QuoteRequest(BaseModel):
    """A hypothetical order: when could it be made? Nothing is booked."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=10_000_000)
    priority: int = Field(default=0, ge=0, le=100)
    due_at: DueAt | None = Field(default=None, description="to get an on-time answer")
    operations: list[OperationCreate] | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="an explicit routing; without it `product` names a plant-file template",
    )
    options: Options | None = Field(default=None, description="options of the product template")


class QuotedOperationPublic(BaseModel):
    seq: int
    name: str
    machine: str
    start: datetime
    end: datetime


class QuotePublic(BaseModel):
    product: str
    quantity: int
    priority: int
    completion: datetime = Field(description="earliest completion against the current plan")
    due_at: datetime | None
    on_time: bool | None = Field(description="completion <= due_at, when a due date was given")
    operations: list[QuotedOperationPublic]
    plan_made_at: datetime = Field(description="when the plan quoted against was made")


class OrderCreated(BaseModel):
    order_id: str
    access_token: str = Field(description="Shown once: give it to the customer")
    progress_url: str


class OrdersImported(BaseModel):
    imported: int
    orders: list[OrderCreated]


class UnassignedEventPublic(BaseModel):
    """A machine event no order's operation took, and why."""

    id: int
    machine_id: str
    event_id: str
    type: str
    summary: str
    reason: str
    event_at: datetime
    received_at: datetime
    good_qty: int | None = None
    scrap_qty: int | None = None
    # the job that took the cycle once one was bound (kept for audit)
    assigned_order_id: str | None = None
    assigned_seq: int | None = None
    assigned_at: datetime | None = None


class AlarmPublic(BaseModel):
    id: int
    machine_id: str
    event_id: str
    code: str
    message: str
    raised_at: datetime
    received_at: datetime
    order_id: str | None
    seq: int | None


class MachinePublic(BaseModel):
    """A machine's state now and the seconds it spent in each state."""

    machine_id: str
    state: str
    state_since: datetime | None
    last_seen: datetime | None
    order_id: str | None
    seq: int | None
    stale_events: int
    seconds: dict[str, float]
    as_of: datetime


class OperationProgress(BaseModel):
    seq: int
    name: str
    machine: str
    state: str
    quantity: int
    good_qty: int
    percent_complete: float
    started_at: datetime | None
    completed_at: datetime | None
    planned_machine: str | None = Field(description="the machine the plan puts it on")
    planned_start: datetime | None = Field(description="planned start (frozen once started)")
    planned_end: datetime | None = Field(description="planned end (frozen once started)")


class OrderProgressPublic(BaseModel):
    order_id: str
    product: str
    quantity: int
    status: str
    percent_complete: float
    current_operation: str | None
    eta: datetime
    due_at: datetime
    on_time: bool
    schedule_status: str = Field(description="on_track, at_risk or late")
    reasons: list[str] = Field(description="why the order is at risk or late, for people")
    created_at: datetime = Field(description="received")
    released_at: datetime | None
    started_at: datetime | None = Field(description="its first operation started")
    completed_at: datetime | None
    shipped_at: datetime | None
    cancelled_at: datetime | None
    operations: list[OperationProgress]
    last_update: datetime = Field(
        description="when the order last moved (lifecycle, an operation's start, count or end)"
    )
    as_of: datetime = Field(description="when this answer was computed (not part of the ETag)")


class OrderPublic(OrderProgressPublic):
    """The supervisor's view of an order."""

    customer: str
    priority: int
    cancel_reason: str | None


class OrderCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, pattern=r"^[^\x00]*[^\s\x00][^\x00]*$")


class OrderChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=1, le=10_000_000)


class AlertDeliveryPublic(BaseModel):
    channel: str
    target: str
    version: int
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


class AlertPublic(BaseModel):
    id: int
    order_id: str
    kind: str
    state: str = Field(description="active, acknowledged or cleared")
    severity: str = Field(description="warning (at risk) or critical (late)")
    schedule_status: str
    reasons: list[str]
    version: int
    last_event: str
    raised_at: datetime
    updated_at: datetime
    eta: datetime | None
    due_at: datetime
    message: str
    acked_by: str | None
    acked_at: datetime | None
    ack_comment: str | None
    cleared_at: datetime | None
    deliveries: list[AlertDeliveryPublic]


class AlertAck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=200, pattern=NO_NUL, description="who acknowledges")
    comment: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)
