"""Error answers: their OpenAPI entries, and 422s in FastAPI's own shape for checks made in a
route."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from tracker.domain.routing import RoutingError


class Problem(BaseModel):
    """An error answer other than a validation error."""

    detail: str


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error answers with a `detail` string."""
    return {code: {"model": Problem, "description": HTTPStatus(code).phrase} for code in codes}


# every route behind a key may answer these; every body may be too large
STAFF_ERRORS = problems(401, 403, 413, 429)


def unprocessable(loc: tuple[str, ...], msg: str) -> RequestValidationError:
    """A 422 in FastAPI's own shape (what the schema promises), with `msg` and `loc`."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": msg, "input": None}])


def routing_422(exc: RoutingError) -> RequestValidationError:
    """The same shape as FastAPI's own 422, with the field in `loc`."""
    return RequestValidationError(
        [
            {"type": "value_error", "loc": ("body", *where.split(".")), "msg": msg, "input": None}
            for where, msg in exc.problems
        ]
    )
