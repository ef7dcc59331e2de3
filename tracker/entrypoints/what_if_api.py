"""POST /api/v1/what-if: which orders change status if a machine goes down, a work center
works an extra shift, a rush order comes in or an order's priority is raised (nothing is
booked, the real plan stays)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.foresight.what_if import (
    Change,
    ExtraShift,
    MachineDown,
    RaisePriority,
    RushOrder,
    UnknownTargets,
)
from tracker.domain.planning.model import PlanJob, PlanOperation
from tracker.domain.routing import Plant, RoutingError
from tracker.service_layer.what_if import OrderOutcome

from .deps import SUPERVISOR, Clock, PlantLayout, parts
from .errors import STAFF_ERRORS, routing_422
from .order_commands import routing_of
from .request_models import MACHINE_ID, ORDER_ID, QuoteRequest

WhatIf = Callable[[Sequence[Change]], list[OrderOutcome]]
_Machine = Annotated[str, Field(min_length=1, max_length=100, pattern=MACHINE_ID)]
_Order = Annotated[str, Field(min_length=1, max_length=64, pattern=ORDER_ID)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MachineDownRequest(_Strict):
    machine: _Machine
    for_s: float = Field(gt=0, le=30 * 86400, description="how long it stays down, from now")


class ExtraShiftRequest(_Strict):
    machine: _Machine = Field(description="a machine or a work center: it works around the clock")


class PriorityRequest(_Strict):
    order_id: _Order
    priority: int = Field(ge=0, le=100)


class RushOrderRequest(QuoteRequest):
    order_id: _Order = "RUSH"


class WhatIfRequest(_Strict):
    machines_down: list[MachineDownRequest] = Field(default=[], max_length=100)
    extra_shifts: list[ExtraShiftRequest] = Field(default=[], max_length=100)
    priorities: list[PriorityRequest] = Field(default=[], max_length=1000)
    rush_orders: list[RushOrderRequest] = Field(default=[], max_length=20)


class OrderOutcomePublic(BaseModel):
    order_id: str
    due_at: datetime
    status_before: str = Field(description="on_track, at_risk or late, as forecast now")
    status_after: str = Field(description="the same with the changes made")
    p_on_time_before: float | None
    p_on_time_after: float | None
    eta_p50_after: datetime | None
    eta_p90_after: datetime | None


class WhatIfPublic(BaseModel):
    as_of: datetime
    changed: list[OrderOutcomePublic] = Field(description="orders whose status changes")
    orders: list[OrderOutcomePublic] = Field(description="every open order, and the rush orders")


router = APIRouter(tags=["plan"])


async def what_if_of(request: Request) -> WhatIf:
    """The tracker's what-if over its current state (`Tracker.what_if`)."""
    return cast(WhatIf, parts(request).what_if)


def _changes(body: WhatIfRequest, plant: Plant, now: datetime) -> list[Change]:
    """The request's changes, in the domain's terms; raises RoutingError for a rush order."""
    changes: list[Change] = [MachineDown(d.machine, d.for_s) for d in body.machines_down]
    changes += [ExtraShift(plant.machines_for(s.machine)) for s in body.extra_shifts]
    changes += [RaisePriority(p.order_id, p.priority) for p in body.priorities]
    for rush in body.rush_orders:
        _, operations = routing_of(rush, plant)
        changes.append(
            RushOrder(
                PlanJob(
                    order_id=rush.order_id,
                    due_at=rush.due_at or now + timedelta(days=365),
                    released_at=now,
                    operations=tuple(
                        PlanOperation(
                            op.seq,
                            plant.machines_for(op.machine),
                            op.setup_s,
                            op.cycle_s * rush.quantity,
                        )
                        for op in operations
                    ),
                    priority=rush.priority,
                )
            )
        )
    return changes


def _fields(body: WhatIfRequest) -> list[tuple[str, str, int, str]]:
    """Where each change of `_changes` came from in the body, in the same order."""
    return (
        [("body", "machines_down", k, "machine") for k in range(len(body.machines_down))]
        + [("body", "extra_shifts", k, "machine") for k in range(len(body.extra_shifts))]
        + [("body", "priorities", k, "order_id") for k in range(len(body.priorities))]
        + [("body", "rush_orders", k, "order_id") for k in range(len(body.rush_orders))]
    )


def _unknown_422(body: WhatIfRequest, exc: UnknownTargets) -> RequestValidationError:
    """FastAPI's 422 shape, naming the change that names nothing the plant has."""
    where = _fields(body)
    return RequestValidationError(
        [
            {"type": "value_error", "loc": where[k], "msg": msg, "input": None}
            for k, msg in exc.problems
        ]
    )


def _public(outcome: OrderOutcome) -> OrderOutcomePublic:
    before, after = outcome.before, outcome.after
    return OrderOutcomePublic(
        order_id=outcome.order_id,
        due_at=outcome.due_at,
        status_before=outcome.status_before,
        status_after=outcome.status_after,
        p_on_time_before=round(before.p_on_time, 3) if before else None,
        p_on_time_after=round(after.p_on_time, 3) if after else None,
        eta_p50_after=after.p50 if after else None,
        eta_p90_after=after.p90 if after else None,
    )


@router.post(
    "/api/v1/what-if",
    response_model=WhatIfPublic,
    dependencies=[SUPERVISOR],
    responses=STAFF_ERRORS,
)
def what_if(
    body: WhatIfRequest,
    plant: PlantLayout,
    clock: Clock,
    run: Annotated[WhatIf, Depends(what_if_of)],
) -> WhatIfPublic:
    """Which orders change status, and their new P(on time) and ETA, if these things happened
    now; nothing is booked and the real plan stays as it is."""
    now = clock()
    try:
        changes = _changes(body, plant, now)
    except RoutingError as exc:
        raise routing_422(exc) from None
    try:
        outcomes = [_public(o) for o in run(changes)]
    except UnknownTargets as exc:
        raise _unknown_422(body, exc) from None
    changed = [o for o in outcomes if o.status_before != o.status_after]
    return WhatIfPublic(as_of=now, changed=changed, orders=outcomes)
