"""People starting and ending jobs over HTTP: roles, an operator key's machines, bad bodies,
unknown or finished jobs, the binding log, a machine's dispatch list and the caller's key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_keys import ADMIN, KEYS, SUPERVISOR, VIEWER, as_, wait_planned
from tracker.auth.api_keys import hash_key
from tracker.bootstrap import Tracker
from tracker.domain import commands

pytestmark = pytest.mark.integration

OLGA = "operator-key-" + "o" * 20  # may work op-1 only
OTTO = "operator-key-" + "t" * 20  # may work any machine
PLANT = """
machines: [op-1, saw-1]
work_centers:
  assembly: {machines: [op-1], bind: operator}
  cut: [saw-1]
"""


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], tmp_path: Path) -> Tracker:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT, encoding="utf-8")
    keys = [
        *KEYS,
        {"name": "olga", "role": "operator", "key_sha256": hash_key(OLGA), "machines": ["op-1"]},
        {"name": "otto", "role": "operator", "key_sha256": hash_key(OTTO)},
    ]
    return make_tracker(ADMIN, api_keys=keys, plant_file=plant, replan_debounce_s=0.05)


def _create(tracker: Tracker, order_id: str, machines: tuple[str, ...], qty: int = 2) -> None:
    tracker.bus.handle(
        commands.CreateOrder(
            order_id=order_id,
            customer="ACME",
            product="bracket",
            quantity=qty,
            due_at=datetime.now(UTC) + timedelta(days=2),
            token_hash="a" * 64,
            operations=tuple(
                commands.OperationSpec(10 * (i + 1), f"op{i}", m, 0, 60)
                for i, m in enumerate(machines)
            ),
        )
    )


def _job(client: TestClient, key: str, machine: str, **body: object) -> tuple[int, object]:
    response = client.post(f"/api/v1/machines/{machine}/job", json=body, headers=as_(key))
    return response.status_code, response.json()


def test_an_operator_starts_and_ends_a_job_and_a_retry_changes_nothing(
    tracker: Tracker, client: TestClient
) -> None:
    _create(tracker, "SO-1", ("op-1",))
    start = {"action": "start", "order_id": "SO-1", "operation": 10}
    bound = {"machine_id": "op-1", "order_id": "SO-1", "operation": 10}
    assert _job(client, OLGA, "op-1", **start) == (200, bound)
    assert _job(client, OLGA, "op-1", **start) == (200, bound)
    free = {"machine_id": "op-1", "order_id": None, "operation": None}
    assert _job(client, OLGA, "op-1", action="end", order_id="SO-1") == (200, free)
    assert _job(client, OLGA, "op-1", action="end") == (200, free)

    log = client.get("/api/v1/machines/op-1/jobs", headers=as_(VIEWER)).json()
    assert [(r["action"], r["order_id"], r["operation"], r["source"], r["actor"]) for r in log] == [
        ("end", "SO-1", 10, "operator", "olga"),
        ("start", "SO-1", 10, "operator", "olga"),
    ]
    machine = client.get("/api/v1/machines/op-1", headers=as_(VIEWER)).json()
    assert machine["order_id"] is None


def test_only_operators_and_above_on_their_machines_may_bind_jobs(
    tracker: Tracker, client: TestClient
) -> None:
    _create(tracker, "SO-1", ("saw-1",))
    start = {"action": "start", "order_id": "SO-1", "operation": 10}
    assert client.post("/api/v1/machines/saw-1/job", json=start).status_code == 401
    code, body = _job(client, VIEWER, "saw-1", **start)
    assert code == 403 and "operator" in str(body)
    code, body = _job(client, OLGA, "saw-1", **start)  # olga's key is for op-1 only
    assert (code, body) == (403, {"detail": "this key may not work machine saw-1"})
    assert _job(client, OTTO, "saw-1", **start)[0] == 200
    assert _job(client, SUPERVISOR, "saw-1", action="end")[0] == 200
    assert _job(client, ADMIN, "saw-1", **start)[0] == 200


def test_bad_bodies_unknown_machines_and_jobs_get_clear_errors(
    tracker: Tracker, client: TestClient
) -> None:
    _create(tracker, "SO-1", ("op-1", "saw-1"), qty=1)
    url = "/api/v1/machines/op-1/job"
    assert client.post(url, content=b"{not json", headers=as_(OTTO)).status_code == 422
    assert _job(client, OTTO, "op-1", action="start", order_id="SO-1")[0] == 422
    assert _job(client, OTTO, "op-1", action="start", order_id="SO 1", operation=10)[0] == 422
    assert _job(client, OTTO, "op-1", action="rewind")[0] == 422

    code, body = _job(client, OTTO, "nowhere", action="start", order_id="SO-1", operation=10)
    assert (code, body) == (404, {"detail": "machine nowhere not found"})
    code, body = _job(client, OTTO, "op-1", action="start", order_id="SO-404", operation=10)
    assert code == 422 and body["detail"][0]["msg"].endswith("unknown order SO-404")  # type: ignore[index]
    code, body = _job(client, OTTO, "op-1", action="start", order_id="SO-1", operation=99)
    assert code == 422 and "has no operation 99" in str(body)

    tracker.bus.handle(
        commands.RecordCycle("op-1", "c1", 1, datetime.now(UTC), order_id="SO-1", seq=10)
    )
    code, body = _job(client, OTTO, "op-1", action="start", order_id="SO-1", operation=10)
    assert (code, body) == (409, {"detail": "operation 10 of order SO-1 is already completed"})
    assert _job(client, OTTO, "op-1", action="start", order_id="SO-1", operation=20)[0] == 200
    code, body = _job(client, OTTO, "op-1", action="end", order_id="SO-1", operation=10)
    assert code == 409 and "works SO-1 operation 20" in str(body)


def test_the_board_learns_what_its_key_may_do_and_the_machines_dispatch_list(
    tracker: Tracker, client: TestClient
) -> None:
    me = client.get("/api/v1/me", headers=as_(OLGA)).json()
    assert me == {"name": "olga", "role": "operator", "machines": ["op-1"], "may_work": True}
    viewer = client.get("/api/v1/me", headers=as_(VIEWER)).json()
    assert (viewer["role"], viewer["machines"], viewer["may_work"]) == ("viewer", None, False)

    _create(tracker, "SO-1", ("op-1",))
    wait_planned(tracker, "SO-1")
    listed = client.get("/api/v1/machines/op-1/dispatch", headers=as_(VIEWER)).json()
    assert [(j["order_id"], j["operation"], j["ready"]) for j in listed["jobs"]] == [
        ("SO-1", 10, True)
    ]
