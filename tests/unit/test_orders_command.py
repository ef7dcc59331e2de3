"""`shopfloor orders import`'s report: problems in the file's own rows and column names."""

from __future__ import annotations

import httpx

from launcher.orders_command import problem_line, refusals
from tracker.domain.commands import RowProblem
from tracker.order_csv import read_orders_csv

FILE = read_orders_csv(
    "Reference;Partner;Product;Qty;Deadline;Options\n"
    "SO-1;A;bracket;1;2027-01-01;\n"
    "\n"
    "SO-2;A;bracket;1;2027-01-01;\n"
    "SO-1;A;bracket;1;2027-01-01;paint=gloss\n"
)


def test_a_problem_names_the_column_as_the_file_spells_it() -> None:
    assert problem_line(RowProblem(3, "too small", "quantity", "SO-2"), FILE) == (
        "row 3 (SO-2), column Qty: too small"
    )
    assert problem_line(RowProblem(5, "not a value", "options.paint"), FILE) == (
        "row 5, column options.paint: not a value"
    )
    assert problem_line(RowProblem(4, "has 2 fields"), FILE) == "row 4: has 2 fields"


def test_the_trackers_refusals_are_told_in_the_files_rows() -> None:
    answer = httpx.Response(
        422,
        json={
            "detail": {
                "message": "nothing was imported",
                "errors": [
                    {"row": 2, "order_id": "SO-2", "field": "order_id", "reason": "exists"},
                    {"row": 3, "order_id": "SO-1", "field": None, "reason": "repeats row 1"},
                ],
            }
        },
    )
    assert refusals(answer, FILE) == [
        RowProblem(4, "exists", "order_id", "SO-2"),
        RowProblem(5, "repeats row 2", None, "SO-1"),
    ]


def test_a_refusal_without_rows_is_reported_on_the_header() -> None:
    answer = httpx.Response(422, json={"detail": {"message": "too many orders", "errors": []}})
    assert refusals(answer, FILE) == [RowProblem(1, "too many orders")]
