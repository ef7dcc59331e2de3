"""Request and response models of the operator terminal's API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .request_models import NO_NUL, ORDER_ID


class ScrapReport(BaseModel):
    """Parts scrapped at the machine, and why (a code of the plant file's reasons)."""

    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=1, le=100_000)
    reason: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    # the job they are from; none named: the machine's job, else the last one it worked
    order_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=ORDER_ID)
    operation: int | None = Field(default=None, ge=0, le=100_000)
    comment: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)

    @model_validator(mode="after")
    def _order_named(self) -> ScrapReport:
        if self.operation is not None and self.order_id is None:
            raise ValueError("an operation needs its order_id")
        return self


class ReasonPublic(BaseModel):
    """One reason of the plant's catalogue."""

    code: str
    name: str
    category: str


class TerminalJob(BaseModel):
    """The machine's job (or the last one it worked) and its operation's progress."""

    order_id: str
    operation: int
    name: str
    product: str
    quantity: int
    good: int
    scrap: int
    state: str = Field(description="the operation's state: ACTIVE, RUNNING, COMPLETED...")
    due_at: datetime
    bound: bool = Field(description="the machine works it now (else: the last one it worked)")


class TerminalStop(BaseModel):
    """One of the machine's stops: the current one or one of the last."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    state: str
    started_at: datetime
    ended_at: datetime | None
    alarm_code: str | None
    alarm_text: str | None
    reason: str | None
    source: str | None
    classified_by: str | None
    classified_at: datetime | None


class TerminalPublic(BaseModel):
    """What the terminal at a machine shows: its state, job, stop and the reasons to pick."""

    machine_id: str
    state: str | None = Field(description="None until the machine is heard")
    state_since: datetime | None
    job: TerminalJob | None
    stops: list[TerminalStop] = Field(description="its newest stops, the open one first")
    reasons: list[ReasonPublic]
    as_of: datetime


class ScrapPublic(BaseModel):
    """The operation the scrap was counted to, with its totals now."""

    machine_id: str
    order_id: str
    operation: int
    quantity: int
    reason: str
    good: int
    scrap: int


class OperatorActionPublic(BaseModel):
    """One line of the operator actions' log."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    machine_id: str
    action: str = Field(description="start, end, scrap or classify")
    actor: str = Field(description="the API key's name")
    role: str | None
    order_id: str | None
    operation: int | None
    quantity: int | None
    reason: str | None
    stop_id: int | None
    comment: str | None
    at: datetime
