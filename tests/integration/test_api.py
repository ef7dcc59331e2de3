"""The tracker's HTTP API on a real database and broker: access rules and validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_keys import order_body
from tracker.bootstrap import Tracker

pytestmark = pytest.mark.integration

KEY = "supervisor-key-" + "x" * 16


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make_tracker(KEY)


def _create(client: TestClient, order_id: str = "SO-1") -> str:
    response = client.post("/api/v1/orders", json=order_body(order_id), headers={"X-API-Key": KEY})
    assert response.status_code == 201, response.text
    assert response.json()["progress_url"] == f"/api/v1/orders/{order_id}/progress"
    return str(response.json()["access_token"])


def test_customer_reads_progress_with_the_orders_token(client: TestClient) -> None:
    token = _create(client)
    response = client.get(
        "/api/v1/orders/SO-1/progress", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "released" and body["percent_complete"] == 0.0
    assert body["on_time"] is True and body["current_operation"] == "cut"
    assert [(op["seq"], op["state"], op["quantity"]) for op in body["operations"]] == [
        (10, "active", 10),
        (20, "pending", 10),
    ]
    by_link = client.get(f"/api/v1/orders/SO-1/progress?token={token}")
    assert by_link.status_code == 200


def test_wrong_token_other_orders_token_and_missing_order_look_the_same(
    client: TestClient,
) -> None:
    _create(client, "SO-A")
    token_b = _create(client, "SO-B")
    answers = [
        client.get("/api/v1/orders/SO-A/progress", headers={"Authorization": "Bearer nope"}),
        client.get("/api/v1/orders/SO-A/progress", headers={"Authorization": f"Bearer {token_b}"}),
        client.get("/api/v1/orders/SO-A/progress"),
        client.get(
            "/api/v1/orders/SO-404/progress", headers={"Authorization": f"Bearer {token_b}"}
        ),
    ]
    assert {(r.status_code, r.text) for r in answers} == {(404, '{"detail":"order not found"}')}


def test_supervisor_endpoints_need_the_api_key(client: TestClient) -> None:
    assert client.post("/api/v1/orders", json=order_body()).status_code == 401
    bad = client.post("/api/v1/orders", json=order_body(), headers={"X-API-Key": KEY + "x"})
    assert bad.status_code == 401
    assert client.get("/api/v1/alerts").status_code == 401
    assert client.get("/api/v1/alerts", headers={"X-API-Key": KEY}).json() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"due_at": "2026-03-02T08:00:00"}, "due_at"),  # no offset
        ({"quantity": 0}, "quantity"),
        ({"operations": []}, "operations"),
        ({"order_id": "bad id/1"}, "order_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_orders_get_422_naming_the_field_and_nothing_is_stored(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/orders", json=order_body(**change), headers={"X-API-Key": KEY})
    assert response.status_code == 422
    assert any(field in detail["loc"] for detail in response.json()["detail"]), response.text
    good = client.post("/api/v1/orders", json=order_body(), headers={"X-API-Key": KEY})
    assert good.status_code == 201


def test_repeated_operation_numbers_are_refused(client: TestClient) -> None:
    ops = order_body()["operations"]
    ops[1]["seq"] = 10
    response = client.post(
        "/api/v1/orders", json=order_body(operations=ops), headers={"X-API-Key": KEY}
    )
    assert response.status_code == 422 and "repeats" in response.text


def test_duplicate_order_id_is_a_conflict(client: TestClient) -> None:
    _create(client)
    again = client.post("/api/v1/orders", json=order_body(), headers={"X-API-Key": KEY})
    assert again.status_code == 409


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
