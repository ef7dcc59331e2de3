"""What the incident routes take and answer: the incident, the orders it affects, its id."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from .floor_responses import AlertDeliveryPublic
from .request_models import RowId

IncidentId = RowId


class IncidentScope(StrEnum):
    """Which incidents a list shows."""

    OPEN = "open"
    ALL = "all"


class IncidentOrderPublic(BaseModel):
    """One order the incident puts at risk or late: its alert, as it stands now."""

    order_id: str
    alert_id: int
    state: str = Field(description="the alert's: active, acknowledged or cleared")
    severity: str
    schedule_status: str
    message: str
    acked_by: str | None
    acked_at: datetime | None
    cleared_at: datetime | None


class IncidentPublic(BaseModel):
    """One stopped machine, why, since when, and every order it affects."""

    id: int
    machine_id: str
    cause: str = Field(description="the machine's state when it opened: DOWN or OFFLINE")
    state: str = Field(description="open, acknowledged or closed")
    reason: str | None = Field(description="the alarm text that came with the stop, if any")
    reason_code: str | None = Field(description="that alarm's code, if any")
    started_at: datetime = Field(description="when the machine stopped")
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None = Field(description="when the machine ran again")
    message: str
    version: int
    last_event: str = Field(description="opened, updated, acknowledged or closed")
    acked_by: str | None
    acked_at: datetime | None
    ack_comment: str | None
    orders: list[IncidentOrderPublic]
    deliveries: list[AlertDeliveryPublic]
