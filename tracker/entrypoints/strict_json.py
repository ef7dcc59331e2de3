"""Request bodies as strict JSON (RFC 8259): no NaN or Infinity, no key given twice in an
object, nesting bounded; else a 422.

Python's `json` reads `NaN`, `Infinity` and `1e999` as floats that no JSON answer can carry
(rendering the 422 that names them failed with a 500), and recurses once per nesting level.
Every JSON body is read here first, before any route sees it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import Scope

from shopfloor.contract.json_objects import unique_keys

# an order with its routing nests 3 deep, an import file 5
MAX_DEPTH = 32
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class JsonRejected(ValueError):
    """The body is not strict JSON; `pos` is the character offset when it is known."""

    def __init__(self, msg: str, pos: int | None = None) -> None:
        super().__init__(msg)
        self.msg, self.pos = msg, pos

    def error(self) -> dict[str, Any]:
        """One item of a 422's `detail`, in FastAPI's shape."""
        loc: list[str | int] = ["body"] if self.pos is None else ["body", self.pos]
        return {"type": "json_invalid", "loc": loc, "msg": self.msg, "input": None}


def _no_constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not valid JSON (RFC 8259 has no NaN or Infinity)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected(f"the number {text[:40]} is out of range (not a finite double)")
    return value


def _too_deep(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any] = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def loads(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse strict JSON; raise JsonRejected naming the problem."""
    try:
        value = json.loads(
            data, parse_constant=_no_constant, parse_float=_finite, object_pairs_hook=unique_keys
        )
    except JsonRejected:
        raise
    except RecursionError:
        raise JsonRejected(f"nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as exc:
        raise JsonRejected(f"not valid JSON: {exc.msg}", exc.pos) from None
    except ValueError as exc:  # not UTF-8, an integer of more than 4300 digits...
        raise JsonRejected(f"not valid JSON: {exc}") from None
    if isinstance(value, dict | list) and _too_deep(value, max_depth):
        raise JsonRejected(f"nested deeper than {max_depth} levels")
    return value


def _is_json(scope: Scope) -> bool:
    header: bytes | None = dict(scope["headers"]).get(b"content-type")
    if header is None:
        return True  # FastAPI reads a body without a content type as JSON
    media = header.split(b";")[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


class StrictBodies:
    """The check `BodyLimit` runs on each whole body: a 422 for one that is not strict JSON.

    `skip` names paths that parse their own body (with `loads`, answering in their own shape).
    """

    def __init__(self, skip: Iterable[str] = ()) -> None:
        self.skip = frozenset(skip)

    def __call__(self, scope: Scope, body: bytes) -> tuple[int, dict[str, Any]] | None:
        if not body or scope["method"] in _NO_BODY or scope["path"] in self.skip:
            return None
        if not _is_json(scope):
            return None
        try:
            loads(body)
        except JsonRejected as exc:
            return 422, {"detail": [exc.error()]}
        return None


def _json_safe(value: Any) -> Any:
    """`value` with every float that JSON cannot carry written as its name."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 'nan', 'inf', '-inf'
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, rendered even when an error's input holds a NaN or an infinity."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        status_code=422, content={"detail": _json_safe(jsonable_encoder(exc.errors()))}
    )
