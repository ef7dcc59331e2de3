"""The order lifecycle (cancel, ship, quantity changes) through the bus and the HTTP API, on
real SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.clock import T0, Clock
from tracker.adapters.database import make_engine
from tracker.adapters.migrations import alembic_config
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.domain.model import DomainError, Order, OrderStatus
from tracker.service_layer.bus import MessageBus
from tracker.service_layer.handlers import OrderNotFound
from tracker.views.alerts import alerts
from tracker.views.machines import unassigned_events

pytestmark = pytest.mark.integration

KEY = "supervisor-key-" + "y" * 16


def _create(bus: MessageBus, order_id: str = "SO-1", due: timedelta = timedelta(hours=2)) -> None:
    bus.handle(
        commands.CreateOrder(
            order_id=order_id,
            customer="ACME",
            product="bracket",
            quantity=10,
            due_at=T0 + due,
            token_hash="a" * 64,
            operations=(
                commands.OperationSpec(10, "cut", "saw-1", 0, 60.0),
                commands.OperationSpec(20, "weld", "weld-1", 0, 60.0),
            ),
        )
    )


def _order(bus: MessageBus, order_id: str = "SO-1") -> Order:
    with SqlUnitOfWork(bus.units.sessions) as uow:
        order = uow.get_order(order_id)
        assert order is not None
        return order


def _cycles(bus: MessageBus, machine: str, seq: int, parts: int, clock: Clock) -> None:
    for n in range(1, parts + 1):
        clock.now += timedelta(seconds=60)
        bus.handle(
            commands.RecordCycle(machine, f"{machine}-c{n}", n, clock.now, None, "SO-1", seq)
        )


def test_a_cancelled_orders_alert_clears_and_it_leaves_the_periodic_check(
    bus: MessageBus, clock: Clock
) -> None:
    _create(bus, due=timedelta(minutes=5))  # 20 min of work due in 5: late at once
    [raised] = _alerts(bus)
    assert raised["state"] == "active"

    clock.now = T0 + timedelta(minutes=1)
    bus.handle(commands.CancelOrder("SO-1", "customer withdrew"))

    [cleared] = _alerts(bus)
    assert cleared["state"] == "cleared" and cleared["version"] == raised["version"] + 1
    assert cleared["reasons"] == ["order cancelled (2026-03-02 08:01Z): customer withdrew"]
    order = _order(bus)
    assert order.status is OrderStatus.CANCELLED
    assert (order.cancelled_at, order.cancel_reason) == (clock.now, "customer withdrew")
    with SqlUnitOfWork(bus.units.sessions) as uow:
        assert uow.open_order_ids() == []
        assert uow.open_orders() == []

    clock.now = T0 + timedelta(hours=5)
    bus.handle(commands.CheckOrders())
    assert [a["version"] for a in _alerts(bus)] == [cleared["version"]]  # nothing new


def test_events_for_a_cancelled_order_are_kept_unassigned_with_the_reason(
    bus: MessageBus, clock: Clock
) -> None:
    _create(bus)
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, T0))
    _cycles(bus, "saw-1", 10, 2, clock)
    bus.handle(commands.CancelOrder("SO-1", "wrong drawing"))

    clock.now += timedelta(minutes=1)
    bus.handle(commands.RecordCycle("saw-1", "saw-1-c3", 3, clock.now))  # the bound job
    bus.handle(commands.StartJob("weld-1", "j2", "SO-1", 20, clock.now))

    assert _order(bus).operations[0].good_qty == 2
    with SqlUnitOfWork(bus.units.sessions) as uow:
        kept = [
            (e["type"], e["reason"])
            for machine in ("saw-1", "weld-1")
            for e in unassigned_events(uow.session, machine)
        ]
    assert kept == [("cycle", "order SO-1 is cancelled"), ("job_start", "order SO-1 is cancelled")]


def test_lowering_the_quantity_to_what_is_made_completes_and_ships(
    bus: MessageBus, clock: Clock
) -> None:
    _create(bus)
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, T0))
    _cycles(bus, "saw-1", 10, 3, clock)
    bus.handle(commands.StartJob("weld-1", "j2", "SO-1", 20, clock.now))
    _cycles(bus, "weld-1", 20, 3, clock)

    bus.handle(commands.ChangeQuantity("SO-1", 3))
    order = _order(bus)
    assert order.status is OrderStatus.COMPLETED and order.completed_at == clock.now
    assert [op.quantity for op in order.operations] == [3, 3]

    clock.now += timedelta(hours=1)
    bus.handle(commands.ShipOrder("SO-1"))
    shipped = _order(bus)
    assert shipped.status is OrderStatus.SHIPPED and shipped.shipped_at == clock.now
    assert (shipped.released_at, shipped.started_at) == (T0, T0)


def test_illegal_transitions_change_nothing(bus: MessageBus, clock: Clock) -> None:
    _create(bus)
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, T0))
    _cycles(bus, "saw-1", 10, 4, clock)

    with pytest.raises(DomainError, match="only a completed order ships"):
        bus.handle(commands.ShipOrder("SO-1"))
    with pytest.raises(DomainError, match="below the 4 parts already made"):
        bus.handle(commands.ChangeQuantity("SO-1", 3))
    with pytest.raises(OrderNotFound):
        bus.handle(commands.CancelOrder("SO-404", "x"))

    order = _order(bus)
    assert (order.status, order.quantity, order.shipped_at) == (OrderStatus.IN_PROGRESS, 10, None)


def _alerts(bus: MessageBus) -> list[dict[str, Any]]:
    with SqlUnitOfWork(bus.units.sessions) as uow:
        return alerts(uow.session)


def test_orders_stored_before_the_lifecycle_get_their_known_times(empty_database_url: str) -> None:
    cfg = alembic_config(empty_database_url)
    command.upgrade(cfg, "0003")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO orders (order_id, customer, product, quantity, priority, due_at,"
                    " created_at, status, schedule_status, schedule_reasons, token_hash) VALUES"
                    " (:id, 'ACME', 'p', 1, 0, :t, :t, :status, 'on_track', '[]', 'h')"
                ),
                [
                    {"id": "SO-R", "t": T0, "status": "received"},
                    {"id": "SO-P", "t": T0, "status": "in_progress"},
                ],
            )
            conn.execute(
                text(
                    "INSERT INTO operations (order_id, seq, name, machine, setup_s, cycle_s,"
                    " quantity, good_qty, state, started_at, scrap_qty) VALUES"
                    " ('SO-P', 10, 'cut', 'saw-1', 0, 1, 1, 0, 'running', :s, 0)"
                ),
                {"s": T0 + timedelta(minutes=7)},
            )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT order_id, released_at, started_at FROM orders ORDER BY order_id")
            ).all()
    finally:
        engine.dispose()
    found = {r[0]: (r[1] is not None, r[2] is not None) for r in rows}
    assert found == {"SO-P": (True, True), "SO-R": (False, False)}


# --- HTTP --------------------------------------------------------------------------------------


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make_tracker(KEY)


def _post_order(client: TestClient, order_id: str = "SO-1") -> str:
    body = {
        "order_id": order_id,
        "customer": "ACME",
        "product": "bracket",
        "quantity": 10,
        "due_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "operations": [
            {"seq": 10, "name": "cut", "machine": "saw-1", "setup_s": 60, "cycle_s": 30}
        ],
    }
    response = client.post("/api/v1/orders", json=body, headers={"X-API-Key": KEY})
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


_AUTH = {"X-API-Key": KEY}


def test_supervisor_changes_the_quantity_then_cancels_and_the_customer_sees_it(
    client: TestClient,
) -> None:
    token = _post_order(client)

    changed = client.patch("/api/v1/orders/SO-1", json={"quantity": 4}, headers=_AUTH)
    assert changed.status_code == 200, changed.text
    assert changed.json()["quantity"] == 4 and changed.json()["customer"] == "ACME"
    assert [op["quantity"] for op in changed.json()["operations"]] == [4]

    cancelled = client.post(
        "/api/v1/orders/SO-1/cancel", json={"reason": "customer withdrew"}, headers=_AUTH
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "customer withdrew")
    assert body["current_operation"] is None

    progress = client.get(f"/api/v1/orders/SO-1/progress?token={token}").json()
    assert progress["status"] == "cancelled"
    assert progress["cancelled_at"] == body["cancelled_at"] is not None
    assert progress["released_at"] is not None and progress["created_at"] is not None
    assert progress["started_at"] is None and progress["shipped_at"] is None
    assert "cancel_reason" not in progress


def test_illegal_transitions_answer_409_with_the_reason(client: TestClient) -> None:
    _post_order(client)

    ship = client.post("/api/v1/orders/SO-1/ship", headers=_AUTH)
    assert ship.status_code == 409
    assert ship.json()["detail"] == "order SO-1 is released: only a completed order ships"

    client.post("/api/v1/orders/SO-1/cancel", json={"reason": "x"}, headers=_AUTH)
    again = client.post("/api/v1/orders/SO-1/cancel", json={"reason": "y"}, headers=_AUTH)
    assert again.status_code == 409 and "it cannot be cancelled" in again.json()["detail"]
    patch = client.patch("/api/v1/orders/SO-1", json={"quantity": 5}, headers=_AUTH)
    assert patch.status_code == 409 and "cannot change its quantity" in patch.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/orders/SO-404/cancel", {"reason": "x"}),
        ("POST", "/api/v1/orders/SO-404/ship", None),
        ("PATCH", "/api/v1/orders/SO-404", {"quantity": 3}),
    ],
)
def test_unknown_orders_answer_404_and_the_key_is_needed(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    assert client.request(method, path, json=body).status_code == 401
    response = client.request(method, path, json=body, headers=_AUTH)
    assert response.status_code == 404
    assert response.json()["detail"] == "order SO-404 not found"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/orders/SO-1/cancel", {}, "reason"),
        ("POST", "/api/v1/orders/SO-1/cancel", {"reason": "  "}, "reason"),
        ("PATCH", "/api/v1/orders/SO-1", {"quantity": 0}, "quantity"),
        ("PATCH", "/api/v1/orders/SO-1", {"quantity": "many"}, "quantity"),
        ("PATCH", "/api/v1/orders/SO-1", {"quantity": 3, "due_at": "x"}, "due_at"),
    ],
)
def test_bad_bodies_answer_422_naming_the_field(
    client: TestClient, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    _post_order(client)

    response = client.request(method, path, json=body, headers=_AUTH)

    assert response.status_code == 422
    assert any(field in d["loc"] for d in response.json()["detail"]), response.text
    assert client.get("/api/v1/alerts", headers=_AUTH).status_code == 200
