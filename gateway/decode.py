"""Payload bytes to (line-protocol fields, epoch ns) pairs: JSON readings or one scalar value."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from shopfloor.contract.json_objects import unique_keys
from shopfloor.contract.payloads import PayloadError

from .fields import CODERS, NON_FINITE, NUMBER, Coder, FieldType, FieldTypes, field_key, to_float
from .timestamps import Clock, Precision

Decoded = list[tuple[str, int]]
MAX_DEPTH = 8
_CACHE_LIMIT = 10_000
_WORDS: dict[str, bool | None] = {"true": True, "false": False, "null": None}


def _float_fields(keys: dict[str, str], values: dict[str, Any]) -> list[str] | None:
    """Fields of a flat reading of known float fields with finite numbers; else None."""
    try:
        # `* 1.0` turns ints and booleans into floats and refuses text, None and objects
        parts = [keys[name] + repr(value * 1.0) for name, value in values.items()]
        total = sum(values.values())
    except (KeyError, TypeError, OverflowError):
        return None
    # NaN or infinity somewhere (or an overflowing sum): the careful path says which
    return parts if total - total == 0 else None


def _reject_constant(name: str) -> Any:
    raise PayloadError("not_finite", f"{name} is not a number")


# one decoder for all messages: json.loads would build a new one per call with parse_constant;
# an object naming a key twice is refused (about 2 us a message)
_JSON = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=unique_keys)
_BOM = b"\xef\xbb\xbf"


def load_json(payload: bytes | str) -> Any:
    """Parse UTF-8 JSON; NaN/Infinity, a key given twice and nesting that would exhaust the
    stack are refused."""
    try:
        if isinstance(payload, bytes):
            payload = payload[3:].decode() if payload[:3] == _BOM else payload.decode()
        return _JSON.decode(payload)
    except PayloadError:
        raise
    except RecursionError:
        raise PayloadError("invalid_json", "nested too deeply") from None
    except ValueError as exc:  # also UnicodeDecodeError and the int-digits limit
        raise PayloadError("invalid_json", str(exc)[:200]) from None


def scalar_value(payload: bytes) -> Any:
    """A one-value payload: JSON (`42`, `"RUNNING"`, `{"value": ..}`) or plain text (`RUNNING`)."""
    try:
        text = payload.decode().strip()
    except UnicodeDecodeError as exc:
        raise PayloadError("invalid_json", f"payload is not UTF-8: {exc}") from None
    if not text:
        raise PayloadError("schema", "empty payload")
    lowered = text.lower()
    if lowered in _WORDS:
        return _WORDS[lowered]
    if text[0] in '{["' or NUMBER.fullmatch(text):
        return load_json(text)
    if lowered in NON_FINITE:
        raise PayloadError("not_finite", f"{text!r} is not a number")
    return text


class Decoder:
    """Reads telemetry payloads into typed fields with checked timestamps."""

    def __init__(
        self,
        *,
        precision: Precision = "ms",
        max_ahead_s: float = 0,
        max_behind_s: float = 0,
        field_types: Mapping[str, FieldType] | None = None,
        separator: str = "_",
        clock: Clock | None = None,
    ) -> None:
        # `clock` is the settings' own (DecodeSettings.clock); the rest build one here
        self.clock = clock or Clock(precision, max_ahead_s, max_behind_s)
        self._types = FieldTypes(field_types)
        self._separator = separator
        # field name -> (escaped key + "=", coder or None for the default float)
        self._keys: dict[str, tuple[str, Coder | None]] = {}
        # the same, for names known to be plain float fields: the fast path's lookup
        self._float_keys: dict[str, str] = {}

    def _key(self, name: str) -> tuple[str, Coder | None]:
        entry = self._keys.get(name)
        if entry is None:
            declared = self._types.get(name)
            entry = (field_key(name), None if declared in (None, "float") else CODERS[declared])
            if len(self._keys) >= _CACHE_LIMIT:
                self._keys.clear()
                self._float_keys.clear()
            self._keys[name] = entry
            if entry[1] is None:
                self._float_keys[name] = entry[0]
        return entry

    def readings(self, payload: bytes, now_ns: int) -> Decoded:
        """One JSON reading `{"ts", "values"}` or a JSON array of them."""
        data = load_json(payload)
        items = data if type(data) is list else [data]
        if not items:
            raise PayloadError("schema", "empty array")
        out: Decoded = []
        read_ts = self.clock.read
        for i, item in enumerate(items):
            if type(item) is not dict:
                raise PayloadError("schema", "a reading must be a JSON object")
            values = item.get("values")
            if type(values) is not dict or not values:
                raise PayloadError("schema", "values must be a non-empty object of name: value")
            # buffered readings without a time get the arrival time a nanosecond apart, in
            # order: on one time they would be one point, the last one
            ts = read_ts(item.get("ts"), now_ns + i)
            parts = _float_fields(self._float_keys, values)
            if parts is None:
                parts = []
                if self._fields(values, "", parts, 0):
                    self._check_unique(values)
            if parts:
                out.append((",".join(parts), ts))
        return out

    def _fields(self, values: dict[str, Any], prefix: str, parts: list[str], depth: int) -> bool:
        """Append `key=value` for each value, flattening nested objects; True if it flattened."""
        flattened = False
        for name, value in values.items():
            if prefix:
                name = prefix + name
            key, coder = self._keys.get(name) or self._key(name)
            if coder is None and type(value) is float and value - value == 0.0:
                parts.append(key + repr(value))  # the common case, kept inline for speed
            elif type(value) is dict:
                if depth >= MAX_DEPTH:
                    raise PayloadError("schema", f"{name[:40]!r} is nested too deeply")
                self._fields(value, name + self._separator, parts, depth + 1)
                flattened = True
            elif value is None:
                continue  # no reading for this value
            elif type(value) is list:
                raise PayloadError("schema", f"value {name[:40]!r} is a list")
            else:
                parts.append(key + (coder or to_float)(name, value))
        return flattened

    def scalar(self, name: str, payload: bytes, now_ns: int) -> Decoded:
        """The field the topic names: a scalar, `{"value", "ts"}` or a list of such objects."""
        data = scalar_value(payload)
        items = data if type(data) is list else [data]
        if not items or (type(data) is list and any(type(i) is not dict for i in items)):
            raise PayloadError("schema", 'a list payload must hold {"value", "ts"} objects')
        key, coder = self._key(name)
        code = coder or to_float
        out: Decoded = []
        for i, item in enumerate(items):
            ts = now_ns + i  # values without a time: a nanosecond apart, in order
            if type(item) is dict:
                if "value" not in item:
                    raise PayloadError("schema", 'an object payload needs "value"')
                ts = self.clock.read(item.get("ts"), now_ns + i)
                item = item["value"]
            if item is None:
                continue
            if type(item) in (dict, list):
                raise PayloadError("schema", f"the value of {name[:40]!r} must be a scalar")
            out.append((key + code(name, item), ts))
        return out

    def _check_unique(self, values: dict[str, Any]) -> None:
        names = list(self._names(values, ""))
        if len(set(names)) != len(names):
            raise PayloadError("schema", "two values have one name once nested names are joined")

    def _names(self, values: dict[str, Any], prefix: str) -> Iterator[str]:
        for name, value in values.items():
            if type(value) is dict:
                yield from self._names(value, prefix + name + self._separator)
            elif value is not None:
                yield prefix + name
