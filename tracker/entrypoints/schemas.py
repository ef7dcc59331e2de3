"""HTTP request and response models, named by purpose."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field


class OperationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=0, le=100_000)
    name: str = Field(min_length=1, max_length=100)
    machine: str = Field(min_length=1, max_length=100, pattern=r"^[^/+#\s]+$")
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

    order_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    customer: str = Field(min_length=1, max_length=200)
    product: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=10_000_000)
    due_at: AwareDatetime
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


class OrderCreated(BaseModel):
    order_id: str
    access_token: str = Field(description="Shown once: give it to the customer")
    progress_url: str


class OrdersImported(BaseModel):
    imported: int
    orders: list[OrderCreated]


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
    completed_at: datetime | None
    operations: list[OperationProgress]
    as_of: datetime


class AlertPublic(BaseModel):
    id: int
    order_id: str
    kind: str
    status: str
    raised_at: datetime
    eta: datetime | None
    due_at: datetime
    message: str
    delivered_at: datetime | None
