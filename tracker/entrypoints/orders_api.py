"""Supervisors' order routes: create, import, list, read, change, cancel, ship, tokens."""
# size: every staff route under /api/v1/orders but the notifications' on one router, the
# creating ones storing the contacts given with the orders

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import AwareDatetime
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tracker.adapters import order_token_store
from tracker.auth import order_tokens
from tracker.domain import commands
from tracker.domain.model import DomainError, OrderStatus
from tracker.domain.planning.model import Plan
from tracker.domain.routing import Plant, RoutingError
from tracker.domain.schedule import ScheduleStatus
from tracker.order_csv import DEFAULT_ZONE, named_zone
from tracker.service_layer.bus import Changes, MessageBus
from tracker.service_layer.foresight import Outlook
from tracker.service_layer.handlers import ImportRejected, OrderExists, OrderNotFound
from tracker.views.order_list import OrderFilter, list_orders
from tracker.views.orders import machine_states, order_detail, read_order

from .deps import (
    SUPERVISOR,
    VIEWER,
    Bus,
    Clock,
    CurrentOutlook,
    CurrentPlan,
    Feed,
    PlantLayout,
    ReadSession,
    Settings,
    TokenSessions,
)
from .errors import STAFF_ERRORS, problems, routing_422, unprocessable
from .notifications_api import ContactBook, Contacts
from .order_commands import to_command
from .order_import import ParsedImport, UnreadableImport, parse_import
from .order_responses import (
    ImportProblems,
    OrderCreated,
    OrderPage,
    OrderPublic,
    OrderRow,
    OrdersImported,
    TokenRotated,
)
from .request_models import MACHINE_ID, NO_NUL, OrderCancel, OrderChange, OrderCreate, OrderId

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
_MISSING, _REFUSED = problems(404), problems(404, 409)

# reads need a viewer's key, changes a supervisor's
router = APIRouter(prefix="/api/v1/orders", tags=["orders"], responses=STAFF_ERRORS)


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


@router.post(
    "",
    status_code=201,
    response_model=OrderCreated,
    dependencies=[SUPERVISOR],
    responses=problems(409),
)
def create_order(body: OrderCreate, bus: Bus, plant: PlantLayout, book: Contacts) -> OrderCreated:
    token = order_tokens.new_token()
    try:
        cmd = to_command(body, plant, order_tokens.hash_token(token))
    except RoutingError as exc:
        raise routing_422(exc) from None
    try:
        bus.handle(cmd)
    except OrderExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    except DomainError as exc:
        raise unprocessable(("body",), str(exc)) from None
    book.keep(body.order_id, body.notifications)  # after the order: contacts name it
    return _created(body.order_id, token)


