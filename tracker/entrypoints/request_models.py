"""What HTTP requests carry: ids in paths and queries, and the bodies of creates and changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from .notification_models import OrderNotifications

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
# a table's integer key in a path: past PostgreSQL's INTEGER it is a 422, never a 500
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
AlertId = RowId


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
    notifications: OrderNotifications | None = Field(
        default=None, description="who hears when its promised date is at risk or back on time"
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


class OrderCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, pattern=r"^[^\x00]*[^\s\x00][^\x00]*$")


class OrderChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=1, le=10_000_000)


class AlertAck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=200, pattern=NO_NUL, description="who acknowledges")
    comment: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


class MachineJobAction(BaseModel):
    """Start a job on the machine (order and operation), or end its job."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["start", "end"]
    order_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=ORDER_ID)
    operation: int | None = Field(default=None, ge=0, le=100_000)

    @model_validator(mode="after")
    def _job_named(self) -> MachineJobAction:
        if self.action == "start" and (self.order_id is None or self.operation is None):
            raise ValueError("start needs order_id and operation")
        if self.operation is not None and self.order_id is None:
            raise ValueError("an operation needs its order_id")
        return self
