"""A strict reader of the line protocol the gateway writes, for checking produced lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?")
_INT = re.compile(r"-?[0-9]+i")
_TS = re.compile(r"[0-9]+")
_KEY_ESCAPES = {",": ",", "=": "=", " ": " ", "n": "\n", "r": "\r"}
_MAX_INT = 2**63 - 1

FieldValue = float | int | bool | str


@dataclass(frozen=True)
class Line:
    """One parsed point."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]
    ts: int


class LineError(AssertionError):
    """A line that InfluxDB would refuse or read differently from what was meant."""


def _name(text: str, stop: str) -> tuple[str, int]:
    """Unescape a key, tag value or measurement up to an unescaped char in `stop`."""
    out, i = [], 0
    while i < len(text) and text[i] not in stop:
        c = text[i]
        if c == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt not in _KEY_ESCAPES:
                raise LineError(f"bad escape {text[i : i + 2]!r}")
            out.append(_KEY_ESCAPES[nxt])
            i += 2
            continue
        out.append(c)
        i += 1
    if not out:
        raise LineError(f"empty name at {text[:40]!r}")
    return "".join(out), i


def _string(text: str) -> tuple[str, int]:
    """A quoted string field starting at text[0] == '"'; returns its value and length."""
    out, i = [], 1
    while i < len(text):
        c = text[i]
        if c == "\\" and text[i + 1 : i + 2] in ('"', "\\"):
            out.append(text[i + 1])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        elif c in "\n\r":
            raise LineError("raw newline in a string field")
        else:
            out.append(c)
            i += 1
    raise LineError("unterminated string field")


def _value(text: str) -> tuple[FieldValue, int]:
    if text.startswith('"'):
        return _string(text)
    end = text.find(",")
    end = len(text) if end < 0 else end
    raw = text[:end]
    if raw in ("true", "false"):
        return raw == "true", end
    if _INT.fullmatch(raw):
        number = int(raw[:-1])
        if not -(2**63) <= number <= _MAX_INT:
            raise LineError(f"integer {raw} out of range")
        return number, end
    if _FLOAT.fullmatch(raw):
        return float(raw), end
    raise LineError(f"bad field value {raw!r}")


def parse_line(line: str) -> Line:
    """Parse one line or raise LineError saying what is wrong with it."""
    try:
        line.encode()
    except UnicodeEncodeError as exc:
        raise LineError(f"not UTF-8: {exc}") from None
    if "\n" in line or "\r" in line:
        raise LineError("raw newline")
    measurement, i = _name(line, ", ")
    tags: dict[str, str] = {}
    while line[i : i + 1] == ",":
        key, n = _name(line[i + 1 :], "=, ")
        i += 1 + n
        if line[i : i + 1] != "=":
            raise LineError(f"tag {key!r} has no value")
        value, n = _name(line[i + 1 :], ", ")
        i += 1 + n
        tags[key] = value
    if sorted(tags) != list(tags):
        raise LineError("tags are not sorted")
    if line[i : i + 1] != " ":
        raise LineError("no space before the fields")
    i += 1
    fields: dict[str, FieldValue] = {}
    while True:
        key, n = _name(line[i:], "= ,")
        i += n
        if line[i : i + 1] != "=":
            raise LineError(f"field {key!r} has no value")
        if key in fields:
            raise LineError(f"field {key!r} twice")
        rest = line[i + 1 :]
        fields[key], n = _value(rest if rest.startswith('"') else rest.split(" ", 1)[0])
        i += 1 + n
        if line[i : i + 1] != ",":
            break
        i += 1
    if line[i : i + 1] != " ":
        raise LineError("no space before the timestamp")
    ts = line[i + 1 :]
    if not _TS.fullmatch(ts) or int(ts) > _MAX_INT:
        raise LineError(f"bad timestamp {ts!r}")
    return Line(measurement, tags, fields, int(ts))
