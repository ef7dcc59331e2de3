"""What the floor routes answer: alerts, quotes, machines, the schedule, jobs, the caller."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


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


class MachineJobPublic(BaseModel):
    """The job a machine is bound to now (none: null)."""

    machine_id: str
    order_id: str | None
    operation: int | None


class JobBindingPublic(BaseModel):
    """One line of a machine's binding log: a job started or ended, by what or whom, when."""

    id: int
    machine_id: str
    action: str
    order_id: str
    operation: int
    source: str = Field(description="event, dispatch or operator")
    actor: str = Field(description="the event id, or the API key's name")
    at: datetime
    recorded_at: datetime
    claimed_good: int = Field(description="good parts of unassigned cycles the job took")
    claimed_scrap: int


class WhoAmI(BaseModel):
    """The key a request came with: its name, role and the machines it may start jobs on."""

    name: str
    role: str
    machines: list[str] | None = Field(description="null: every machine")
    may_work: bool = Field(description="the role may start and end jobs")
