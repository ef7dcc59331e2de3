"""New order ids keep to a safe set (no `..`, no leading dot or dash), on create and import;
the demo's ids fit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_keys import SUPERVISOR, as_, make, order_body
from tracker.bootstrap import Tracker

pytestmark = pytest.mark.integration

RULE = (
    "an order id is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or a digit,"
    " with no '..'"
)
BAD = ["..", ".", "a..b", ".hidden", "-x", "_x", "a/b", "a b", "x" * 65, "SO-1\u00e9"]
GOOD = ["SO-1001", "SO-1001-r2", "j007", "ERP_4711.2", "a.", "A" * 64]


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make(make_tracker)


@pytest.mark.parametrize("order_id", BAD)
def test_an_unsafe_order_id_is_a_422_naming_the_rule(client: TestClient, order_id: str) -> None:
    response = client.post("/api/v1/orders", json=order_body(order_id), headers=as_(SUPERVISOR))
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "order_id"] and RULE in error["msg"]


def test_safe_order_ids_are_created_and_readable(client: TestClient) -> None:
    for order_id in GOOD:
        made = client.post("/api/v1/orders", json=order_body(order_id), headers=as_(SUPERVISOR))
        assert made.status_code == 201, (order_id, made.text)
        token = made.json()["access_token"]
        progress = client.get(f"/api/v1/orders/{order_id}/progress?token={token}")
        assert progress.status_code == 200 and progress.json()["order_id"] == order_id


def test_the_import_names_the_rule_for_each_bad_row(client: TestClient) -> None:
    rows = [order_body("SO-1"), order_body(".."), order_body("-x")]
    response = client.post("/api/v1/orders/import", json=rows, headers=as_(SUPERVISOR))
    assert response.status_code == 422
    errors = response.json()["detail"]["errors"]
    assert [(e["row"], e["field"], e["order_id"]) for e in errors] == [
        (2, "order_id", ".."),
        (3, "order_id", "-x"),
    ]
    assert all(RULE in e["reason"] for e in errors)
