"""The supervisors' order list and order detail: filters, paging and the compact rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_keys import SUPERVISOR, VIEWER, as_, create, make
from tracker.bootstrap import Tracker

pytestmark = pytest.mark.integration

DAY0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make(make_tracker)


def _ops(machine: str) -> list[dict[str, object]]:
    return [{"seq": 10, "name": "cut", "machine": machine, "setup_s": 60, "cycle_s": 30}]


def _seed(client: TestClient) -> None:
    """SO-00..SO-11: due a day apart (backwards), customers A/B, machines saw-1/lathe-1."""
    for i in range(12):
        create(
            client,
            f"SO-{i:02d}",
            customer="A" if i % 2 else "B",
            due_at=(DAY0 + timedelta(days=12 - i)).isoformat(),
            operations=_ops("lathe-1" if i % 3 == 0 else "saw-1"),
        )


def _list(client: TestClient, **params: object) -> dict[str, object]:
    response = client.get("/api/v1/orders", params=params, headers=as_(VIEWER))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _ids(page: dict[str, object]) -> list[str]:
    return [row["order_id"] for row in page["orders"]]  # type: ignore[attr-defined, index]


def test_orders_come_by_due_date_in_stable_pages_with_the_total(client: TestClient) -> None:
    _seed(client)
    everything = _list(client, limit=500)
    assert everything["total"] == 12
    assert _ids(everything) == [f"SO-{i:02d}" for i in range(11, -1, -1)]
    pages = [_list(client, limit=5, offset=offset) for offset in (0, 5, 10)]
    assert [p["total"] for p in pages] == [12, 12, 12]
    assert sum((_ids(p) for p in pages), []) == _ids(everything)
    assert _ids(_list(client, offset=50)) == []


def test_a_row_has_the_figures_of_the_orders_progress(client: TestClient) -> None:
    token = create(client, "SO-1")
    (row,) = _list(client)["orders"]  # type: ignore[misc]
    progress = client.get(f"/api/v1/orders/SO-1/progress?token={token}").json()
    for field in ("customer", "product", "quantity", "status", "schedule_status", "due_at"):
        assert row[field] == progress.get(field, row[field])
    assert row["percent_complete"] == progress["percent_complete"] == 0.0
    assert (row["current_operation"], row["current_seq"]) == ("cut", 10)
    assert row["on_time"] is True
    assert abs(
        datetime.fromisoformat(row["eta"]) - datetime.fromisoformat(progress["eta"])
    ) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"customer": "A"}, {"SO-01", "SO-03", "SO-05", "SO-07", "SO-09", "SO-11"}),
        ({"machine": "lathe-1"}, {"SO-00", "SO-03", "SO-06", "SO-09"}),
        ({"machine": "lathe-1", "customer": "B"}, {"SO-00", "SO-06"}),
        ({"status": "cancelled"}, {"SO-04"}),
        ({"status": "released", "customer": "B", "machine": "saw-1"}, {"SO-02", "SO-08", "SO-10"}),
        ({"schedule_status": "late"}, set()),
        ({"due_from": (DAY0 + timedelta(days=10)).isoformat()}, {"SO-00", "SO-01", "SO-02"}),
        ({"due_to": (DAY0 + timedelta(days=2)).isoformat()}, {"SO-11"}),
        (
            {
                "due_from": (DAY0 + timedelta(days=5)).isoformat(),
                "due_to": (DAY0 + timedelta(days=7)).isoformat(),
            },
            {"SO-06", "SO-07"},
        ),
    ],
)
def test_filters_narrow_the_list_and_its_total(
    client: TestClient, params: dict[str, str], expected: set[str]
) -> None:
    _seed(client)
    client.post("/api/v1/orders/SO-04/cancel", json={"reason": "x"}, headers=as_(SUPERVISOR))
    page = _list(client, **params)
    assert set(_ids(page)) == expected and page["total"] == len(expected)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 501}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": "lost"}, "status"),
        ({"due_from": "2026-03-02T08:00:00"}, "due_from"),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(
    client: TestClient, params: dict[str, object], field: str
) -> None:
    response = client.get("/api/v1/orders", params=params, headers=as_(VIEWER))
    assert response.status_code == 422
    assert any(field in detail["loc"] for detail in response.json()["detail"]), response.text


def test_order_detail_is_the_supervisors_view_and_404_when_missing(client: TestClient) -> None:
    create(client, "SO-1")
    detail = client.get("/api/v1/orders/SO-1", headers=as_(VIEWER))
    assert detail.status_code == 200
    body = detail.json()
    assert (body["customer"], body["priority"], body["cancel_reason"]) == ("ACME", 0, None)
    assert [op["seq"] for op in body["operations"]] == [10, 20]
    assert client.get("/api/v1/orders/SO-9", headers=as_(VIEWER)).status_code == 404
