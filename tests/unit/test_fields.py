"""Field values: one declared type per field, coercion or a PayloadError with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.fields import CODERS, FieldCoders, FieldType, field_key
from shopfloor.contract.payloads import PayloadError

WRITTEN: list[tuple[FieldType, Any, str]] = [
    ("float", 41.5, "41.5"),
    ("float", 42, "42.0"),
    ("float", -0.0, "-0.0"),
    ("float", 1e20, "1e+20"),
    ("float", True, "1.0"),
    ("float", False, "0.0"),
    ("float", "42.5", "42.5"),
    ("float", " 7 ", "7.0"),
    ("float", "-1e3", "-1000.0"),
    ("int", 42, "42i"),
    ("int", 42.0, "42i"),
    ("int", -(2**63), f"{-(2**63)}i"),
    ("int", 2**63 - 1, f"{2**63 - 1}i"),
    ("int", True, "1i"),
    ("int", "17", "17i"),
    ("int", "17.0", "17i"),
    ("bool", True, "true"),
    ("bool", False, "false"),
    ("bool", 1, "true"),
    ("bool", 0.0, "false"),
    ("bool", "TRUE", "true"),
    ("bool", " false ", "false"),
    ("bool", "1", "true"),
    ("string", "RUNNING", '"RUNNING"'),
    ("string", 'say "hi"\\', r'"say \"hi\"\\"'),
    ("string", "two\nlines", r'"two\nlines"'),
    ("string", 42, '"42"'),
    ("string", 1.5, '"1.5"'),
    ("string", True, '"true"'),
    ("string", "", '""'),
]


@pytest.mark.parametrize(("ftype", "value", "written"), WRITTEN)
def test_value_is_written_with_its_fields_declared_type(
    ftype: FieldType, value: Any, written: str
) -> None:
    assert CODERS[ftype]("f", value) == written


REJECTED: list[tuple[FieldType, Any, str]] = [
    ("float", "hot", "type"),
    ("float", "1_000", "type"),  # Python reads it, JSON and we do not
    ("float", "0x10", "type"),
    ("float", "", "type"),
    ("float", float("nan"), "not_finite"),
    ("float", float("inf"), "not_finite"),
    ("float", "NaN", "not_finite"),
    ("float", "-Infinity", "not_finite"),
    ("float", "1e400", "not_finite"),
    ("float", 10**400, "type"),  # a whole number too large for a float
    ("float", "9" * 500, "type"),
    ("int", 1.5, "type"),
    ("int", 2**63, "type"),
    ("int", -(2**63) - 1, "type"),
    ("int", 1e19, "type"),
    ("int", "1.5", "type"),
    ("int", "many", "type"),
    ("int", float("nan"), "not_finite"),
    ("bool", 2, "type"),
    ("bool", "yes", "type"),
    ("bool", 0.5, "type"),
    ("bool", float("nan"), "type"),
    ("string", float("inf"), "not_finite"),
    ("string", "\ud800", "invalid_json"),  # a lone surrogate from a JSON \\u escape
    ("string", None, "type"),
]


@pytest.mark.parametrize(("ftype", "value", "reason"), REJECTED)
def test_value_that_cannot_take_the_declared_type_is_rejected_with_the_reason(
    ftype: FieldType, value: Any, reason: str
) -> None:
    with pytest.raises(PayloadError) as excinfo:
        CODERS[ftype]("f", value)

    assert excinfo.value.reason == reason
    assert "'f'" in excinfo.value.detail or reason == "invalid_json"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("temp", "temp="),
        ("spindle temp", r"spindle\ temp="),
        ("a,b=c", r"a\,b\=c="),
        ("Status/StateCurrent", "Status/StateCurrent="),
        ("température", "température="),
    ],
)
def test_field_names_are_escaped(name: str, key: str) -> None:
    assert field_key(name) == key


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "schema"),
        ("x" * 129, "schema"),
        ("time", "schema"),  # InfluxDB refuses a field named time
        ("a\\", "schema"),  # a trailing backslash would escape the `=`
        ("\udcff", "invalid_json"),
    ],
)
def test_unusable_field_names_are_rejected(name: str, reason: str) -> None:
    with pytest.raises(PayloadError) as excinfo:
        field_key(name)

    assert excinfo.value.reason == reason


def test_named_values_are_text_fields_when_text_floats_otherwise_unless_declared() -> None:
    fields = FieldCoders({"count": "int", "Admin/*/Name": "string"})
    assert fields.part("state", "RUNNING", text=True) == 'state="RUNNING"'
    assert fields.part("temp", 41, text=False) == "temp=41.0"
    assert fields.part("count", "7", text=True) == "count=7i"
    assert fields.part("Admin/x/Name", 5, text=False) == 'Admin/x/Name="5"'
    with pytest.raises(PayloadError) as refused:
        fields.part("temp", "hot", text=False)
    assert refused.value.reason == "type"
