"""Failed API keys per client address: a burst, then 429 with Retry-After for every key from
that address (a correct one too) until a token is back; other addresses are not affected."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.unit.test_limits import Ticker
from tracker.auth.api_keys import ApiKeySpec, KeyRing, Role, hash_key
from tracker.entrypoints.auth import Access
from tracker.entrypoints.deps import ADMIN, VIEWER
from tracker.entrypoints.limits import TokenBuckets

GOOD = "viewer-key-" + "v" * 20


def _app(clock: Ticker) -> FastAPI:
    keys = KeyRing([ApiKeySpec(name="board", role=Role.VIEWER, key_sha256=hash_key(GOOD))])
    access = Access(keys, TokenBuckets(rate=10 / 60, burst=3, clock=clock))
    app = FastAPI()
    app.state.access = access

    @app.get("/thing", dependencies=[VIEWER])
    def thing() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/admin", dependencies=[ADMIN])
    def admin() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def _status(client: TestClient, key: str | None, path: str = "/thing") -> int:
    return client.get(path, headers={"X-API-Key": key} if key else {}).status_code


def test_past_the_burst_of_failures_every_key_from_that_address_is_429() -> None:
    clock = Ticker()
    app = _app(clock)
    client = TestClient(app, client=("10.0.0.1", 5000))
    assert [_status(client, f"guess-{i}") for i in range(3)] == [401, 401, 401]
    blocked = client.get("/thing", headers={"X-API-Key": "guess-4"})
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "6"
    assert blocked.json() == {"detail": "too many failed API keys from this address"}
    assert _status(client, GOOD) == 429  # else a 429 would only mean "wrong": no limit at all
    assert _status(client, None) == 401  # no key is no guess, and is not counted
    other = TestClient(app, client=("10.0.0.2", 5000))
    assert _status(other, GOOD) == 200
    clock.now = 6.0  # one token back (10 a minute): one more try
    assert _status(client, GOOD) == 200
    assert _status(client, "guess-5") == 401
    assert _status(client, GOOD) == 429


def test_a_correct_key_or_a_role_too_low_costs_no_token() -> None:
    client = TestClient(_app(Ticker()), client=("10.0.0.3", 5000))
    for _ in range(10):
        assert _status(client, GOOD) == 200
        assert _status(client, GOOD, "/admin") == 403
        assert _status(client, None) == 401
    assert [_status(client, f"guess-{i}") for i in range(4)] == [401, 401, 401, 429]
