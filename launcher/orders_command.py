"""`shopfloor orders import FILE`: a CSV of orders placed in a running tracker over its HTTP API.

The file is read here by the tracker's own reader (tracker/order_csv.py), so a file-level mistake
is caught before anything is sent; the rows then go to `POST /api/v1/orders/import` as JSON
(all or none; `?dry_run=true` checks them there too, against the tracker's plant and orders).
Exit codes: 0 every order placed (or, with --dry-run, every row good), 1 rows refused, 2 bad
usage, file, key or tracker.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import tzinfo
from pathlib import Path
from typing import Any

import httpx

from tracker.domain.commands import RowProblem
from tracker.order_csv import DEFAULT_ZONE, CsvOrders, UnreadableCsv, read_orders_csv

from .settings import LauncherSettings

IMPORT_PATH = "/api/v1/orders/import"
_REPEATS = re.compile(r"repeats row (\d+)")


class _Usage(Exception):
    """A reason to stop with exit code 2, said on stderr."""


def read_file(path: Path, tz: tzinfo, delimiter: str | None) -> CsvOrders:
    """The file's rows, or _Usage naming why it cannot be read at all."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise _Usage(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise _Usage(f"{path} is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        found = read_orders_csv(text, tz, delimiter)
    except UnreadableCsv as exc:
        raise _Usage(f"{path}: {exc}") from None
    if not found.rows and not found.problems:
        raise _Usage(f"{path} holds no orders")
    return found


def problem_line(problem: RowProblem, found: CsvOrders) -> str:
    """`row 3 (SO-2), column Deadline: ...` in the file's own column names."""
    where = f"row {problem.row}"
    if problem.order_id:
        where += f" ({problem.order_id})"
    if problem.field:
        written = found.headers.get(problem.field, problem.field)  # options.paint stays as is
        where += f", column {written}"
    return f"{where}: {problem.reason}"


def _body(found: CsvOrders) -> list[dict[str, Any]]:
    return [
        {
            k: v.isoformat() if k == "due_at" and not isinstance(v, str) else v
            for k, v in item.items()
        }
        for _, item in found.rows
    ]


def refusals(answer: httpx.Response, found: CsvOrders) -> list[RowProblem]:
    """The tracker's 422 as problems in the file's row numbers (it counts the JSON rows from 1)."""
    detail = answer.json().get("detail", {})
    if not isinstance(detail, dict) or not detail.get("errors"):
        message = detail.get("message") if isinstance(detail, dict) else detail
        return [RowProblem(1, str(message))]
    rows = [row for row, _ in found.rows]

    def in_file(reason: str) -> str:
        # "order X repeats row N" names the JSON item; say the file's row instead
        return _REPEATS.sub(lambda m: f"repeats row {rows[int(m[1]) - 1]}", reason)

    return [
        RowProblem(rows[e["row"] - 1], in_file(e["reason"]), e.get("field"), e.get("order_id"))
        for e in detail["errors"]
    ]


def send(found: CsvOrders, tracker: str, key: str, dry_run: bool) -> httpx.Response:
    """POST the rows to the tracker's import; _Usage when it is unreachable or refuses the key."""
    url = tracker.rstrip("/") + IMPORT_PATH
    try:
        answer = httpx.post(
            url,
            json=_body(found),
            params={"dry_run": "true"} if dry_run else None,
            headers={"X-API-Key": key},
            timeout=60,
        )
    except httpx.HTTPError as exc:
        raise _Usage(f"no answer from the tracker at {tracker}: {exc}") from None
    if answer.status_code in (401, 403):
        raise _Usage(f"the tracker refuses the key in SHOPFLOOR_API_KEY ({answer.status_code})")
    if answer.status_code not in (200, 201, 422):
        raise _Usage(f"the tracker answers {answer.status_code}: {answer.text[:300]}")
    return answer


def _report(found: CsvOrders, answer: httpx.Response | None, dry_run: bool, tracker: str) -> int:
    """Every bad row on stdout, then one line that says what happened; the exit code."""
    problems = list(found.problems)
    if answer is not None and answer.status_code == 422:
        problems += refusals(answer, found)
    for problem in sorted(problems, key=lambda p: p.row):
        sys.stdout.write(problem_line(problem, found) + "\n")
    bad = len({p.row for p in problems})
    total = len(found.rows) + len(found.problems)
    if problems:
        sys.stdout.write(f"{bad} of {total} rows refused; nothing was placed\n")
        return 1
    if dry_run:
        sys.stdout.write(f"{total} rows checked, all good; nothing was placed (dry run)\n")
        return 0
    assert answer is not None
    for order in answer.json()["orders"]:
        link = f"{tracker.rstrip('/')}/track/{order['order_id']}?token={order['access_token']}"
        sys.stdout.write(f"placed {order['order_id']}  {link}\n")
    sys.stdout.write(f"{total} orders placed\n")
    return 0


def cmd_orders(args: argparse.Namespace) -> int:
    """`shopfloor orders import FILE`: check, then place every order or none."""
    try:
        found = read_file(Path(args.file), args.timezone or DEFAULT_ZONE, args.delimiter)
        key = LauncherSettings().api_key
        if key is None or not key.get_secret_value():
            raise _Usage("set a supervisor key in SHOPFLOOR_API_KEY")
        answer = None
        if found.rows:  # the tracker checks what this file could not: products, known orders
            dry_run = args.dry_run or bool(found.problems)
            answer = send(found, args.tracker, key.get_secret_value(), dry_run)
    except _Usage as exc:
        sys.stderr.write(f"shopfloor orders import: {exc}\n")
        return 2
    return _report(found, answer, args.dry_run, args.tracker)
