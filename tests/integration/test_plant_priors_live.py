"""Per-machine priors from the plant file, live on SQLite and PostgreSQL: the same order on a
machine declared fragile gets a lower P(on time) than on a robust one, in the order detail and
in what-if."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_keys import SUPERVISOR, VIEWER, as_, create, make
from tracker.bootstrap import Tracker

pytestmark = pytest.mark.integration

PLANT = """
machines:
  - id: press-1       # fails about every hour, and a repair takes 4 h
    reliability: {mtbf_h: 1, mttr_min: 240}
  - laser-1
work_centers:
  laser: {machines: [laser-1], reliability: {mtbf_h: 2000, mttr_min: 10}}
"""


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], tmp_path: Path) -> Tracker:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT, encoding="utf-8")
    # the settings' prior, which neither machine keeps: a failure every 8 h, 30 min repairs
    return make(make_tracker, plant_file=plant, foresight_samples=200)


def _order(client: TestClient, order_id: str, machine: str) -> None:
    """2 h of work, due in 4 h."""
    due = datetime.now(UTC) + timedelta(hours=4)
    ops = [{"seq": 10, "name": "form", "machine": machine, "setup_s": 0, "cycle_s": 240}]
    create(client, order_id, due_at=due.isoformat(), operations=ops, quantity=30)


def test_an_order_on_a_fragile_machine_is_less_likely_on_time_than_on_a_robust_one(
    client: TestClient, tracker: Tracker
) -> None:
    _order(client, "SO-PRESS", "press-1")
    _order(client, "SO-LASER", "laser-1")
    tracker.planner.replan()  # the forecast follows each plan
    odds = {
        order_id: client.get(f"/api/v1/orders/{order_id}", headers=as_(VIEWER)).json()["p_on_time"]
        for order_id in ("SO-PRESS", "SO-LASER")
    }
    # press-1: 2 failures expected in 2 h, each repair 4 h on average (e^-2 = 0.14 with none)
    assert odds["SO-PRESS"] < 0.4, odds
    assert odds["SO-LASER"] > 0.95, odds
    detail = client.get("/api/v1/orders/SO-PRESS", headers=as_(VIEWER)).json()
    assert "press-1 fails about every 1.0 h" in detail["p_on_time_reason"]

    response = client.post("/api/v1/what-if", json={}, headers=as_(SUPERVISOR))
    assert response.status_code == 200, response.text
    what_if = {o["order_id"]: o["p_on_time_before"] for o in response.json()["orders"]}
    assert what_if["SO-PRESS"] < 0.4 < 0.95 < what_if["SO-LASER"], what_if
