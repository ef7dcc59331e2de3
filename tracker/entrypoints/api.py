"""HTTP API: customers read their order's progress with its token; supervisors use an API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from tracker import machine_views, views
from tracker.adapters.database import UnitOfWork
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.domain.model import DomainError
from tracker.domain.planning.quote import QuoteError
from tracker.domain.routing import RoutingError
from tracker.service_layer.alert_handlers import AlertClosed, AlertNotFound
from tracker.service_layer.handlers import ImportRejected, OrderExists, OrderNotFound
from tracker.tokens import hash_token, key_matches, new_token, token_matches

from . import web
from .order_import import ParsedImport, UnreadableImport, parse_import
from .orders import routing_of, to_command
from .schemas import (
    AlarmPublic,
    AlertAck,
    AlertPublic,
    MachinePublic,
    OrderCancel,
    OrderChange,
    OrderCreate,
    OrderCreated,
    OrderProgressPublic,
    OrderPublic,
    OrdersImported,
    QuotedOperationPublic,
    QuotePublic,
    QuoteRequest,
    UnassignedEventPublic,
)

_NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, detail="order not found")
_IMPORT_MAX_BYTES = 5 * 1024 * 1024
_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


def _routing_422(exc: RoutingError) -> RequestValidationError:
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


def create_app(tracker: Tracker) -> FastAPI:
    """The FastAPI app bound to one running tracker."""
    app = FastAPI(title="shopfloor tracker", version="0.1.0", lifespan=tracker.lifespan)

    def require_key(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if not key_matches(x_api_key, tracker.settings.api_key.get_secret_value()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="missing or bad API key",
                headers={"WWW-Authenticate": "X-API-Key"},
            )

    Supervisor = Depends(require_key)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/api/v1/machines/{machine_id}", response_model=MachinePublic, dependencies=[Supervisor]
    )
    def machine(machine_id: str) -> MachinePublic:
        with UnitOfWork(tracker.sessions) as uow:
            found = machine_views.machine_utilisation(uow.session, machine_id, tracker.clock())
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="machine not found")
        return MachinePublic.model_validate(found)

    @app.get(
        "/api/v1/machines/{machine_id}/unassigned",
        response_model=list[UnassignedEventPublic],
        dependencies=[Supervisor],
    )
    def unassigned(machine_id: str) -> list[UnassignedEventPublic]:
        """Events of the machine that could not be attributed to an order, newest first."""
        with UnitOfWork(tracker.sessions) as uow:
            rows = machine_views.unassigned_events(uow.session, machine_id)
        return [UnassignedEventPublic.model_validate(r) for r in rows]

    @app.get(
        "/api/v1/machines/{machine_id}/alarms",
        response_model=list[AlarmPublic],
        dependencies=[Supervisor],
    )
    def machine_alarms(machine_id: str) -> list[AlarmPublic]:
        with UnitOfWork(tracker.sessions) as uow:
            rows = machine_views.alarms(uow.session, machine_id)
        return [AlarmPublic.model_validate(r) for r in rows]

    @app.post(
        "/api/v1/orders", status_code=201, response_model=OrderCreated, dependencies=[Supervisor]
    )
    def create_order(body: OrderCreate) -> OrderCreated:
        token = new_token()
        try:
            cmd = to_command(body, tracker.plant, hash_token(token))
        except RoutingError as exc:
            raise _routing_422(exc) from None
        try:
            tracker.bus.handle(cmd)
        except OrderExists as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
        except DomainError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        return OrderCreated(
            order_id=body.order_id,
            access_token=token,
            progress_url=f"/api/v1/orders/{body.order_id}/progress",
        )

    @app.post("/api/v1/quotes", response_model=QuotePublic, dependencies=[Supervisor])
    def quote(body: QuoteRequest) -> QuotePublic:
        """Capable-to-promise: the earliest completion of a hypothetical order against the
        current plan, without booking it."""
        try:
            product, operations = routing_of(body, tracker.plant)
        except RoutingError as exc:
            raise _routing_422(exc) from None
        try:
            quoted, made_at = tracker.quote(operations, body.quantity, body.priority, body.due_at)
        except QuoteError as exc:
            raise HTTPException(422, detail=str(exc)) from None
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

    @app.post(
        "/api/v1/orders/import",
        status_code=201,
        response_model=OrdersImported,
        dependencies=[Supervisor],
        openapi_extra=_IMPORT_BODY,
    )
    async def import_orders(request: Request) -> OrdersImported:
        """CSV (`text/csv`) or JSON (`application/json`) from an ERP: all orders or none."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in ("text/csv", "application/json"):
            raise HTTPException(415, detail="send text/csv or application/json")
        data = await request.body()
        if len(data) > _IMPORT_MAX_BYTES:
            raise HTTPException(413, detail=f"imports are limited to {_IMPORT_MAX_BYTES} bytes")
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
                OrderCreated(
                    order_id=cmd.order_id,
                    access_token=parsed.tokens[cmd.order_id],
                    progress_url=f"/api/v1/orders/{cmd.order_id}/progress",
                )
                for _, cmd in parsed.orders
            ],
        )

    @app.get("/api/v1/orders/{order_id}/progress", response_model=OrderProgressPublic)
    def order_progress(
        order_id: str,
        authorization: Annotated[str | None, Header()] = None,
        token: Annotated[str | None, Query(description="for tracking links")] = None,
    ) -> OrderProgressPublic:
        given = token
        if authorization and authorization.lower().startswith("bearer "):
            given = authorization[7:].strip()
        with UnitOfWork(tracker.sessions) as uow:
            order = uow.get_order(order_id)
            # the hash is compared even for a missing order, so both answers take the same time
            if not token_matches(given, order.token_hash if order else None) or order is None:
                raise _NOT_FOUND
            planned = views.planned_operations(uow.session, order_id, tracker.plan)
            progress = views.order_progress(order, tracker.clock(), tracker.plan, planned)
            return OrderProgressPublic.model_validate(progress)

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
        with UnitOfWork(tracker.sessions) as uow:
            order = uow.get_order(cmd.order_id)
            assert order is not None
            planned = views.planned_operations(uow.session, cmd.order_id, tracker.plan)
            detail = views.order_detail(order, tracker.clock(), tracker.plan, planned)
            return OrderPublic.model_validate(detail)

    @app.post(
        "/api/v1/orders/{order_id}/cancel", response_model=OrderPublic, dependencies=[Supervisor]
    )
    def cancel_order(order_id: str, body: OrderCancel) -> OrderPublic:
        """Cancel an order that is not shipped; its open alert clears."""
        return _lifecycle(commands.CancelOrder(order_id, body.reason))

    @app.post(
        "/api/v1/orders/{order_id}/ship", response_model=OrderPublic, dependencies=[Supervisor]
    )
    def ship_order(order_id: str) -> OrderPublic:
        """A completed order left the plant."""
        return _lifecycle(commands.ShipOrder(order_id))

    @app.patch("/api/v1/orders/{order_id}", response_model=OrderPublic, dependencies=[Supervisor])
    def change_order(order_id: str, body: OrderChange) -> OrderPublic:
        """Change the quantity of an open order (never below the parts already made)."""
        return _lifecycle(commands.ChangeQuantity(order_id, body.quantity))

    @app.get("/api/v1/alerts", response_model=list[AlertPublic], dependencies=[Supervisor])
    def list_alerts(order_id: str | None = None, state: str | None = None) -> list[AlertPublic]:
        with UnitOfWork(tracker.sessions) as uow:
            rows = views.alerts(uow.session, order_id, state)
            return [AlertPublic.model_validate(a) for a in rows]

    @app.post(
        "/api/v1/alerts/{alert_id}/ack", response_model=AlertPublic, dependencies=[Supervisor]
    )
    def acknowledge_alert(alert_id: int, body: AlertAck) -> AlertPublic:
        """A supervisor has seen the alert: who, when (now) and an optional comment."""
        try:
            tracker.bus.handle(commands.AcknowledgeAlert(alert_id, body.by, body.comment))
        except AlertNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
        except AlertClosed as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
        with UnitOfWork(tracker.sessions) as uow:
            return AlertPublic.model_validate(views.alert(uow.session, alert_id))

    app.include_router(web.make_router(tracker, Supervisor))
    return app
