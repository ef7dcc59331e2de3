"""Supervisors' order routes: create, import, list, read, change, cancel, ship, tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from tracker import order_tokens, views
from tracker.access import Role
from tracker.adapters.unit_of_work import SqlUnitOfWork as UnitOfWork
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.domain.model import DomainError, OrderStatus
from tracker.domain.routing import RoutingError
from tracker.domain.schedule import ScheduleStatus
from tracker.order_list import OrderFilter, list_orders
from tracker.service_layer.bus import Changes
from tracker.service_layer.handlers import ImportRejected, OrderExists, OrderNotFound
from tracker.tokens import hash_token, new_token

from .auth import STAFF_ERRORS, Access, problems
from .order_import import ParsedImport, UnreadableImport, parse_import
from .orders import to_command
from .read_schemas import ImportProblems, OrderPage, OrderRow, TokenRotated
from .schemas import (
    MACHINE_ID,
    NO_NUL,
    OrderCancel,
    OrderChange,
    OrderCreate,
    OrderCreated,
    OrderId,
    OrderPublic,
    OrdersImported,
)

_NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, detail="order not found")
_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


def unprocessable(loc: tuple[str, ...], msg: str) -> RequestValidationError:
    """A 422 in FastAPI's own shape (what the schema promises), with `msg` and `loc`."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": msg, "input": None}])


def routing_422(exc: RoutingError) -> RequestValidationError:
    """The same shape as FastAPI's own 422, with the field in `loc`."""
    return RequestValidationError(
        [
            {"type": "value_error", "loc": ("body", *where.split(".")), "msg": msg, "input": None}
            for where, msg in exc.problems
        ]
    )


def _rejected(message: str, problems: list[commands.RowProblem]) -> HTTPException:
    return HTTPException(
        422,
        detail={
            "message": message,
            "errors": [
                {"row": p.row, "order_id": p.order_id, "field": p.field, "reason": p.reason}
                for p in problems
            ],
        },
    )


def _created(order_id: str, token: str) -> OrderCreated:
    return OrderCreated(
        order_id=order_id, access_token=token, progress_url=f"/api/v1/orders/{order_id}/progress"
    )


