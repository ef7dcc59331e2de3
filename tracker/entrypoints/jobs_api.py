"""People binding jobs to machines: start or end a job, a machine's dispatch list and binding log,
and what the caller's key may do (for the board's buttons)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from shopfloor.contract.payloads import DispatchList
from tracker.auth.api_keys import Role
from tracker.domain import commands
from tracker.domain.planning.dispatch_lists import dispatch_list
from tracker.service_layer.job_binding import JobConflict, MachineNotFound, UnknownJob
from tracker.service_layer.machine_queues import read_machine_queues
from tracker.views import machines as machine_views

from .deps import (
    Bus,
    Clock,
    CurrentPlan,
    Operator,
    PlanningInputs,
    PlantLayout,
    ReadSession,
    Settings,
    Viewer,
)
from .errors import STAFF_ERRORS, problems, unprocessable
from .floor_responses import JobBindingPublic, MachineJobPublic, WhoAmI
from .request_models import MachineId, MachineJobAction

# starting and ending jobs needs an operator's key (or above) allowed on the machine
router = APIRouter(prefix="/api/v1", responses=STAFF_ERRORS, tags=["machines"])


@router.post(
    "/machines/{machine_id}/job",
    response_model=MachineJobPublic,
    responses=problems(404, 409),
)
def machine_job(
    machine_id: MachineId, body: MachineJobAction, who: Operator, bus: Bus, session: ReadSession
) -> MachineJobPublic:
    """Start a job on the machine, or end its job; recorded with the key's name. Repeating
    a request changes nothing more."""
    if not who.may_work(machine_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"this key may not work machine {machine_id}"
        )
    cmd: commands.BindJob | commands.ReleaseJob
    if body.action == "start":
        assert body.order_id is not None and body.operation is not None
        cmd = commands.BindJob(machine_id, body.order_id, body.operation, who.name, who.role.value)
    else:
        cmd = commands.ReleaseJob(
            machine_id, who.name, body.order_id, body.operation, who.role.value
        )
    try:
        bus.handle(cmd)
    except MachineNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except UnknownJob as exc:
        raise unprocessable(("body", "order_id"), str(exc)) from None
    except JobConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    # the read session begins its transaction at its first read: after the command's commit
    found = machine_views.binding(session, machine_id)
    return MachineJobPublic(machine_id=machine_id, order_id=found[0], operation=found[1])


@router.get("/machines/{machine_id}/jobs", response_model=list[JobBindingPublic])
def job_log(machine_id: MachineId, _who: Viewer, session: ReadSession) -> list[JobBindingPublic]:
    """Jobs bound to and released from the machine (events, dispatch list, people),
    newest first."""
    rows = machine_views.job_bindings(session, machine_id)
    return [JobBindingPublic.model_validate(r) for r in rows]


@router.get("/machines/{machine_id}/dispatch", response_model=DispatchList)
def machine_dispatch(
    machine_id: MachineId,
    _who: Viewer,
    reads: PlanningInputs,
    plant: PlantLayout,
    plan: CurrentPlan,
    clock: Clock,
    settings: Settings,
) -> DispatchList:
    """The machine's dispatch list from the current plan (as published over MQTT)."""
    if plan is None:
        return DispatchList(machine=machine_id, plan_made_at=clock(), jobs=[])
    queues = read_machine_queues(reads, plant, plan, [machine_id], settings.dispatch_max_jobs)
    return dispatch_list(machine_id, plan.made_at, queues.get(machine_id, []))


@router.get("/me", response_model=WhoAmI, tags=["access"])
def me(who: Viewer) -> WhoAmI:
    """The caller's key: name, role, and the machines it may start and end jobs on."""
    return WhoAmI(
        name=who.name,
        role=who.role.value,
        machines=None if who.machines is None else sorted(who.machines),
        may_work=who.role.allows(Role.OPERATOR),
    )
