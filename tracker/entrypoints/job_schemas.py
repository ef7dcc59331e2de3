"""HTTP models of job binding: a person starting or ending a machine's job, the binding log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .schemas import ORDER_ID


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
