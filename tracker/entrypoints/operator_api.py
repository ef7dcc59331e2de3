"""The operator terminal's API: what the terminal at a machine shows, scrap reported there, and
the log of what people did at the machine (start, end, scrap, classify)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy.orm import Session

from tracker.auth.api_keys import Principal
from tracker.domain import commands
from tracker.domain.errors import DomainError
from tracker.service_layer.downtime_handlers import UnknownReason
from tracker.service_layer.job_binding import MachineNotFound, UnknownJob
from tracker.views import operator as views

from .deps import Bus, Clock, Operator, ReadSession, ReadSessions, Viewer
from .errors import STAFF_ERRORS, problems, unprocessable
from .operator_models import (
    OperatorActionPublic,
    ReasonPublic,
    ScrapPublic,
    ScrapReport,
    TerminalJob,
    TerminalPublic,
    TerminalStop,
)
from .request_models import MachineId

STOPS_SHOWN = 3  # the current stop and the last ones, to classify
router = APIRouter(prefix="/api/v1/machines", responses=STAFF_ERRORS, tags=["machines"])


def _refuse_other_machines(who: Principal, machine_id: str) -> None:
    if not who.may_work(machine_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"this key may not work machine {machine_id}"
        )


def _job(session: Session, machine: dict[str, Any] | None, machine_id: str) -> TerminalJob | None:
    """The machine's job, else the last one it worked, with its operation's progress."""
    order_id, seq = (machine["order_id"], machine["seq"]) if machine else (None, None)
    bound = order_id is not None and seq is not None
    wanted = (order_id, seq) if bound else views.last_job(session, machine_id)
    found = views.job(session, *wanted) if wanted is not None else None
    return None if found is None else TerminalJob(**found, bound=bound)


@router.get("/{machine_id}/terminal", response_model=TerminalPublic, responses=problems(404))
def terminal(
    machine_id: MachineId, who: Operator, bus: Bus, session: ReadSession, clock: Clock
) -> TerminalPublic:
    """What the terminal at the machine shows: its state, its job (or the last one it worked)
    and the job's progress, its newest stops (the open one first), and the plant's reasons.
    Needs a key
    that may work the machine."""
    _refuse_other_machines(who, machine_id)
    machine = views.machine(session, machine_id)
    if machine is None and machine_id not in bus.rules.machines:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"machine {machine_id} not found")
    stops = views.stops(session, machine_id, STOPS_SHOWN)
    reasons = bus.rules.downtime.catalogue.reasons.values()
    return TerminalPublic(
        machine_id=machine_id,
        state=None if machine is None else machine["state"],
        state_since=None if machine is None else machine["state_since"],
        job=_job(session, machine, machine_id),
        stops=[TerminalStop.model_validate(s) for s in stops],
        reasons=[
            ReasonPublic(code=r.code, name=r.name, category=r.category.value) for r in reasons
        ],
        as_of=clock(),
    )


@router.post("/{machine_id}/scrap", response_model=ScrapPublic, responses=problems(404, 409))
def report_scrap(
    machine_id: MachineId, body: ScrapReport, who: Operator, bus: Bus, sessions: ReadSessions
) -> ScrapPublic:
    """Scrap parts of the machine's job (or the job named, or the last one it worked) for a
    reason of the plant's catalogue: OEE quality counts them; recorded with who and when."""
    _refuse_other_machines(who, machine_id)
    cmd = commands.ReportScrap(
        machine_id,
        body.quantity,
        body.reason,
        who.name,
        who.role.value,
        body.order_id,
        body.operation,
        body.comment,
    )
    try:
        bus.handle(cmd)
    except MachineNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except UnknownReason as exc:
        raise unprocessable(("body", "reason"), str(exc)) from None
    except UnknownJob as exc:
        raise unprocessable(("body", "order_id"), str(exc)) from None
    except DomainError as exc:  # JobConflict, or a count the order refuses
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    with sessions() as session:  # after the command's commit
        done = views.last_action(session, machine_id, "scrap", who.name)
        assert done is not None
        found = views.job(session, done["order_id"], done["seq"])
    assert found is not None
    return ScrapPublic(
        machine_id=machine_id,
        order_id=done["order_id"],
        operation=done["seq"],
        quantity=body.quantity,
        reason=body.reason,
        good=found["good"],
        scrap=found["scrap"],
    )


@router.get("/{machine_id}/actions", response_model=list[OperatorActionPublic])
def operator_actions(
    machine_id: MachineId,
    _who: Viewer,
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[OperatorActionPublic]:
    """What people did at the machine (start, end, scrap, classify), who and when, newest
    first."""
    return [
        OperatorActionPublic.model_validate(r) for r in views.actions(session, machine_id, limit)
    ]
