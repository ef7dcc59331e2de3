"""HTTP API: customers read their order's progress with its token; supervisors use an API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Query, status

from tracker import views
from tracker.adapters.database import UnitOfWork
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.domain.model import DomainError
from tracker.service_layer.handlers import OrderExists
from tracker.tokens import hash_token, key_matches, new_token, token_matches

from .schemas import AlertPublic, OrderCreate, OrderCreated, OrderProgressPublic

_NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, detail="order not found")


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

    @app.post(
        "/api/v1/orders", status_code=201, response_model=OrderCreated, dependencies=[Supervisor]
    )
    def create_order(body: OrderCreate) -> OrderCreated:
        token = new_token()
        cmd = commands.CreateOrder(
            order_id=body.order_id,
            customer=body.customer,
            product=body.product,
            quantity=body.quantity,
            due_at=body.due_at,
            priority=body.priority,
            token_hash=hash_token(token),
            operations=tuple(
                commands.OperationSpec(o.seq, o.name, o.machine, o.setup_s, o.cycle_s)
                for o in body.operations
            ),
        )
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
            return OrderProgressPublic.model_validate(views.order_progress(order, tracker.clock()))

    @app.get("/api/v1/alerts", response_model=list[AlertPublic], dependencies=[Supervisor])
    def list_alerts(order_id: str | None = None) -> list[AlertPublic]:
        with UnitOfWork(tracker.sessions) as uow:
            return [AlertPublic.model_validate(a) for a in views.alerts(uow.session, order_id)]

    return app
