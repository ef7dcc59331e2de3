"""Bulk order import: CSV or JSON as an ERP exports it, parsed and checked row by row.

CSV files are read by tracker/order_csv.py (`,` or `;`, header aliases, spreadsheet dates). CSV
rows are numbered as a spreadsheet shows them (the header is row 1, the first order row 2);
JSON rows are the array's items counted from 1. Every bad row is reported, not just the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from pydantic import ValidationError

from tracker.auth.order_tokens import hash_token, new_token
from tracker.domain import commands
from tracker.domain.routing import Plant, RoutingError
from tracker.order_csv import DEFAULT_ZONE, UnreadableCsv, read_orders_csv

from .notification_models import OrderNotifications
from .order_commands import to_command
from .request_models import OrderCreate
from .strict_json import JsonRejected, loads

MAX_ROWS = 10_000


class UnreadableImport(ValueError):
    """The file as a whole cannot be read (bad encoding, not JSON, wrong header...)."""


@dataclass
class ParsedImport:
    """The command to send, the customers' tokens by order id, and the rows refused here."""

    orders: list[tuple[int, commands.CreateOrder]] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    # the contacts given with the orders (JSON imports: each order's `notifications`)
    contacts: dict[str, OrderNotifications] = field(default_factory=dict)
    rejected: list[commands.RowProblem] = field(default_factory=list)

    def command(self, dry_run: bool = False) -> commands.ImportOrders:
        return commands.ImportOrders(tuple(self.orders), tuple(self.rejected), dry_run)


def _csv_rows(text: str, zone: tzinfo) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        found = read_orders_csv(text, zone)
    except UnreadableCsv as exc:
        raise UnreadableImport(str(exc)) from None
    bad = {p.row: p for p in found.problems}
    good = dict(found.rows)
    for row in sorted({*bad, *good}):
        if row in bad:
            yield row, {"_problem": bad[row]}
        else:
            yield row, good[row]


def _json_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        data = loads(text)
    except JsonRejected as exc:
        at = f" (character {exc.pos})" if exc.pos is not None else ""
        raise UnreadableImport(f"not JSON: {exc.msg}{at}") from None
    if isinstance(data, dict) and isinstance(data.get("orders"), list):
        data = data["orders"]
    if not isinstance(data, list):
        raise UnreadableImport('expected a JSON array of orders (or {"orders": [...]})')
    for row, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            yield row, {"_problem": commands.RowProblem(row, "is not a JSON object")}
        else:
            yield row, item


def parse_import(
    media_type: str, data: bytes, plant: Plant, zone: tzinfo = DEFAULT_ZONE
) -> ParsedImport:
    """Parse and validate every row; raise UnreadableImport when the file itself is unusable.

    CSV due dates without an offset are read in `zone`; JSON ones must carry their offset.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableImport(f"not UTF-8: {exc}") from None
    rows = _csv_rows(text, zone) if media_type == "text/csv" else _json_rows(text)
    parsed = ParsedImport()
    count = 0
    for row, item in rows:
        count += 1
        _add_row(parsed, row, item, plant)
        if count > MAX_ROWS:
            raise UnreadableImport(f"more than {MAX_ROWS} orders; split the file")
    if count == 0:
        raise UnreadableImport("the file holds no orders")
    return parsed


def _add_row(parsed: ParsedImport, row: int, item: dict[str, Any], plant: Plant) -> None:
    """Validate one row into the command, or record why it cannot be imported."""
    order_id = item.get("order_id") if isinstance(item.get("order_id"), str) else None
    if "_problem" in item:  # refused while reading the file
        parsed.rejected.append(item["_problem"])
        return
    try:
        body = OrderCreate.model_validate(item)
        token = new_token()
        cmd = to_command(body, plant, hash_token(token))
    except ValidationError as exc:
        parsed.rejected += [
            commands.RowProblem(
                row, err["msg"], ".".join(str(p) for p in err["loc"]) or None, order_id
            )
            for err in exc.errors()
        ]
    except RoutingError as exc:
        parsed.rejected += [
            commands.RowProblem(row, message, where, order_id) for where, message in exc.problems
        ]
    else:
        parsed.orders.append((row, cmd))
        parsed.tokens[cmd.order_id] = token
        if body.notifications is not None:
            parsed.contacts[cmd.order_id] = body.notifications
