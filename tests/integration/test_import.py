"""Orders from product templates and bulk CSV/JSON imports, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tracker.adapters import orm
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.bootstrap import Tracker

pytestmark = pytest.mark.integration

KEY = "supervisor-key-" + "x" * 16
AUTH = {"X-API-Key": KEY}
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plant.yaml"
DUE = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make_tracker(KEY, plant_file=EXAMPLE)


def _stored(tracker: Tracker) -> int:
    with SqlUnitOfWork(tracker.sessions) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(orm.orders)) or 0)


def _order(order_id: str = "SO-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order_id,
        "customer": "ACME",
        "product": "bracket",
        "quantity": 10,
        "due_at": DUE,
    }
    body.update(changes)
    return body


def _progress(client: TestClient, order_id: str, token: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/orders/{order_id}/progress?token={token}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_an_order_by_product_and_options_gets_the_templates_routing(client: TestClient) -> None:
    response = client.post("/api/v1/orders", json=_order(options={"paint": "powder"}), headers=AUTH)
    assert response.status_code == 201, response.text
    body = _progress(client, "SO-1", response.json()["access_token"])
    assert body["product"] == "bracket [paint=powder]"
    assert [(op["seq"], op["name"], op["machine"]) for op in body["operations"]] == [
        (10, "cut", "cut"),
        (20, "weld", "weld"),
        (30, "paint", "paint"),
        (35, "cure", "paint"),
        (40, "assemble", "assembly"),
    ]
    assert {op["quantity"] for op in body["operations"]} == {10}


def test_options_default_and_may_be_given_as_a_string(client: TestClient) -> None:
    plain = client.post("/api/v1/orders", json=_order("SO-1"), headers=AUTH)
    wet = client.post("/api/v1/orders", json=_order("SO-2", options="paint=wet"), headers=AUTH)
    assert plain.status_code == wet.status_code == 201
    plain_ops = _progress(client, "SO-1", plain.json()["access_token"])["operations"]
    assert [op["name"] for op in plain_ops] == ["cut", "weld", "assemble"]
    assert _progress(client, "SO-2", wet.json()["access_token"])["product"] == (
        "bracket [paint=wet]"
    )


@pytest.mark.parametrize(
    ("changes", "loc", "words"),
    [
        ({"product": "widget"}, ["body", "product"], "unknown product 'widget'"),
        ({"options": {"paint": "gloss"}}, ["body", "options", "paint"], "none, powder, wet"),
        ({"options": {"size": "L"}}, ["body", "options", "size"], "no option 'size'"),
        (
            {
                "options": {"paint": "wet"},
                "operations": [
                    {"seq": 10, "name": "cut", "machine": "saw-1", "setup_s": 0, "cycle_s": 5}
                ],
            },
            ["body", "options"],
            "not both",
        ),
        ({"options": "paint"}, ["body", "options"], "key=value"),
    ],
)
def test_unknown_products_and_options_are_422_naming_the_field(
    tracker: Tracker, client: TestClient, changes: dict[str, Any], loc: list[str], words: str
) -> None:
    response = client.post("/api/v1/orders", json=_order(**changes), headers=AUTH)
    assert response.status_code == 422, response.text
    [detail] = response.json()["detail"]
    assert detail["loc"] == loc and words in detail["msg"], detail
    assert _stored(tracker) == 0


CSV = (
    "order_id,customer,product,quantity,due_at,priority,options\r\n"
    f"SO-1,ACME,bracket,10,{DUE},5,paint=powder\r\n"
    f'SO-2,"Smith, Ltd",bracket,4,{DUE},,\r\n'
    f"SO-3,ACME,bracket,2,{DUE},0,paint=wet\r\n"
)


def test_a_csv_import_creates_every_order(tracker: Tracker, client: TestClient) -> None:
    response = client.post(
        "/api/v1/orders/import",
        content=CSV.encode(),
        headers={**AUTH, "Content-Type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["imported"] == 3
    assert [o["order_id"] for o in body["orders"]] == ["SO-1", "SO-2", "SO-3"]
    tokens = {o["order_id"]: o["access_token"] for o in body["orders"]}
    powder = _progress(client, "SO-1", tokens["SO-1"])
    assert [op["name"] for op in powder["operations"]][2:4] == ["paint", "cure"]
    assert _progress(client, "SO-2", tokens["SO-2"])["product"] == "bracket [paint=none]"
    assert _stored(tracker) == 3


def test_a_dry_run_checks_a_semicolon_csv_and_stores_nothing(
    tracker: Tracker, client: TestClient
) -> None:
    semicolons = (
        "Order Reference;Partner;Product;Qty;Deadline\r\nSO-1;ACME;bracket;3;01.03.2027\r\n"
    )
    response = client.post(
        "/api/v1/orders/import?dry_run=true",
        content=("\ufeff" + semicolons).encode(),
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 0, "orders": []}
    assert _stored(tracker) == 0
    berlin = client.post(
        "/api/v1/orders/import?timezone=Europe/Berlin",
        content=semicolons.encode(),
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    assert berlin.status_code == 201, berlin.text
    token = berlin.json()["orders"][0]["access_token"]
    assert _progress(client, "SO-1", token)["due_at"] == "2027-03-01T22:59:00Z"  # 23:59 in Berlin
    unknown = client.post(
        "/api/v1/orders/import?timezone=Mars/Olympus",
        content=semicolons.encode(),
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    assert unknown.status_code == 422
    assert "unknown time zone 'Mars/Olympus'" in unknown.text
    bad = semicolons.replace("SO-1", "SO-2") + "SO-3;ACME;widget;1;01.03.2027\r\n"
    rejected = _rejected(
        client.post(
            "/api/v1/orders/import?dry_run=true",
            content=bad.encode(),
            headers={**AUTH, "Content-Type": "text/csv"},
        )
    )
    assert sorted(rejected) == [3]


def test_a_json_import_takes_templates_and_explicit_routings(
    tracker: Tracker, client: TestClient
) -> None:
    rows = [
        _order("SO-1", options={"paint": "wet"}, quantity="7"),
        _order(
            "SO-2",
            product="custom part",
            operations=[{"seq": 10, "name": "cut", "machine": "saw-2", "setup_s": 0, "cycle_s": 5}],
        ),
    ]
    response = client.post("/api/v1/orders/import", json={"orders": rows}, headers=AUTH)
    assert response.status_code == 201, response.text
    tokens = {o["order_id"]: o["access_token"] for o in response.json()["orders"]}
    assert _progress(client, "SO-1", tokens["SO-1"])["quantity"] == 7
    custom = _progress(client, "SO-2", tokens["SO-2"])
    assert custom["product"] == "custom part" and custom["operations"][0]["machine"] == "saw-2"


def _rejected(response: Any) -> dict[int, list[str]]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "nothing was imported" in detail["message"]
    rows: dict[int, list[str]] = {}
    for error in detail["errors"]:
        rows.setdefault(error["row"], []).append(f"{error['field']}: {error['reason']}")
    return rows


def test_every_bad_csv_row_is_listed_and_nothing_is_written(
    tracker: Tracker, client: TestClient
) -> None:
    bad = (
        CSV
        + f"SO-4,ACME,bracket,0,{DUE},,\r\n"  # row 5: quantity
        + f"SO-5,ACME,bracket,1,{DUE},,paint=gloss\r\n"  # row 6: option value
        + f"SO-6,ACME,bracket,1,{DUE},,\r\n"
    )
    response = client.post(
        "/api/v1/orders/import", content=bad.encode(), headers={**AUTH, "Content-Type": "text/csv"}
    )
    rows = _rejected(response)
    assert sorted(rows) == [5, 6]
    assert rows[5][0].startswith("quantity: ")
    assert rows[6] == [
        "options.paint: 'gloss' is not a value of option paint of bracket; "
        "allowed: none, powder, wet"
    ]
    assert _stored(tracker) == 0
    assert client.get("/api/v1/orders/SO-1/progress?token=x").status_code == 404


def test_every_bad_json_row_is_listed_and_nothing_is_written(
    tracker: Tracker, client: TestClient
) -> None:
    rows = [_order("SO-1"), _order("SO-2", due_at="2026-03-02T08:00:00"), "SO-3", _order("SO-4")]
    rejected = _rejected(client.post("/api/v1/orders/import", json=rows, headers=AUTH))
    assert sorted(rejected) == [2, 3]
    assert rejected[2][0].startswith("due_at: ")
    assert rejected[3] == ["None: is not a JSON object"]
    assert _stored(tracker) == 0


def test_duplicates_within_the_file_and_with_stored_orders_are_rejected(
    tracker: Tracker, client: TestClient
) -> None:
    assert client.post("/api/v1/orders", json=_order("SO-9"), headers=AUTH).status_code == 201
    rows = [_order("SO-1"), _order("SO-9"), _order("SO-2"), _order("SO-1"), {"order_id": "x y"}]
    rejected = _rejected(client.post("/api/v1/orders/import", json=rows, headers=AUTH))
    assert rejected[2] == ["order_id: order SO-9 already exists"]
    assert rejected[4] == ["order_id: order SO-1 repeats row 1"]
    assert sorted(rejected) == [2, 4, 5]  # the invalid row 5 is reported with them
    assert _stored(tracker) == 1


def test_unreadable_imports_and_media_types(client: TestClient) -> None:
    def post(content: bytes, media_type: str) -> Any:
        return client.post(
            "/api/v1/orders/import", content=content, headers={**AUTH, "Content-Type": media_type}
        )

    assert post(b"a,b", "text/plain").status_code == 415
    header = post(b"order_id,customer,weight\r\n", "text/csv")
    assert header.status_code == 422
    assert "missing columns: due_at, product, quantity" in header.json()["detail"]["message"]
    assert "unknown columns: weight" in header.json()["detail"]["message"]
    assert "not JSON" in post(b"[{", "application/json").json()["detail"]["message"]
    assert "no orders" in post(b"[]", "application/json").json()["detail"]["message"]
    short = post(b"order_id,customer,product,quantity,due_at\r\nSO-1,ACME\r\n", "text/csv")
    assert short.json()["detail"]["errors"][0]["row"] == 2
    assert client.post("/api/v1/orders/import", json=[_order()]).status_code == 401
