"""Field values to line protocol with one declared type per field name, or a PayloadError."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from shopfloor.contract.payloads import PayloadError

FieldType = Literal["float", "int", "bool", "string"]
FIELD_TYPES: tuple[FieldType, ...] = ("float", "int", "bool", "string")
MAX_NAME_LENGTH = 128
# a JSON number, the only text we read as a number (float() would also take "1_0" or "inf")
NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
NON_FINITE = frozenset({"nan", "-nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity"})
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\r": r"\r"})
_STRING_ESCAPES = str.maketrans({'"': r"\"", "\\": "\\\\", "\n": r"\n", "\r": r"\r"})
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})

Coder = Callable[[str, Any], str]


def _type_error(name: str, value: Any, wanted: str) -> PayloadError:
    shown = repr(value[:40] if isinstance(value, str) else value)[:60]
    return PayloadError("type", f"field {name!r}: {shown} is not {wanted}")


def check_text(text: str, what: str) -> str:
    """Refuse text that cannot be sent as UTF-8 (lone surrogates from a JSON escape)."""
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise PayloadError("invalid_json", f"{what} is not valid Unicode") from None
    return text


def field_key(name: str) -> str:
    """The escaped field key followed by `=`; PayloadError("schema") for unusable names."""
    if not name or len(name) > MAX_NAME_LENGTH:
        raise PayloadError("schema", f"field name {name[:40]!r} must be 1-{MAX_NAME_LENGTH} chars")
    if "\\" in name or name == "time":
        raise PayloadError("schema", f"field name {name[:40]!r} cannot be stored (\\ or time)")
    return check_text(name, "a field name").translate(_KEY_ESCAPES) + "="


def _number(name: str, value: Any, wanted: str) -> int | float:
    """A JSON number, bool or numeric text as a Python number."""
    kind = type(value)
    if kind is bool:
        return 1 if value else 0
    if kind is int or kind is float:
        if not math.isfinite(value):
            raise PayloadError("not_finite", f"field {name!r} is {value}")
        return value  # type: ignore[no-any-return]
    if kind is str:
        text = value.strip()
        if NUMBER.fullmatch(text) and len(text) <= 400:
            number = float(text) if any(c in text for c in ".eE") else int(text)
            if math.isinf(number):
                raise PayloadError("not_finite", f"field {name!r} is {text[:40]!r}")
            return number
        if text.lower() in NON_FINITE:
            raise PayloadError("not_finite", f"field {name!r} is {text!r}")
    raise _type_error(name, value, wanted)


def to_float(name: str, value: Any) -> str:
    """A float field: numbers, booleans as 1.0/0.0, numeric text."""
    if type(value) is float:
        if value - value != 0.0:
            raise PayloadError("not_finite", f"field {name!r} is {value}")
        return repr(value)
    try:
        return repr(float(_number(name, value, "a number")))
    except OverflowError:
        raise _type_error(name, value, "a float in range") from None


def to_int(name: str, value: Any) -> str:
    """An integer field: whole numbers within 64 bits, booleans as 1/0, numeric text."""
    number = _number(name, value, "a whole number")
    if isinstance(number, float):
        if not number.is_integer():
            raise _type_error(name, value, "a whole number")
        number = int(number)
    if not _INT_MIN <= number <= _INT_MAX:
        raise _type_error(name, value, "a 64-bit integer")
    return f"{number}i"


def to_bool(name: str, value: Any) -> str:
    """A boolean field: true/false, 1/0, and the same as text in any case."""
    if type(value) is bool:
        return "true" if value else "false"
    key = value.strip().lower() if isinstance(value, str) else value
    if isinstance(key, str | int | float):
        if key in _TRUE or key == 1:
            return "true"
        if key in _FALSE or key == 0:
            return "false"
    raise _type_error(name, value, "a boolean")


def to_string(name: str, value: Any) -> str:
    """A string field: text as is; numbers and booleans as their JSON text."""
    kind = type(value)
    if kind is str:
        text = check_text(value, f"field {name!r}")
    elif kind is bool:
        text = "true" if value else "false"
    elif kind is int:
        text = str(value)
    elif kind is float:
        if not math.isfinite(value):
            raise PayloadError("not_finite", f"field {name!r} is {value}")
        text = repr(value)
    else:
        raise _type_error(name, value, "text")
    return '"' + text.translate(_STRING_ESCAPES) + '"'


CODERS: dict[FieldType, Coder] = {
    "float": to_float,
    "int": to_int,
    "bool": to_bool,
    "string": to_string,
}


class FieldTypes:
    """Declared field types by name; a name with `*` declares every field it matches (`*` is
    any text within one `/` level: `Admin/*/Name`). Exact names win, then patterns in order."""

    _CACHE_LIMIT = 10_000

    def __init__(self, declared: Mapping[str, FieldType] | None = None) -> None:
        declared = dict(declared or {})
        self._exact = {k: v for k, v in declared.items() if "*" not in k}
        self._patterns = [
            (re.compile("[^/]*".join(re.escape(part) for part in k.split("*"))), v)
            for k, v in declared.items()
            if "*" in k
        ]
        self._found: dict[str, FieldType | None] = {}

    def get(self, name: str) -> FieldType | None:
        """The declared type of a field, or None when nothing declares it."""
        found = self._exact.get(name)
        if found is not None or not self._patterns:
            return found
        if name in self._found:
            return self._found[name]
        found = next((v for regex, v in self._patterns if regex.fullmatch(name)), None)
        if len(self._found) >= self._CACHE_LIMIT:
            self._found.clear()
        self._found[name] = found
        return found


class FieldCoders:
    """The one field-typing rule for named values (mapped tags, Sparkplug metrics): the type
    declared for the name, else a string field for text and a float field for the rest."""

    _CACHE_LIMIT = 10_000

    def __init__(self, declared: Mapping[str, FieldType] | None = None) -> None:
        self._types = FieldTypes(declared)
        # (name, is text) -> (escaped key + "=", coder)
        self._coders: dict[tuple[str, bool], tuple[str, Coder]] = {}

    def part(self, name: str, value: Any, text: bool) -> str:
        """`key=value` of one value; PayloadError when it cannot take its field's type."""
        coder = self._coders.get((name, text))
        if coder is None:
            declared = self._types.get(name) or ("string" if text else "float")
            coder = (field_key(name), CODERS[declared])
            if len(self._coders) >= self._CACHE_LIMIT:
                self._coders.clear()
            self._coders[(name, text)] = coder
        return coder[0] + coder[1](name, value)
