"""Order CSV files as people and ERPs write them: `,` or `;`, header aliases, spreadsheet dates.

Pure text in, rows out (no I/O): the HTTP import and `shopfloor orders import` both read files
through `read_orders_csv`. Rows are numbered as a spreadsheet shows them (the header is row 1).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.domain.commands import RowProblem

COLUMNS = ("order_id", "customer", "product", "quantity", "due_at", "priority", "options")
REQUIRED = frozenset(COLUMNS[:5])
# header spellings, compared after `_key` (case, spaces, `_` and `-` do not matter)
ALIASES: dict[str, tuple[str, ...]] = {
    "order_id": ("order", "order id", "order no", "order number", "reference", "order reference"),
    "customer": ("customer", "partner", "client", "customer name"),
    "product": ("product", "item", "article"),
    "quantity": ("qty", "quantity", "quantity ordered", "ordered qty"),
    "due_at": ("due", "due at", "due date", "deadline", "delivery date", "commitment date"),
    "priority": ("priority", "prio"),
    "options": ("options", "option"),
}
DELIMITERS = (",", ";")
# dates without an offset are read in this zone unless the caller names another
DEFAULT_ZONE: tzinfo = UTC
# a date without a time is due at the end of that day
END_OF_DAY = time(23, 59)

_BY_KEY = {
    key: name for name, spellings in ALIASES.items() for key in (name.replace("_", " "), *spellings)
}
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


class UnreadableCsv(ValueError):
    """The file as a whole cannot be read: no header, a wrong header, broken quoting."""


@dataclass
class CsvOrders:
    """Rows keyed by canonical column, the rows refused here (`field` the canonical column),
    and how the file was read."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    delimiter: str = ","
    # canonical column -> the header as the file spells it, for reports in the file's words
    headers: dict[str, str] = field(default_factory=dict)


def named_zone(name: str) -> tzinfo:
    """The IANA time zone `name` (Europe/Berlin); ValueError saying so when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ValueError(f"unknown time zone {name[:64]!r} (an IANA name: Europe/Berlin)") from None


def _key(header: str) -> str:
    return " ".join(re.split(r"[\s_-]+", header.strip().lower())).strip()


def sniff_delimiter(text: str) -> str:
    """`;` when the header line holds more semicolons than commas, else `,`."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


def _columns(header: list[str]) -> list[str]:
    """Canonical names of the header's columns; raise UnreadableCsv naming every problem."""
    names = [_BY_KEY.get(_key(h), "") for h in header]
    unknown = [h.strip() for h, name in zip(header, names, strict=True) if not name]
    missing = sorted(REQUIRED - set(names))
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if missing or unknown or repeated or not header:
        parts = [f"missing columns: {', '.join(missing)}"] if missing else []
        parts += [f"unknown columns: {', '.join(unknown)}"] if unknown else []
        parts += [f"repeated columns: {', '.join(repeated)}"] if repeated else []
        raise UnreadableCsv(
            f"row 1 (header): {'; '.join(parts)}; the columns are {', '.join(COLUMNS)}"
            " (or an alias: docs/orders.md, Import orders)"
        )
    return names


def _clock(parts: tuple[str | None, ...]) -> time | None:
    hour, minute, second = parts
    if hour is None:
        return None
    return time(int(hour), int(minute or 0), int(second or 0))


def _spreadsheet_date(text: str) -> datetime | None:
    """`10.12.2026 14:00` (day first) or an unambiguous `12/10/2026`; None when not one."""
    if match := _DOTTED.fullmatch(text):
        day, month, year = (int(g) for g in match.groups()[:3])
    elif match := _SLASHED.fullmatch(text):
        first, second, year = (int(g) for g in match.groups()[:3])
        if first <= 12 and second <= 12 and first != second:
            raise AmbiguousDate(f"{text!r} could be day/month or month/day: write {year}-MM-DD")
        day, month = (first, second) if first > 12 or first == second else (second, first)
    else:
        return None
    at = _clock(match.groups()[3:])
    return datetime.combine(datetime(year, month, day).date(), at or END_OF_DAY)  # noqa: DTZ001


_FORMS = "write 2026-12-10 14:00, 10.12.2026 14:00 or 2026-12-10T14:00+01:00"


class AmbiguousDate(ValueError):
    """A slashed date both of whose first numbers could be the month."""


def parse_due(text: str, zone: tzinfo = DEFAULT_ZONE) -> datetime:
    """An aware due date from ISO 8601 or a spreadsheet form; `zone` where no offset is given."""
    text = text.strip()
    try:
        value = _spreadsheet_date(text)
        if value is None:
            value = datetime.fromisoformat(text)
            if len(text) <= 10:  # a date alone
                value = datetime.combine(value.date(), END_OF_DAY)  # noqa: DTZ001
    except AmbiguousDate:
        raise
    except ValueError:
        raise ValueError(f"{text!r} is not a date: {_FORMS}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _row(
    row: int, names: list[str], values: list[str], zone: tzinfo
) -> dict[str, Any] | RowProblem:
    if len(values) != len(names):
        given = dict(zip(names, values, strict=False)).get("order_id", "").strip() or None
        reason = f"has {len(values)} fields, the header has {len(names)}"
        return RowProblem(row, reason, None, given)
    item: dict[str, Any] = {n: v.strip() for n, v in zip(names, values, strict=True)}
    for optional in ("priority", "options"):
        if item.get(optional) == "":
            del item[optional]
    if item["due_at"]:
        try:
            item["due_at"] = parse_due(item["due_at"], zone)
        except ValueError as exc:
            return RowProblem(row, str(exc), "due_at", item["order_id"] or None)
    return item


def read_orders_csv(
    text: str, zone: tzinfo = DEFAULT_ZONE, delimiter: str | None = None
) -> CsvOrders:
    """Read every row of an order CSV (BOM already removed); raise UnreadableCsv for the file."""
    found = CsvOrders(delimiter=delimiter or sniff_delimiter(text))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=found.delimiter)
    try:
        header = next(reader, [])
        names = _columns(header)
        found.headers = {n: h.strip() for n, h in zip(names, header, strict=True)}
        for row, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue  # blank line
            item = _row(row, names, values, zone)
            if isinstance(item, RowProblem):
                found.problems.append(item)
            else:
                found.rows.append((row, item))
    except csv.Error as exc:
        raise UnreadableCsv(f"not readable as CSV: {exc}") from None
    return found
