"""Supervisors' floor routes: alerts, machines, the schedule (Gantt) and quotes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime

from tracker import machine_views, schedule_views, views
from tracker.access import Role
from tracker.adapters.unit_of_work import SqlUnitOfWork as UnitOfWork
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.domain.alerts import AlertState, Severity
from tracker.domain.planning.quote import QuoteError
from tracker.domain.routing import RoutingError
from tracker.service_layer.alert_handlers import AlertClosed, AlertNotFound

from .auth import STAFF_ERRORS, Access, problems
from .orders import routing_of
from .orders_api import routing_422, unprocessable
from .read_schemas import AlertDetailPublic, MachineRow, SchedulePublic
from .schemas import (
    MACHINE_ID,
    ORDER_ID,
    AlarmPublic,
    AlertAck,
    AlertId,
    AlertPublic,
    MachineId,
    MachinePublic,
    QuotedOperationPublic,
    QuotePublic,
    QuoteRequest,
    UnassignedEventPublic,
)

_MISSING = problems(404)


def make_router(tracker: Tracker, access: Access) -> APIRouter:
    """Reads need a viewer's key; acknowledging an alert a supervisor's."""
    viewer, supervisor = access.require(Role.VIEWER), access.require(Role.SUPERVISOR)
    router = APIRouter(prefix="/api/v1", responses=STAFF_ERRORS)

    @router.get("/alerts", response_model=list[AlertPublic], dependencies=[viewer], tags=["alerts"])
    def list_alerts(
        order_id: Annotated[str | None, Query(max_length=64, pattern=ORDER_ID)] = None,
        state: AlertState | None = None,
        severity: Severity | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[AlertPublic]:
        """Alerts, newest first, with their deliveries."""
        with UnitOfWork(tracker.sessions) as uow:
            rows = views.alerts(
                uow.session,
                order_id,
                state.value if state else None,
                severity.value if severity else None,
                limit,
            )
        return [AlertPublic.model_validate(a) for a in rows]

    @router.get(
        "/alerts/{alert_id}",
        response_model=AlertDetailPublic,
        dependencies=[viewer],
        responses=_MISSING,
        tags=["alerts"],
    )
    def get_alert(alert_id: AlertId) -> AlertDetailPublic:
        """One alert and its history: each delivered version (raised, escalated, ...)."""
        with UnitOfWork(tracker.sessions) as uow:
            found = views.alert(uow.session, alert_id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="alert not found")
        return AlertDetailPublic.model_validate(
            {**found, "history": views.alert_history(found["deliveries"])}
        )

    @router.post(
        "/alerts/{alert_id}/ack",
        response_model=AlertPublic,
        dependencies=[supervisor],
        responses=problems(404, 409),
        tags=["alerts"],
    )
    def acknowledge_alert(alert_id: AlertId, body: AlertAck) -> AlertPublic:
        """A supervisor has seen the alert: who, when (now) and an optional comment."""
        try:
            tracker.bus.handle(commands.AcknowledgeAlert(alert_id, body.by, body.comment))
        except AlertNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
        except AlertClosed as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
        with UnitOfWork(tracker.sessions) as uow:
            return AlertPublic.model_validate(views.alert(uow.session, alert_id))

    @router.get(
        "/machines", response_model=list[MachineRow], dependencies=[viewer], tags=["machines"]
    )
    def machines() -> list[MachineRow]:
        """Every machine: state, since when, bound job, utilisation, last event time."""
        with UnitOfWork(tracker.sessions) as uow:
            rows = machine_views.all_machines(uow.session, tracker.clock())
        return [MachineRow.model_validate(r) for r in rows]

    @router.get(
        "/machines/{machine_id}",
        response_model=MachinePublic,
        dependencies=[viewer],
        responses=_MISSING,
        tags=["machines"],
    )
    def machine(machine_id: MachineId) -> MachinePublic:
        with UnitOfWork(tracker.sessions) as uow:
            found = machine_views.machine_utilisation(uow.session, machine_id, tracker.clock())
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="machine not found")
        return MachinePublic.model_validate(found)

    @router.get(
        "/machines/{machine_id}/unassigned",
        response_model=list[UnassignedEventPublic],
        dependencies=[viewer],
        tags=["machines"],
    )
    def unassigned(machine_id: MachineId) -> list[UnassignedEventPublic]:
        """Events of the machine that could not be attributed to an order, newest first."""
        with UnitOfWork(tracker.sessions) as uow:
            rows = machine_views.unassigned_events(uow.session, machine_id)
        return [UnassignedEventPublic.model_validate(r) for r in rows]

    @router.get(
        "/machines/{machine_id}/alarms",
        response_model=list[AlarmPublic],
        dependencies=[viewer],
        tags=["machines"],
    )
    def machine_alarms(machine_id: MachineId) -> list[AlarmPublic]:
        with UnitOfWork(tracker.sessions) as uow:
            rows = machine_views.alarms(uow.session, machine_id)
        return [AlarmPublic.model_validate(r) for r in rows]

    @router.get("/schedule", response_model=SchedulePublic, dependencies=[viewer], tags=["plan"])
    def schedule(
        machine: Annotated[str | None, Query(max_length=100, pattern=MACHINE_ID)] = None,
        start: Annotated[
            AwareDatetime | None, Query(alias="from", description="default: 24 h ago")
        ] = None,
        end: Annotated[AwareDatetime | None, Query(alias="to", description="default: open")] = None,
    ) -> SchedulePublic:
        """Gantt data: per machine the current plan's operations and what actually ran."""
        now = tracker.clock()
        start = start or now - timedelta(days=1)
        if end is not None and end <= start:
            raise unprocessable(("query", "to"), "`to` must be after `from`")
        with UnitOfWork(tracker.sessions) as uow:
            found = schedule_views.schedule(uow.session, tracker.plan, now, start, end, machine)
        return SchedulePublic.model_validate(found)

    @router.post("/quotes", response_model=QuotePublic, dependencies=[viewer], tags=["plan"])
    def quote(body: QuoteRequest) -> QuotePublic:
        """Capable-to-promise: the earliest completion of a hypothetical order against the
        current plan, without booking it."""
        try:
            product, operations = routing_of(body, tracker.plant)
        except RoutingError as exc:
            raise routing_422(exc) from None
        try:
            quoted, made_at = tracker.quote(operations, body.quantity, body.priority, body.due_at)
        except QuoteError as exc:
            raise unprocessable(("body",), str(exc)) from None
        names = {op.seq: op.name for op in operations}
        return QuotePublic(
            product=product,
            quantity=body.quantity,
            priority=body.priority,
            completion=quoted.completion,
            due_at=body.due_at,
            on_time=None if body.due_at is None else quoted.completion <= body.due_at,
            operations=[
                QuotedOperationPublic(
                    seq=q.seq, name=names[q.seq], machine=q.machine, start=q.start, end=q.end
                )
                for q in quoted.operations
            ],
            plan_made_at=made_at,
        )

    return router