@router.get("", response_model=OrderPage, dependencies=[VIEWER])
def orders(
    session: ReadSession,
    clock: Clock,
    plan: CurrentPlan,
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
    total, rows = list_orders(session, wanted, limit, offset, clock(), plan)
    return OrderPage(
        total=total, limit=limit, offset=offset, orders=[OrderRow.model_validate(r) for r in rows]
    )


@router.post(
    "/import",
    status_code=201,
    response_model=OrdersImported,
    dependencies=[SUPERVISOR],
    openapi_extra=_IMPORT_BODY,
    responses={
        **problems(415),
        422: {"model": ImportProblems, "description": "nothing was imported"},
    },
)
async def import_orders(
    request: Request,
    response: Response,
    settings: Settings,
    bus: Bus,
    plant: PlantLayout,
    book: Contacts,
    dry_run: Annotated[
        bool, Query(description="check every row and place nothing (200, `imported` 0)")
    ] = False,
    timezone: Annotated[
        str | None,
        Query(description="CSV due dates without an offset: IANA zone (UTC)"),
    ] = None,
) -> OrdersImported:
    """CSV (`text/csv`, `,` or `;`) or JSON (`application/json`): all orders or none."""
    zone = _zone(timezone)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("text/csv", "application/json"):
        raise HTTPException(415, detail="send text/csv or application/json")
    data = await request.body()
    max_bytes = settings.import_max_bytes
    if len(data) > max_bytes:  # BodyLimit answers first; this guards other mounts
        raise HTTPException(413, detail=f"imports are limited to {max_bytes} bytes")
    if dry_run:
        response.status_code = status.HTTP_200_OK
    return await run_in_threadpool(_import, media_type, data, bus, plant, book, dry_run, zone)


def _zone(name: str | None) -> tzinfo:
    try:
        return DEFAULT_ZONE if name is None else named_zone(name)
    except ValueError as exc:
        raise _rejected(f"nothing was imported: timezone: {exc}", []) from None


def _import(
    media_type: str,
    data: bytes,
    bus: MessageBus,
    plant: Plant,
    book: ContactBook,
    dry_run: bool = False,
    zone: tzinfo = DEFAULT_ZONE,
) -> OrdersImported:
    try:
        parsed: ParsedImport = parse_import(media_type, data, plant, zone)
        bus.handle(parsed.command(dry_run))
    except UnreadableImport as exc:
        raise _rejected(f"nothing was imported: {exc}", []) from None
    except ImportRejected as exc:
        raise _rejected(f"nothing was imported: {exc}", exc.problems) from None
    if dry_run:
        return OrdersImported(imported=0, orders=[])
    for order_id, contacts in parsed.contacts.items():
        book.keep(order_id, contacts)
    return OrdersImported(
        imported=len(parsed.orders),
        orders=[_created(cmd.order_id, parsed.tokens[cmd.order_id]) for _, cmd in parsed.orders],
    )


def _detail(
    session: Session,
    order_id: str,
    clock: Callable[[], datetime],
    plan: Plan | None,
    outlook: Outlook | None = None,
) -> OrderPublic:
    found = read_order(session, order_id, plan)
    if found is None:
        raise _NOT_FOUND
    order, planned = found
    states = machine_states(session, order)
    forecast = outlook.of(order_id) if outlook is not None else None
    detail = order_detail(order, clock(), plan, planned, states, forecast)
    return OrderPublic.model_validate(detail)


@router.get("/{order_id}", response_model=OrderPublic, dependencies=[VIEWER], responses=_MISSING)
def order(
    order_id: OrderId,
    session: ReadSession,
    clock: Clock,
    plan: CurrentPlan,
    outlook: CurrentOutlook,
) -> OrderPublic:
    """The supervisor's view of one order, with its P(on time) once forecast."""
    return _detail(session, order_id, clock, plan, outlook)


class OrderLifecycle:
    """Applies a lifecycle command and answers with the order (a route's dependency): 404 for
    an unknown order, 409 with the reason when the order's status does not allow it."""

    def __init__(self, bus: Bus, session: ReadSession, clock: Clock, plan: CurrentPlan) -> None:
        self._bus, self._session, self._clock, self._plan = bus, session, clock, plan

    def apply(
        self, cmd: commands.CancelOrder | commands.ShipOrder | commands.ChangeQuantity
    ) -> OrderPublic:
        """Apply `cmd` on the bus, then read the order."""
        try:
            self._bus.handle(cmd)
        except OrderNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
        except DomainError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
        # the read session begins its transaction at its first read: after the command's commit
        return _detail(self._session, cmd.order_id, self._clock, self._plan)


Lifecycle = Annotated[OrderLifecycle, Depends()]


@router.post(
    "/{order_id}/cancel", response_model=OrderPublic, dependencies=[SUPERVISOR], responses=_REFUSED
)
def cancel_order(order_id: OrderId, body: OrderCancel, lifecycle: Lifecycle) -> OrderPublic:
    """Cancel an order that is not shipped; its open alert clears."""
    return lifecycle.apply(commands.CancelOrder(order_id, body.reason))


@router.post(
    "/{order_id}/ship", response_model=OrderPublic, dependencies=[SUPERVISOR], responses=_REFUSED
)
def ship_order(order_id: OrderId, lifecycle: Lifecycle) -> OrderPublic:
    """A completed order left the plant."""
    return lifecycle.apply(commands.ShipOrder(order_id))


@router.patch(
    "/{order_id}", response_model=OrderPublic, dependencies=[SUPERVISOR], responses=_REFUSED
)
def change_order(order_id: OrderId, body: OrderChange, lifecycle: Lifecycle) -> OrderPublic:
    """Change the quantity of an open order (never below the parts already made)."""
    return lifecycle.apply(commands.ChangeQuantity(order_id, body.quantity))


@router.post(
    "/{order_id}/token", response_model=TokenRotated, dependencies=[SUPERVISOR], responses=_MISSING
)
def rotate_token(order_id: OrderId, sessions: TokenSessions, feed: Feed) -> TokenRotated:
    """A new customer token, shown once; the old one stops working."""
    token = order_token_store.rotate(sessions, order_id)
    if token is None:
        raise _NOT_FOUND
    feed.publish(Changes(orders=frozenset({order_id})))  # cached answers go
    return TokenRotated(**_created(order_id, token).model_dump())


@router.delete("/{order_id}/token", status_code=204, dependencies=[SUPERVISOR], responses=_MISSING)
def revoke_token(order_id: OrderId, sessions: TokenSessions, feed: Feed) -> None:
    """No token reads the order until a new one is made (POST)."""
    if not order_token_store.revoke(sessions, order_id):
        raise _NOT_FOUND
    feed.publish(Changes(orders=frozenset({order_id})))  # cached answers go
