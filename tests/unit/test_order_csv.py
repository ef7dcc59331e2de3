"""Order CSV files: header spellings, `,` and `;`, due dates in their forms and zones, bad rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tracker.domain.commands import RowProblem
from tracker.entrypoints.order_import import UnreadableImport, parse_import
from tracker.order_csv import (
    UnreadableCsv,
    parse_due,
    read_orders_csv,
    sniff_delimiter,
)
from tracker.plant import load_plant

PLANT = load_plant(Path(__file__).resolve().parents[2] / "examples" / "plant.yaml")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("order_id", "order_id"),
        ("Order", "order_id"),
        ("ORDER ID", "order_id"),
        ("order-id", "order_id"),
        ("Reference", "order_id"),
        ("Order Reference", "order_id"),
        ("  order_reference ", "order_id"),
        ("Partner", "customer"),
        ("customer", "customer"),
        ("Client", "customer"),
        ("Product", "product"),
        ("Item", "product"),
        ("qty", "quantity"),
        ("Quantity", "quantity"),
        ("due", "due_at"),
        ("Due_At", "due_at"),
        ("Due Date", "due_at"),
        ("Deadline", "due_at"),
        ("Delivery Date", "due_at"),
        ("Commitment Date", "due_at"),
        ("Priority", "priority"),
        ("prio", "priority"),
        ("Options", "options"),
    ],
)
def test_header_spellings_name_their_column(header: str, column: str) -> None:
    base = {"order_id": "order_id", "customer": "customer", "product": "product"}
    base |= {"quantity": "quantity", "due_at": "due_at"}
    base[column] = header
    values = {"order_id": "SO-1", "customer": "ACME", "product": "bracket", "quantity": "3"}
    values |= {"due_at": "2027-01-01T00:00Z", "priority": "2", "options": "paint=wet"}
    text = ",".join(base.values()) + "\n" + ",".join(values[c] for c in base) + "\n"
    found = read_orders_csv(text)
    assert found.headers[column] == header.strip()
    assert found.rows[0][1]["order_id"] == "SO-1"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("order_id,customer,product", ","),
        ("order_id;customer;product", ";"),
        ('"Order; Ref",customer,product,qty', ","),
        ("\n\norder;customer", ";"),
    ],
)
def test_the_delimiter_is_read_from_the_header(line: str, expected: str) -> None:
    assert sniff_delimiter(line) == expected


def test_semicolon_files_keep_quoted_semicolons_and_crlf() -> None:
    text = (
        "Order Reference;Partner;Product;Qty;Deadline;Options\r\n"
        'SO-1;"Smith; Ltd";bracket;4;2027-01-01T08:00Z;"paint=powder"\r\n'
        "\r\n"
        "SO-2;ACME;bracket;1;2027-01-02T08:00Z;\r\n"
    )
    found = read_orders_csv(text)
    assert found.delimiter == ";"
    assert [row for row, _ in found.rows] == [2, 4]  # the blank line keeps its number
    assert found.rows[0][1]["customer"] == "Smith; Ltd"
    assert "options" not in found.rows[1][1]


def test_a_given_delimiter_wins_over_the_sniffed_one() -> None:
    text = "order_id;customer;product;quantity;due_at\nSO-1;A,B;bracket;1;2027-01-01\n"
    with pytest.raises(UnreadableCsv):
        read_orders_csv(text, delimiter=",")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03-01T14:00:00+01:00", datetime(2027, 3, 1, 13, tzinfo=UTC)),
        ("2027-03-01T14:00Z", datetime(2027, 3, 1, 14, tzinfo=UTC)),
        ("2027-03-01 14:00", datetime(2027, 3, 1, 13, tzinfo=UTC)),
        ("2027-03-01", datetime(2027, 3, 1, 22, 59, tzinfo=UTC)),
        ("01.03.2027 14:00", datetime(2027, 3, 1, 13, tzinfo=UTC)),
        ("1.3.2027", datetime(2027, 3, 1, 22, 59, tzinfo=UTC)),
        ("25/03/2027 08:30", datetime(2027, 3, 25, 7, 30, tzinfo=UTC)),
        ("03/25/2027", datetime(2027, 3, 25, 22, 59, tzinfo=UTC)),
        ("07/07/2027", datetime(2027, 7, 7, 21, 59, tzinfo=UTC)),
    ],
)
def test_due_dates_in_iso_and_spreadsheet_forms(text: str, expected: datetime) -> None:
    assert parse_due(text, BERLIN) == expected


def test_due_dates_without_an_offset_are_utc_by_default() -> None:
    assert parse_due("2027-03-01 14:00").utcoffset() == timedelta(0)
    east = timezone(timedelta(hours=5))
    assert parse_due("2027-03-01T14:00+05:00", BERLIN).tzinfo == east


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("03/04/2027", "could be day/month or month/day"),
        ("next friday", "is not a date"),
        ("31.02.2027", "is not a date"),
        ("2027-13-01", "is not a date"),
    ],
)
def test_bad_due_dates_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_due(text)


def test_every_bad_row_is_reported_with_its_row_and_column() -> None:
    text = (
        "order,customer,product,qty,due\n"
        "SO-1,ACME,bracket,1,2027-01-01\n"
        "SO-2,ACME,bracket,1,soon\n"
        "SO-3,ACME\n"
        "SO-4,ACME,bracket,1,03/04/2027\n"
    )
    found = read_orders_csv(text)
    assert [row for row, _ in found.rows] == [2]
    assert [(p.row, p.field, p.order_id) for p in found.problems] == [
        (3, "due_at", "SO-2"),
        (4, None, "SO-3"),
        (5, "due_at", "SO-4"),
    ]
    assert found.problems[1] == RowProblem(4, "has 2 fields, the header has 5", None, "SO-3")


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("order_id,customer,weight", "missing columns: due_at, product, quantity"),
        ("order,customer,product,qty,due,colour", "unknown columns: colour"),
        ("order,reference,customer,product,qty,due", "repeated columns: order_id"),
        ("", "missing columns"),
    ],
)
def test_a_bad_header_makes_the_file_unreadable(header: str, says: str) -> None:
    with pytest.raises(UnreadableCsv, match=says):
        read_orders_csv(header + "\n")


def test_the_http_import_reads_a_bom_semicolons_aliases_and_local_dates() -> None:
    data = "\ufeffOrder Reference;Partner;Product;Qty;Deadline\r\nSO-1;A;bracket;2;01.03.2027\r\n"
    parsed = parse_import("text/csv", data.encode(), PLANT, BERLIN)
    assert not parsed.rejected
    [(row, cmd)] = parsed.orders
    assert (row, cmd.order_id, cmd.quantity) == (2, "SO-1", 2)
    assert cmd.due_at == datetime(2027, 3, 1, 22, 59, tzinfo=UTC)


def test_the_http_import_lists_bad_rows_with_their_column() -> None:
    data = b"order;customer;product;qty;due\nSO-1;A;bracket;0;2027-03-01\nSO-2;A;bracket;1;later\n"
    parsed = parse_import("text/csv", data, PLANT)
    assert [(p.row, p.field, p.order_id) for p in parsed.rejected] == [
        (2, "quantity", "SO-1"),
        (3, "due_at", "SO-2"),
    ]
    with pytest.raises(UnreadableImport, match="unknown columns: colour"):
        parse_import("text/csv", b"order,customer,product,qty,due,colour\n", PLANT)
