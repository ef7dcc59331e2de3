"""Who may call what: an `X-API-Key` header resolved to a role, checked per route."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Security, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from tracker.access import KeyRing, Principal, Role
from tracker.settings import TrackerSettings


class Problem(BaseModel):
    """An error answer other than a validation error."""

    detail: str


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error answers with a `detail` string."""
    return {code: {"model": Problem, "description": HTTPStatus(code).phrase} for code in codes}


# every route behind a key may answer these; every body may be too large
STAFF_ERRORS = problems(401, 403, 413)

# auto_error off: a missing key answers our own 401 (with WWW-Authenticate), not FastAPI's 403
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key")


class Access:
    """Dependencies admitting keys of a role or above; 401 for no or a bad key, 403 for a
    key whose role is too low."""

    def __init__(self, keys: KeyRing) -> None:
        self._keys = keys

    @classmethod
    def from_settings(cls, settings: TrackerSettings) -> Access:
        return cls(KeyRing(settings.all_api_keys()))

    def require(self, needed: Role) -> Any:
        """`Depends(...)` for a route (or `dependencies=[...]`) that needs `needed`."""

        def check(key: Annotated[str | None, Security(api_key_header)] = None) -> Principal:
            principal = self._keys.lookup(key)
            if principal is None:
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED,
                    detail="missing or bad API key",
                    headers={"WWW-Authenticate": "X-API-Key"},
                )
            if not principal.role.allows(needed):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    detail=f"this needs the {needed.value} role; the key is {principal.role.value}",
                )
            return principal

        return Depends(check)
