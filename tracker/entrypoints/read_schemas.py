"""Response models of the supervisors' read endpoints: order list, alerts, machines, schedule."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from .schemas import AlertDeliveryPublic, AlertPublic


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


class AlertVersionPublic(BaseModel):
    """One delivered version of an alert, and where it went."""

    version: int
    event: str = Field(description="raised, escalated, acknowledged or cleared")
    state: str
    severity: str
    schedule_status: str
    eta: datetime | None
    message: str
    at: datetime = Field(description="when this version was written to the outbox")
    deliveries: list[AlertDeliveryPublic]


class AlertDetailPublic(AlertPublic):
    history: list[AlertVersionPublic] = Field(description="delivered versions, oldest first")


class MachineRow(BaseModel):
    """A machine's state, binding and utilisation; the tracker keeps no telemetry, so its
    newest reading is not here: `last_seen` is the device time of its newest event."""

    machine_id: str
    state: str
    state_since: datetime | None
    last_seen: datetime | None = Field(description="device time of the newest event")
    last_heard_at: datetime | None = Field(description="tracker time of the newest event")
    order_id: str | None = Field(description="its bound order (by event, dispatch or operator)")
    seq: int | None
    stale_events: int
    seconds: dict[str, float] = Field(description="seconds spent in each state")
    utilisation: float | None = Field(description="share of its known time spent RUNNING")
    as_of: datetime


class PlannedBar(BaseModel):
    order_id: str
    seq: int
    name: str
    start: datetime
    end: datetime


class ActualBar(BaseModel):
    order_id: str
    seq: int
    name: str
    state: str
    started_at: datetime
    completed_at: datetime | None
    planned_start: datetime | None = Field(description="the plan's start, frozen at the start")
    planned_end: datetime | None = Field(description="the plan's end, frozen at the start")


class MachineLane(BaseModel):
    machine_id: str
    planned: list[PlannedBar] = Field(description="the current plan's operations")
    actual: list[ActualBar] = Field(description="operations started, with their baseline")


class SchedulePublic(BaseModel):
    plan_made_at: datetime | None = Field(description="None until the first plan is made")
    now: datetime
    start: datetime
    end: datetime | None
    machines: list[MachineLane]


class TokenRotated(BaseModel):
    order_id: str
    access_token: str = Field(description="Shown once: give it to the customer")
    progress_url: str


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
