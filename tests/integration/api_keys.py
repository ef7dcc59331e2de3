"""Keys of each role and order bodies shared by the API tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.waiting import wait_for
from tracker.auth.api_keys import hash_key
from tracker.bootstrap import Tracker

ADMIN = "admin-key-" + "a" * 20
SUPERVISOR = "supervisor-key-" + "s" * 20
VIEWER = "viewer-key-" + "v" * 20
KEYS = [
    {"name": "ann", "role": "supervisor", "key_sha256": hash_key(SUPERVISOR)},
    {"name": "board", "role": "viewer", "key_sha256": hash_key(VIEWER)},
]


def as_(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def make(make_tracker: Callable[..., Tracker], **settings: Any) -> Tracker:
    """A tracker with the admin key and a supervisor's and a viewer's."""
    return make_tracker(ADMIN, api_keys=KEYS, **settings)


def order_body(order_id: str = "SO-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order_id,
        "customer": "ACME",
        "product": "bracket",
        "quantity": 10,
        "due_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "operations": [
            {"seq": 10, "name": "cut", "machine": "saw-1", "setup_s": 60, "cycle_s": 30},
            {"seq": 20, "name": "weld", "machine": "weld-1", "setup_s": 60, "cycle_s": 40},
        ],
    }
    body.update(changes)
    return body


def create(client: TestClient, order_id: str = "SO-1", **changes: Any) -> str:
    """Create an order as a supervisor; its customer token."""
    response = client.post(
        "/api/v1/orders", json=order_body(order_id, **changes), headers=as_(SUPERVISOR)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


def wait_planned(tracker: Tracker, *order_ids: str, timeout_s: float = 15) -> None:
    """Until the current plan has these orders (a replan follows new orders by a debounce)."""

    def planned() -> bool:
        plan = tracker.plan
        return plan is not None and all(plan.eta(o) is not None for o in order_ids)

    wait_for(planned, f"orders {order_ids} planned", timeout_s)
