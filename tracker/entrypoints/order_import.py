"""Bulk order import: CSV or JSON as an ERP exports it, parsed and checked row by row.

CSV rows are numbered as a spreadsheet shows them (the header is row 1, the first order row 2);
JSON rows are the array's items counted from 1. Every bad row is reported, not just the first.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from tracker.auth.order_tokens import hash_token, new_token
from tracker.domain import commands
from tracker.domain.routing import Plant, RoutingError

from .order_commands import to_command
from .request_models import OrderCreate
from .strict_json import JsonRejected, loads

CSV_COLUMNS = ("order_id", "customer", "product", "quantity", "due_at", "priority", "options")
_REQUIRED = frozenset(CSV_COLUMNS[:5])
MAX_ROWS = 10_000


class UnreadableImport(ValueError):
    """The file as a whole cannot be read (bad encoding, not JSON, wrong header...)."""


@dataclass
class ParsedImport:
    """The command to send, the customers' tokens by order id, and the rows refused here."""

    orders: list[tuple[int, commands.CreateOrder]] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    rejected: list[commands.RowProblem] = field(default_factory=list)

    def command(self) -> commands.ImportOrders:
        return commands.ImportOrders(tuple(self.orders), tuple(self.rejected))


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    missing = sorted(_REQUIRED - set(header))
    unknown = [name for name in header if name not in CSV_COLUMNS]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if missing or unknown or repeated or not header:
        parts = [f"missing columns: {', '.join(missing)}"] if missing else []
        parts += [f"unknown columns: {', '.join(unknown)}"] if unknown else []
        parts += [f"repeated columns: {', '.join(repeated)}"] if repeated else []
        raise UnreadableImport(
            f"row 1 (header): {'; '.join(parts)}; the columns are {', '.join(CSV_COLUMNS)}"
        )
    for row, values in enumerate(reader, start=2):
        if not any(value.strip() for value in values):
            continue  # blank line
        if len(values) != len(header):
            yield row, {"_fields": f"has {len(values)} fields, the header has {len(header)}"}
            continue
        item = {name: value.strip() for name, value in zip(header, values, strict=True)}
        for optional in ("priority", "options"):
            if item.get(optional) == "":
                del item[optional]
        yield row, item


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
            yield row, {"_fields": "is not a JSON object"}
        else:
            yield row, item


def parse_import(media_type: str, data: bytes, plant: Plant) -> ParsedImport:
    """Parse and validate every row; raise UnreadableImport when the file itself is unusable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableImport(f"not UTF-8: {exc}") from None
    rows = _csv_rows(text) if media_type == "text/csv" else _json_rows(text)
    parsed = ParsedImport()
    count = 0
    try:
        for row, item in rows:
            count += 1
            _add_row(parsed, row, item, plant)
            if count > MAX_ROWS:
                raise UnreadableImport(f"more than {MAX_ROWS} orders; split the file")
    except csv.Error as exc:
        raise UnreadableImport(f"not readable as CSV: {exc}") from None
    if count == 0:
        raise UnreadableImport("the file holds no orders")
    return parsed


def _add_row(parsed: ParsedImport, row: int, item: dict[str, Any], plant: Plant) -> None:
    """Validate one row into the command, or record why it cannot be imported."""
    order_id = item.get("order_id") if isinstance(item.get("order_id"), str) else None
    if "_fields" in item:
        parsed.rejected.append(commands.RowProblem(row, item["_fields"]))
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
