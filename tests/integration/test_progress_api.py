"""The customer's progress: ETag and 304, caching headers, token rotation and revocation, the
same 404 for every miss, and rate limits per token and per client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_keys import SUPERVISOR, VIEWER, as_, create, make, wait_planned
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.views import orders as views

pytestmark = pytest.mark.integration

_NOT_FOUND = (404, '{"detail":"order not found"}')


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    tracker = make(make_tracker, progress_max_age_s=7)
    fixed = datetime.now(UTC)
    tracker.clock = lambda: fixed  # answers computed at one instant: the ETA does not creep
    return tracker


def _progress(
    client: TestClient, token: str, etag: str | None = None
) -> tuple[int, dict[str, str], str]:
    headers = {"Authorization": f"Bearer {token}"}
    if etag is not None:
        headers["If-None-Match"] = etag
    response = client.get("/api/v1/orders/SO-1/progress", headers=headers)
    return response.status_code, dict(response.headers), response.text


def test_the_same_answer_is_304_and_a_change_gives_a_new_etag(
    tracker: Tracker, client: TestClient
) -> None:
    token = create(client)
    wait_planned(tracker, "SO-1")
    status, headers, body = _progress(client, token)
    assert status == 200 and headers["cache-control"] == "private, max-age=7"
    etag = headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert '"last_update"' in body

    status, headers, body = _progress(client, token, etag)
    assert (status, body, headers["etag"]) == (304, "", etag)
    assert headers["cache-control"] == "private, max-age=7"
    assert _progress(client, token, f'"other", W/{etag}')[0] == 304
    assert _progress(client, token, '"other"')[0] == 200

    changed = client.patch("/api/v1/orders/SO-1", json={"quantity": 4}, headers=as_(SUPERVISOR))
    assert changed.status_code == 200
    status, headers, body = _progress(client, token, etag)
    assert status == 200 and headers["etag"] != etag and '"quantity":4' in body


def test_last_update_follows_the_orders_lifecycle(tracker: Tracker, client: TestClient) -> None:
    token = create(client)
    first = client.get(f"/api/v1/orders/SO-1/progress?token={token}").json()
    assert first["last_update"] == first["released_at"]
    client.post("/api/v1/orders/SO-1/cancel", json={"reason": "no"}, headers=as_(SUPERVISOR))
    after = client.get(f"/api/v1/orders/SO-1/progress?token={token}").json()
    assert after["last_update"] == after["cancelled_at"] > first["last_update"]


def test_wrong_token_other_orders_token_and_missing_order_are_the_same_404(
    client: TestClient,
) -> None:
    token_a = create(client, "SO-A")
    token_b = create(client, "SO-B")
    answers = [
        client.get("/api/v1/orders/SO-A/progress", headers={"Authorization": f"Bearer {token_b}"}),
        client.get(f"/api/v1/orders/SO-B/progress?token={token_a}"),
        client.get("/api/v1/orders/SO-A/progress", headers={"Authorization": "Bearer nope"}),
        client.get("/api/v1/orders/SO-9/progress", headers={"Authorization": f"Bearer {token_a}"}),
        client.get("/api/v1/orders/SO-A/progress", headers=as_(SUPERVISOR)),  # a key is no token
    ]
    assert {(r.status_code, r.text) for r in answers} == {_NOT_FOUND}


def test_every_404_reads_the_tokens_hash_even_when_the_orders_answer_is_kept(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = create(client, "SO-A")
    create(client, "SO-B")
    assert client.get(f"/api/v1/orders/SO-A/progress?token={token}").status_code == 200
    lookups: list[str] = []
    read = views.order_token_hash

    def counted(session: Any, order_id: str) -> str | None:
        lookups.append(order_id)
        return read(session, order_id)

    monkeypatch.setattr(views, "order_token_hash", counted)
    # the customer's poll with no news is answered from memory...
    assert client.get(f"/api/v1/orders/SO-A/progress?token={token}").status_code == 200
    assert lookups == []
    # ...but no miss is: a kept answer, an order never polled, no order, the same work each
    for order_id in ("SO-A", "SO-B", "SO-9"):
        answer = client.get(f"/api/v1/orders/{order_id}/progress?token=wrong")
        assert (answer.status_code, answer.text) == _NOT_FOUND
    assert lookups == ["SO-A", "SO-B", "SO-9"]


def test_rotating_gives_a_new_token_and_the_old_one_stops_working(client: TestClient) -> None:
    old = create(client)
    rotated = client.post("/api/v1/orders/SO-1/token", headers=as_(SUPERVISOR))
    assert rotated.status_code == 200
    new = rotated.json()["access_token"]
    assert new != old and rotated.json()["progress_url"] == "/api/v1/orders/SO-1/progress"
    assert client.get(f"/api/v1/orders/SO-1/progress?token={old}").status_code == 404
    assert client.get(f"/api/v1/orders/SO-1/progress?token={new}").status_code == 200
    assert client.post("/api/v1/orders/SO-9/token", headers=as_(SUPERVISOR)).status_code == 404


def test_revoking_stops_every_token_until_a_new_one_is_made(client: TestClient) -> None:
    token = create(client)
    revoked = client.delete("/api/v1/orders/SO-1/token", headers=as_(SUPERVISOR))
    assert revoked.status_code == 204
    for given in (token, "", "-" * 64):
        answer = client.get(f"/api/v1/orders/SO-1/progress?token={given}")
        assert (answer.status_code, answer.text) == _NOT_FOUND
    assert client.delete("/api/v1/orders/SO-9/token", headers=as_(SUPERVISOR)).status_code == 404
    new = client.post("/api/v1/orders/SO-1/token", headers=as_(SUPERVISOR)).json()["access_token"]
    assert client.get(f"/api/v1/orders/SO-1/progress?token={new}").status_code == 200


@pytest.fixture
def limited(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make(
        make_tracker,
        progress_rate_per_token=0.01,
        progress_burst_per_token=3,
        progress_rate_per_ip=0.01,
        progress_burst_per_ip=6,
    )


def test_a_token_polling_too_fast_gets_429_with_retry_after(limited: Tracker) -> None:
    from tracker.entrypoints.api import create_app

    with TestClient(create_app(limited)) as client:
        token = create(client)
        codes = [
            client.get(f"/api/v1/orders/SO-1/progress?token={token}").status_code for _ in range(3)
        ]
        assert codes == [200, 200, 200]
        limited_answer = client.get(f"/api/v1/orders/SO-1/progress?token={token}")
        assert limited_answer.status_code == 429
        assert 1 <= int(limited_answer.headers["Retry-After"]) <= 100
        # the same client with another token still has room, until its address runs out
        codes = [client.get("/api/v1/orders/SO-1/progress?token=x").status_code for _ in range(3)]
        assert codes == [404, 404, 429]
        metrics = client.get("/metrics").text
        assert 'shopfloor_tracker_progress_requests_total{outcome="rate_limited"} 2.0' in metrics
        assert 'shopfloor_tracker_progress_requests_total{outcome="ok"} 3.0' in metrics
        # supervisors are not limited by the customers' buckets
        assert client.get("/api/v1/orders", headers=as_(VIEWER)).status_code == 200


def test_a_machine_event_shows_in_the_next_poll(tracker: Tracker, client: TestClient) -> None:
    """Answers are kept between polls, but any commit that touches the order drops them."""
    token = create(client)
    wait_planned(tracker, "SO-1")
    first = client.get("/api/v1/orders/SO-1/progress", headers={"Authorization": f"Bearer {token}"})
    order = first.json()
    machine, seq = order["operations"][0]["machine"], order["operations"][0]["seq"]

    tracker.bus.handle(commands.StartJob(machine, "e1", "SO-1", seq, tracker.clock()))
    after = client.get("/api/v1/orders/SO-1/progress", headers={"Authorization": f"Bearer {token}"})

    assert after.json()["operations"][0]["state"] == "running"
    assert after.headers["etag"] != first.headers["etag"]
