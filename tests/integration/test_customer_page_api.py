"""What the customer page reads: the plant (name, logo, time zone) with no key, and an order's
delay in customer words with an ETA range while its machine is down; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.clock import Clock
from tests.integration.api_keys import VIEWER, as_, create, make, wait_planned
from tests.waiting import wait_for
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.service_layer.bus import Changes

pytestmark = pytest.mark.integration

LOGO = b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>"


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], tmp_path: Path) -> Tracker:
    plant = tmp_path / "plant.yaml"
    plant.write_text("timezone: Europe/Berlin\n", encoding="utf-8")
    logo = tmp_path / "logo.svg"
    logo.write_bytes(LOGO)
    tracker = make(
        make_tracker,
        plant_file=plant,
        plant_name="Werk Süd",
        plant_logo=logo,
        down_allowance_s=1800,
    )
    clock = Clock()  # answers computed at an instant the test moves: the ETA does not creep
    clock.now = datetime.now(UTC).replace(second=5, microsecond=0)
    tracker.clock = clock
    return tracker


def test_the_plant_is_public_and_tells_only_its_name_logo_and_zone(client: TestClient) -> None:
    plant = client.get("/api/v1/plant")
    assert plant.status_code == 200
    assert plant.json() == {
        "name": "Werk Süd",
        "logo_url": "/plant/logo",
        "timezone": "Europe/Berlin",
    }
    logo = client.get("/plant/logo")
    assert (logo.status_code, logo.content) == (200, LOGO)
    assert logo.headers["content-type"] == "image/svg+xml"
    assert "default-src 'none'" in logo.headers["content-security-policy"]
    # the pages carry the zone, so every time on them reads in it
    for page in ("/track/SO-1", "/board"):
        text = client.get(page).text
        assert '<meta name="plant-timezone" content="Europe/Berlin">' in text
    assert client.get("/static/i18n.js").headers["content-type"].startswith("text/javascript")


def test_a_breakdown_is_told_in_customer_words_with_an_eta_range(
    tracker: Tracker, client: TestClient
) -> None:
    now = tracker.clock()
    token = create(client, due_at=(now + timedelta(hours=3)).isoformat())
    wait_planned(tracker, "SO-1")
    poll = {"Authorization": f"Bearer {token}"}
    calm = client.get("/api/v1/orders/SO-1/progress", headers=poll).json()
    assert (calm["delay"], calm["eta_earliest"], calm["eta_latest"]) == (None, None, None)

    tracker.bus.handle(commands.StartJob("saw-1", "e1", "SO-1", 10, now))
    tracker.bus.handle(commands.SetMachineState("saw-1", "e2", "DOWN", now))
    wait_planned(tracker, "SO-1")
    down = client.get("/api/v1/orders/SO-1/progress", headers=poll).json()
    assert down["delay"] == {
        "kind": "breakdown",
        "text": "a machine breakdown is holding up your order; we are working on it",
    }
    assert "saw-1" not in str(down["delay"])
    earliest, latest, eta = (
        datetime.fromisoformat(down[k]) for k in ("eta_earliest", "eta_latest", "eta")
    )
    # from the order's own projection to the plan's ETA plus as long a repair again
    assert earliest <= eta < latest == eta + timedelta(seconds=1800)
    # the API keeps UTC with offset; the reasons for people read in the plant's zone
    assert down["eta"].endswith(("Z", "+00:00"))
    assert down["schedule_status"] == "at_risk" and down["on_time"]
    incident = client.get("/api/v1/incidents", headers=as_(VIEWER)).json()[0]
    assert re.search(r"since \d{4}-\d\d-\d\d \d\d:\d\d CES?T", incident["message"])


def test_a_range_that_moves_within_the_minute_is_still_304(
    tracker: Tracker, client: TestClient
) -> None:
    now = tracker.clock()
    token = create(client, due_at=(now + timedelta(hours=3)).isoformat())
    tracker.bus.handle(commands.StartJob("saw-1", "e1", "SO-1", 10, now))
    tracker.bus.handle(commands.SetMachineState("saw-1", "e2", "DOWN", now))
    wait_planned(tracker, "SO-1")
    poll = {"Authorization": f"Bearer {token}"}
    # the plan's forecast (P50/P90) is made after the plan, off the event path: news until then
    # (waited for inside, not by polling: past its burst of 10 the token's polls are 429)
    wait_for(lambda: tracker.foresight.current.of("SO-1"), "the order's forecast")
    first = client.get("/api/v1/orders/SO-1/progress", headers=poll)
    assert first.status_code == 200 and first.json()["eta_p50"], first.text
    earliest = datetime.fromisoformat(first.json()["eta_earliest"])
    assert isinstance(tracker.clock, Clock)
    # the projection (the range's start) moves by some seconds, within its minute
    tracker.clock.now = now + timedelta(seconds=(60 - earliest.second) // 2)
    # the answers kept go with a change of the order: the SO-1's next poll is made afresh
    tracker.changes.publish(Changes(frozenset({"SO-1"}), frozenset(), frozenset()))
    again = client.get(
        "/api/v1/orders/SO-1/progress", headers={**poll, "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
