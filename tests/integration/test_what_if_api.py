"""POST /api/v1/what-if and P(on time) in the order detail, on a running tracker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_keys import SUPERVISOR, VIEWER, as_, create, make
from tracker.bootstrap import Tracker

pytestmark = pytest.mark.integration


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make(make_tracker)


def _order(client: TestClient, order_id: str, due_in_h: float) -> str:
    due = datetime.now(UTC) + timedelta(hours=due_in_h)
    ops = [{"seq": 10, "name": "turn", "machine": "lathe-1", "setup_s": 0, "cycle_s": 60}]
    return create(client, order_id, due_at=due.isoformat(), operations=ops, quantity=30)


def test_a_machine_down_makes_its_orders_late_without_touching_the_plan(
    client: TestClient, tracker: Tracker
) -> None:
    _order(client, "SO-1", 3)
    _order(client, "SO-2", 4)
    plan = tracker.planner.replan()
    body = {"machines_down": [{"machine": "lathe-1", "for_s": 6 * 3600}]}
    response = client.post("/api/v1/what-if", json=body, headers=as_(SUPERVISOR))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert {o["order_id"] for o in answer["changed"]} == {"SO-1", "SO-2"}
    for outcome in answer["changed"]:
        assert outcome["status_before"] == "on_track"
        assert outcome["status_after"] == "late"
        assert outcome["p_on_time_after"] == 0.0
    # nothing was booked: the real plan does not keep lathe-1 out for 6 h
    current = tracker.planner.current
    assert current is not None
    for order_id in ("SO-1", "SO-2"):
        assert current.etas[order_id] < plan.etas[order_id] + timedelta(minutes=5)


def test_a_rush_order_is_planned_with_the_others(client: TestClient, tracker: Tracker) -> None:
    _order(client, "SO-1", 3)
    tracker.planner.replan()
    rush = {
        "order_id": "RUSH-1",
        "product": "bracket",
        "quantity": 200,
        "priority": 5,
        "due_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "operations": [
            {"seq": 10, "name": "turn", "machine": "lathe-1", "setup_s": 0, "cycle_s": 60}
        ],
    }
    response = client.post("/api/v1/what-if", json={"rush_orders": [rush]}, headers=as_(SUPERVISOR))
    assert response.status_code == 200, response.text
    outcomes = {o["order_id"]: o for o in response.json()["orders"]}
    assert outcomes["RUSH-1"]["status_after"] == "late"  # 200 min of work due in 1 h
    assert outcomes["RUSH-1"]["p_on_time_before"] is None


def test_what_if_is_for_supervisors(client: TestClient) -> None:
    response = client.post("/api/v1/what-if", json={}, headers=as_(VIEWER))
    assert response.status_code == 403


def test_the_order_detail_gives_p_on_time_and_the_progress_p50_p90(
    client: TestClient, tracker: Tracker
) -> None:
    token = _order(client, "SO-1", 3)
    tracker.planner.replan()  # the forecast follows each plan
    detail = client.get("/api/v1/orders/SO-1", headers=as_(VIEWER)).json()
    assert 0.9 <= detail["p_on_time"] <= 1.0
    assert detail["eta_p50"] is not None and detail["eta_p50"] <= detail["eta_p90"]
    progress = client.get("/api/v1/orders/SO-1/progress", params={"token": token}).json()
    assert progress["eta_p90"] == detail["eta_p90"]
    assert "p_on_time" not in progress  # the customer gets dates, no internals


def test_a_change_that_names_no_machine_or_order_of_the_plant_is_a_422_naming_it(
    client: TestClient, tracker: Tracker
) -> None:
    _order(client, "SO-1", 3)
    tracker.planner.replan()
    body = {
        "machines_down": [{"machine": "lathe-1", "for_s": 60}, {"machine": "lathe-9", "for_s": 60}],
        "extra_shifts": [{"machine": "paint"}],
        "priorities": [{"order_id": "SO-404", "priority": 9}],
        "rush_orders": [
            {
                "order_id": "SO-1",
                "product": "bracket",
                "quantity": 1,
                "operations": [
                    {"seq": 10, "name": "turn", "machine": "lathe-1", "setup_s": 0, "cycle_s": 60}
                ],
            }
        ],
    }
    response = client.post("/api/v1/what-if", json=body, headers=as_(SUPERVISOR))
    assert response.status_code == 422, response.text
    problems = {tuple(p["loc"]): p["msg"] for p in response.json()["detail"]}
    assert problems == {
        ("body", "machines_down", 1, "machine"): "no machine 'lathe-9' in the plant",
        ("body", "extra_shifts", 0, "machine"): "no machine 'paint' in the plant",
        ("body", "priorities", 0, "order_id"): "no open order 'SO-404'",
        ("body", "rush_orders", 0, "order_id"): (
            "order 'SO-1' exists already: name the rush order anew"
        ),
    }
