"""The incident notice: one delivered transition of an incident (a stopped machine and the
orders it delays), on MQTT (`topics.incident_topic`) and in webhook bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from .payloads import _Frozen


class IncidentOrder(_Frozen):
    """One order the incident affects: its alert and where that alert stands."""

    order_id: str
    alert_id: int
    alert_state: Literal["active", "acknowledged", "cleared"]
    schedule_status: Literal["on_track", "at_risk", "late"]


class IncidentNotice(_Frozen):
    """One version of an incident.

    `incident_id` names the incident for its whole life and `version` grows with each
    delivered transition (`event`): receivers de-duplicate on (incident_id, version), as for
    alerts. `orders` lists every order whose alert hangs under the incident so far.
    """

    incident_id: int
    version: int
    event: Literal["opened", "updated", "acknowledged", "closed"]
    machine_id: str
    cause: str
    state: Literal["open", "acknowledged", "closed"]
    reason: str | None = None
    reason_code: str | None = None
    started_at: datetime
    opened_at: datetime
    updated_at: datetime
    message: str
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    ack_comment: str | None = None
    closed_at: datetime | None = None
    orders: list[IncidentOrder]
