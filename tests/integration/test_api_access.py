"""Who may call what: no key 401, a key of too low a role 403, admin passes everything."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_keys import ADMIN, SUPERVISOR, VIEWER, as_, create, make, order_body
from tracker.bootstrap import Tracker

pytestmark = pytest.mark.integration

READS = [
    "/api/v1/orders",
    "/api/v1/orders/SO-1",
    "/api/v1/alerts",
    "/api/v1/machines",
    "/api/v1/schedule",
]
# (method, path, body): what a supervisor may do and a viewer may not
WRITES: list[tuple[str, str, object]] = [
    ("POST", "/api/v1/orders", order_body("SO-2")),
    ("PATCH", "/api/v1/orders/SO-1", {"quantity": 5}),
    ("POST", "/api/v1/orders/SO-1/cancel", {"reason": "no"}),
    ("POST", "/api/v1/orders/SO-1/ship", None),
    ("POST", "/api/v1/orders/SO-1/token", None),
    ("DELETE", "/api/v1/orders/SO-1/token", None),
    ("POST", "/api/v1/alerts/1/ack", {"by": "ann"}),
]


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make(make_tracker)


def _call(client: TestClient, method: str, path: str, body: object, key: str | None) -> int:
    headers = as_(key) if key else {}
    return client.request(method, path, json=body, headers=headers).status_code


def test_no_key_or_a_bad_key_is_401_with_www_authenticate(client: TestClient) -> None:
    create(client)
    for path in READS:
        for headers in ({}, as_(VIEWER + "x"), as_("")):
            response = client.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.headers["WWW-Authenticate"] == "X-API-Key"
    for method, path, body in WRITES:
        assert _call(client, method, path, body, None) == 401, path


def test_a_viewer_reads_everything_and_changes_nothing(client: TestClient) -> None:
    create(client)
    for path in READS:
        assert client.get(path, headers=as_(VIEWER)).status_code == 200, path
    for method, path, body in WRITES:
        response = client.request(method, path, json=body, headers=as_(VIEWER))
        assert response.status_code == 403, (path, response.text)
        assert "supervisor" in response.json()["detail"]
    imported = client.post(
        "/api/v1/orders/import",
        content=b"[]",
        headers={**as_(VIEWER), "content-type": "application/json"},
    )
    assert imported.status_code == 403
    order = client.get("/api/v1/orders/SO-1", headers=as_(VIEWER)).json()
    assert (order["quantity"], order["status"]) == (10, "released")  # nothing changed


def test_a_viewer_may_ask_for_a_quote(client: TestClient) -> None:
    quote = {"product": "x", "quantity": 1, "operations": order_body()["operations"]}
    assert client.post("/api/v1/quotes", json=quote, headers=as_(VIEWER)).status_code not in (
        401,
        403,
    )


@pytest.mark.parametrize("key", [SUPERVISOR, ADMIN])
def test_supervisors_and_admins_may_change_orders(client: TestClient, key: str) -> None:
    create(client)
    for method, path, body in WRITES:
        status = _call(client, method, path, body, key)
        # past the access check: done, or refused by the order's state (409), or no alert (404)
        assert status in (200, 201, 204, 404, 409), (path, status)
    for path in READS:
        assert client.get(path, headers=as_(key)).status_code == 200, path


def test_the_event_stream_needs_a_key(client: TestClient) -> None:
    # a stream that is let in never ends: only refusals are checked here
    for headers in ({}, as_(VIEWER + "x")):
        response = client.get("/api/v1/events", headers=headers)
        assert response.status_code == 401, headers


def test_failed_keys_past_the_configured_burst_are_429_for_that_address(
    make_tracker: Callable[..., Tracker],
) -> None:
    from tracker.entrypoints.api import create_app

    tracker = make(make_tracker, api_key_failures_per_min=1, api_key_failures_burst=3)
    with TestClient(create_app(tracker)) as client:
        codes = [
            client.get("/api/v1/orders", headers=as_(f"guess-{i}")).status_code for i in range(3)
        ]
        assert codes == [401, 401, 401]
        for key in ("guess-4", VIEWER):
            blocked = client.get("/api/v1/orders", headers=as_(key))
            assert blocked.status_code == 429
            assert 1 <= int(blocked.headers["Retry-After"]) <= 60
        assert client.get("/healthz").status_code == 200  # routes without a key are not limited
