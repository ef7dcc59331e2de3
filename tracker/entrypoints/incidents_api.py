"""Incident routes: one incident per stopped machine, its orders, one acknowledgement for all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from tracker.domain import commands
from tracker.service_layer.incident_handlers import IncidentClosed, IncidentNotFound
from tracker.views import incidents as incident_views

from .deps import SUPERVISOR, VIEWER, Bus, ReadSession
from .errors import STAFF_ERRORS, problems
from .incident_models import IncidentId, IncidentPublic, IncidentScope
from .request_models import AlertAck

# reads need a viewer's key; acknowledging an incident a supervisor's
router = APIRouter(prefix="/api/v1", responses=STAFF_ERRORS, tags=["incidents"])


@router.get("/incidents", response_model=list[IncidentPublic], dependencies=[VIEWER])
def list_incidents(
    session: ReadSession,
    state: IncidentScope = IncidentScope.OPEN,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[IncidentPublic]:
    """Incidents, newest first (open ones, or all), each with the orders it affects."""
    rows = incident_views.incidents(session, state is IncidentScope.OPEN, limit)
    return [IncidentPublic.model_validate(row) for row in rows]


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentPublic,
    dependencies=[VIEWER],
    responses=problems(404),
)
def get_incident(incident_id: IncidentId, session: ReadSession) -> IncidentPublic:
    """One incident with the orders it affects and its deliveries."""
    found = incident_views.incident(session, incident_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="incident not found")
    return IncidentPublic.model_validate(found)


@router.post(
    "/incidents/{incident_id}/ack",
    response_model=IncidentPublic,
    dependencies=[SUPERVISOR],
    responses=problems(404, 409),
)
def acknowledge_incident(
    incident_id: IncidentId, body: AlertAck, bus: Bus, session: ReadSession
) -> IncidentPublic:
    """A supervisor has seen the incident: it and every open alert under it are acknowledged
    (who, when (now) and an optional comment); 409 once the machine runs again."""
    try:
        bus.handle(commands.AcknowledgeIncident(incident_id, body.by, body.comment))
    except IncidentNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except IncidentClosed as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    # the read session begins its transaction at its first read: after the command's commit
    return IncidentPublic.model_validate(incident_views.incident(session, incident_id))
