"""Bodies that are not strict JSON (NaN, Infinity, 1e999, deep nesting) answer 422 naming the
problem on every route that takes one, never a 500, and store nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_keys import SUPERVISOR, as_, create, make
from tracker.bootstrap import Tracker
from tracker.entrypoints.strict_json import MAX_DEPTH

pytestmark = pytest.mark.integration

ROUTES = [
    ("POST", "/api/v1/orders"),
    ("POST", "/api/v1/quotes"),
    ("PATCH", "/api/v1/orders/SO-1"),
    ("POST", "/api/v1/orders/SO-1/cancel"),
    ("POST", "/api/v1/alerts/1/ack"),
]
DEEP = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
BODIES = [
    (b'{"quantity": NaN}', "NaN is not valid JSON"),
    (b'{"quantity": 5, "extra": Infinity}', "Infinity is not valid JSON"),
    (b'{"quantity": -Infinity}', "-Infinity is not valid JSON"),
    (b'{"quantity": 1e999}', "1e999 is out of range"),
    (DEEP, f"nested deeper than {MAX_DEPTH} levels"),
]


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make(make_tracker)


def _send(client: TestClient, method: str, path: str, body: bytes) -> tuple[int, str]:
    headers = {**as_(SUPERVISOR), "Content-Type": "application/json"}
    response = client.request(method, path, content=body, headers=headers)
    return response.status_code, response.text


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_nan_infinity_and_deep_nesting_are_a_422_naming_the_problem(
    client: TestClient, method: str, path: str
) -> None:
    create(client, "SO-1")
    for body, named in BODIES:
        status, text = _send(client, method, path, body)
        assert status == 422, (body[:40], text)
        assert named in text and '"type":"json_invalid"' in text
    assert client.get("/api/v1/orders/SO-1", headers=as_(SUPERVISOR)).json()["quantity"] == 10


def test_an_order_with_nan_in_its_routing_is_refused_and_not_stored(client: TestClient) -> None:
    body = (
        b'{"order_id": "SO-2", "customer": "ACME", "product": "p", "quantity": 1,'
        b' "due_at": "2030-01-01T00:00:00Z", "operations": [{"seq": 10, "name": "cut",'
        b' "machine": "saw-1", "setup_s": NaN, "cycle_s": 30}]}'
    )
    status, text = _send(client, "POST", "/api/v1/orders", body)
    assert status == 422 and "NaN is not valid JSON" in text
    assert client.get("/api/v1/orders/SO-2", headers=as_(SUPERVISOR)).status_code == 404


@pytest.mark.parametrize(
    ("body", "named"), [*BODIES, (b"[" * 10_000 + b"]" * 10_000, "nested deeper")]
)
def test_the_import_names_the_problem_in_its_own_shape(
    client: TestClient, body: bytes, named: str
) -> None:
    status, text = _send(client, "POST", "/api/v1/orders/import", body)
    assert status == 422 and named in text
    assert '"message":"nothing was imported: not JSON: ' in text
