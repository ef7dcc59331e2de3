"""Request and response models of the downtime API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DowntimePublic(BaseModel):
    """One downtime record: a stop of a machine, its job, alarm and reason."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    machine_id: str
    state: str = Field(description="the stop's kind: DOWN, or IDLE with a job bound")
    started_at: datetime
    ended_at: datetime | None = Field(description="None while the stop lasts")
    lost_s: float = Field(description="seconds lost so far")
    order_id: str | None
    seq: int | None
    alarm_code: str | None
    alarm_text: str | None
    reason: str | None = Field(description="a code of the plant file's reasons")
    category: str | None
    source: str | None = Field(description="who gave the reason: alarm or person")
    classified_by: str | None
    classified_at: datetime | None
    comment: str | None


class ParetoBarPublic(BaseModel):
    """Minutes lost to one reason, machine or category, and in how many stops."""

    key: str
    minutes: float
    count: int


class ParetoPublic(BaseModel):
    """Lost minutes in a window, largest first."""

    by: str
    since: datetime = Field(serialization_alias="from")
    until: datetime = Field(serialization_alias="to")
    bars: list[ParetoBarPublic]


class StopClassification(BaseModel):
    """A person's reason for a stop."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=100)
    comment: str | None = Field(default=None, max_length=2000)