def make_router(tracker: Tracker, access: Access, import_max_bytes: int) -> APIRouter:
    """The order routes: reads need a viewer's key, changes a supervisor's."""
    viewer, supervisor = access.require(Role.VIEWER), access.require(Role.SUPERVISOR)
    router = APIRouter(prefix="/api/v1/orders", tags=["orders"], responses=STAFF_ERRORS)
    missing, refused = problems(404), problems(404, 409)

    @router.post(
        "",
        status_code=201,
        response_model=OrderCreated,
        dependencies=[supervisor],
        responses=problems(409),
    )
    def create_order(body: OrderCreate) -> OrderCreated:
        token = new_token()
        try:
            cmd = to_command(body, tracker.plant, hash_token(token))
        except RoutingError as exc:
            raise routing_422(exc) from None
        try:
            tracker.bus.handle(cmd)
        except OrderExists as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
        except DomainError as exc:
            raise unprocessable(("body",), str(exc)) from None
        return _created(body.order_id, token)

    @router.get("", response_model=OrderPage, dependencies=[viewer])
    def orders(
        order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
        schedule_status: ScheduleStatus | None = None,
        due_from: Annotated[AwareDatetime | None, Query(description="due at or after")] = None,
        due_to: Annotated[AwareDatetime | None, Query(description="due before")] = None,
        customer: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
        machine: Annotated[
            str | None,
            Query(max_length=100, pattern=MACHINE_ID, description="machine or work center"),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    ) -> OrderPage:
        """Orders by due date (then id), filtered and paged; `total` counts every match."""
        wanted = OrderFilter(order_status, schedule_status, due_from, due_to, customer, machine)
        with UnitOfWork(tracker.sessions) as uow:
            total, rows = list_orders(
                uow.session, wanted, limit, offset, tracker.clock(), tracker.plan
            )
        return OrderPage(
            total=total,
            limit=limit,
            offset=offset,
            orders=[OrderRow.model_validate(r) for r in rows],
        )

    @router.post(
        "/import",
        status_code=201,
        response_model=OrdersImported,
        dependencies=[supervisor],
        openapi_extra=_IMPORT_BODY,
        responses={
            **problems(415),
            422: {"model": ImportProblems, "description": "nothing was imported"},
        },
    )
    async def import_orders(request: Request) -> OrdersImported:
        """CSV (`text/csv`) or JSON (`application/json`) from an ERP: all orders or none."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in ("text/csv", "application/json"):
            raise HTTPException(415, detail="send text/csv or application/json")
        data = await request.body()
        if len(data) > import_max_bytes:  # BodyLimit answers first; this guards other mounts
            raise HTTPException(413, detail=f"imports are limited to {import_max_bytes} bytes")
        return await run_in_threadpool(_import, media_type, data)

    def _import(media_type: str, data: bytes) -> OrdersImported:
        try:
            parsed: ParsedImport = parse_import(media_type, data, tracker.plant)
            tracker.bus.handle(parsed.command())
        except UnreadableImport as exc:
            raise _rejected(f"nothing was imported: {exc}", []) from None
        except ImportRejected as exc:
            raise _rejected(f"nothing was imported: {exc}", exc.problems) from None
        return OrdersImported(
            imported=len(parsed.orders),
            orders=[
                _created(cmd.order_id, parsed.tokens[cmd.order_id]) for _, cmd in parsed.orders
            ],
        )

    def _detail(order_id: str) -> OrderPublic:
        with UnitOfWork(tracker.sessions) as uow:
            order = uow.get_order(order_id)
            if order is None:
                raise _NOT_FOUND
            planned = views.planned_operations(uow.session, order_id, tracker.plan)
            detail = views.order_detail(order, tracker.clock(), tracker.plan, planned)
            return OrderPublic.model_validate(detail)

    @router.get("/{order_id}", response_model=OrderPublic, dependencies=[viewer], responses=missing)
    def order(order_id: OrderId) -> OrderPublic:
        """The supervisor's view of one order."""
        return _detail(order_id)

    def _lifecycle(
        cmd: commands.CancelOrder | commands.ShipOrder | commands.ChangeQuantity,
    ) -> OrderPublic:
        """Apply a lifecycle command; 404 for an unknown order, 409 with the reason when the
        order's status does not allow it."""
        try:
            tracker.bus.handle(cmd)
        except OrderNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
        except DomainError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
        return _detail(cmd.order_id)

    @router.post(
        "/{order_id}/cancel",
        response_model=OrderPublic,
        dependencies=[supervisor],
        responses=refused,
    )
    def cancel_order(order_id: OrderId, body: OrderCancel) -> OrderPublic:
        """Cancel an order that is not shipped; its open alert clears."""
        return _lifecycle(commands.CancelOrder(order_id, body.reason))

    @router.post(
        "/{order_id}/ship", response_model=OrderPublic, dependencies=[supervisor], responses=refused
    )
    def ship_order(order_id: OrderId) -> OrderPublic:
        """A completed order left the plant."""
        return _lifecycle(commands.ShipOrder(order_id))

    @router.patch(
        "/{order_id}", response_model=OrderPublic, dependencies=[supervisor], responses=refused
    )
    def change_order(order_id: OrderId, body: OrderChange) -> OrderPublic:
        """Change the quantity of an open order (never below the parts already made)."""
        return _lifecycle(commands.ChangeQuantity(order_id, body.quantity))

    @router.post(
        "/{order_id}/token",
        response_model=TokenRotated,
        dependencies=[supervisor],
        responses=missing,
    )
    def rotate_token(order_id: OrderId) -> TokenRotated:
        """A new customer token, shown once; the old one stops working."""
        token = order_tokens.rotate(tracker.sessions, order_id)
        if token is None:
            raise _NOT_FOUND
        tracker.changes.publish(Changes(orders=frozenset({order_id})))  # cached answers go
        return TokenRotated(**_created(order_id, token).model_dump())

    @router.delete(
        "/{order_id}/token", status_code=204, dependencies=[supervisor], responses=missing
    )
    def revoke_token(order_id: OrderId) -> None:
        """No token reads the order until a new one is made (POST)."""
        if not order_tokens.revoke(tracker.sessions, order_id):
            raise _NOT_FOUND
        tracker.changes.publish(Changes(orders=frozenset({order_id})))  # cached answers go

    return router
