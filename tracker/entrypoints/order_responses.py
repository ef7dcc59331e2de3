"""What the order routes answer: created orders and tokens, the list, one order, its progress."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class OrderCreated(BaseModel):
    order_id: str
    access_token: str = Field(description="Shown once: give it to the customer")
    progress_url: str


class OrdersImported(BaseModel):
    imported: int
    orders: list[OrderCreated]


class TokenRotated(BaseModel):
    order_id: str
    access_token: str = Field(description="Shown once: give it to the customer")
    progress_url: str


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


class DelayPublic(BaseModel):
    """Why an order is delayed, in the customer's words: no machine names or codes."""

    kind: str = Field(description="breakdown, interruption, capacity, slow or behind")
    text: str = Field(description="in English; the pages translate by `kind`")


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
    eta_earliest: datetime | None = Field(
        default=None, description="when the ETA is uncertain: the earliest it may be"
    )
    eta_latest: datetime | None = Field(
        default=None, description="when the ETA is uncertain: the latest it may be"
    )
    delay: DelayPublic | None = Field(
        default=None, description="why it is at risk or late, for customers (null: no delay)"
    )
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
    eta_p50: datetime | None = Field(
        default=None, description="half of the likely outcomes finish by then (forecast)"
    )
    eta_p90: datetime | None = Field(
        default=None, description="nine in ten of the likely outcomes finish by then (forecast)"
    )


class OrderPublic(OrderProgressPublic):
    """The supervisor's view of an order."""

    customer: str
    priority: int
    cancel_reason: str | None
    p_on_time: float | None = Field(
        default=None, description="probability of finishing by the due date (docs/foresight.md)"
    )
    p_on_time_reason: str | None = Field(
        default=None, description="the machine that threatens the due date most, for people"
    )


class OrderRow(BaseModel):
    """One order in the list, compact."""

    order_id: str
    customer: str
    product: str
    quantity: int
    status: str
    schedule_status: str
    percent_complete: float
    eta: datetime
    due_at: datetime
    on_time: bool
    current_operation: str | None = Field(description="name of the operation in work or next")
    current_seq: int | None


class OrderPage(BaseModel):
    total: int = Field(description="orders matching the filters, over all pages")
    limit: int
    offset: int
    orders: list[OrderRow]


class ImportProblem(BaseModel):
    row: int
    order_id: str | None
    field: str | None
    reason: str


class ImportRejectedDetail(BaseModel):
    message: str
    errors: list[ImportProblem]


class ImportProblems(BaseModel):
    """Why an import stored nothing: every bad row."""

    detail: ImportRejectedDetail
