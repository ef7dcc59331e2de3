"""Strict JSON bodies: NaN, Infinity, out-of-range numbers and deep nesting are named, never
parsed into values no answer can carry."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError

from tracker.entrypoints.strict_json import (
    MAX_DEPTH,
    JsonRejected,
    StrictBodies,
    loads,
    validation_error,
)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"quantity": NaN}', "NaN is not valid JSON"),
        (b'{"quantity": Infinity}', "Infinity is not valid JSON"),
        (b"[-Infinity]", "-Infinity is not valid JSON"),
        (b'{"setup_s": 1e999}', "1e999 is out of range"),
        (b'{"quantity": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b'{"a": ', "not valid JSON: Expecting value"),
        (b"\xff\xfe\xfa", "not valid JSON"),
        (b'{"quantity": 1, "quantity": 1000000}', "duplicate key 'quantity'"),
        (
            b'{"routing": [{"machine": "a", "cycle_s": 1, "machine": "b"}]}',
            "duplicate key 'machine'",
        ),
    ],
)
def test_non_json_values_are_rejected_by_name(body: bytes, named: str) -> None:
    with pytest.raises(JsonRejected, match=named):
        loads(body)


def test_nesting_is_bounded_however_deep_the_body() -> None:
    assert loads(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) == json.loads(
        "[" * MAX_DEPTH + "]" * MAX_DEPTH
    )
    for depth in (MAX_DEPTH + 1, 5_000, 500_000):  # far past Python's recursion limit too
        with pytest.raises(JsonRejected, match=f"nested deeper than {MAX_DEPTH} levels"):
            loads(b'{"a":' * depth + b"1" + b"}" * depth)


def test_plain_json_parses_as_usual() -> None:
    assert loads(b'{"a": [1, 2.5, -0.0, "NaN", null, true]}') == {
        "a": [1, 2.5, -0.0, "NaN", None, True]
    }


def _scope(method: str = "POST", path: str = "/x", media: bytes | None = b"application/json"):
    headers = [] if media is None else [(b"content-type", media)]
    return {"type": "http", "method": method, "path": path, "headers": headers}


def test_the_body_check_answers_422_in_fastapis_shape_for_json_bodies_only() -> None:
    check = StrictBodies(skip={"/import"})
    assert check(_scope(), b'{"a": 1}') is None
    status, content = check(_scope(), b'{"a": NaN}') or (0, {})
    assert status == 422
    assert content == {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body"],
                "msg": "NaN is not valid JSON (RFC 8259 has no NaN or Infinity)",
                "input": None,
            }
        ]
    }
    assert check(_scope(media=None), b"[NaN]") is not None  # FastAPI reads it as JSON
    assert check(_scope(media=b"application/merge-patch+json"), b"[NaN]") is not None
    assert check(_scope(media=b"text/csv"), b"[NaN]") is None
    assert check(_scope(path="/import"), b"[NaN]") is None  # parses its own body
    assert check(_scope(method="GET"), b"[NaN]") is None
    assert check(_scope(), b"") is None


def test_a_validation_error_whose_input_is_nan_still_renders() -> None:
    exc = RequestValidationError(
        [{"type": "greater_than_equal", "loc": ("body", "x"), "msg": "bad", "input": float("nan")}]
    )
    response: Any = asyncio.run(validation_error(None, exc))  # type: ignore[arg-type]
    assert response.status_code == 422
    assert json.loads(response.body)["detail"][0]["input"] == "nan"
