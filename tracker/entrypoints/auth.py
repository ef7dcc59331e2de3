"""Who may call what: an `X-API-Key` header resolved to a role, checked per route; failed
attempts are rate limited per client address."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from tracker.access import KeyRing, Principal, Role
from tracker.settings import TrackerSettings

from .limits import TokenBuckets, too_many

log = logging.getLogger(__name__)


class Problem(BaseModel):
    """An error answer other than a validation error."""

    detail: str


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error answers with a `detail` string."""
    return {code: {"model": Problem, "description": HTTPStatus(code).phrase} for code in codes}


# every route behind a key may answer these; every body may be too large
STAFF_ERRORS = problems(401, 403, 413, 429)

# auto_error off: a missing key answers our own 401 (with WWW-Authenticate), not FastAPI's 403
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key")


class Access:
    """Dependencies admitting keys of a role or above; 401 for no or a bad key, 403 for a
    key whose role is too low, 429 while the client's address has failed too often.

    While an address is blocked no key from it is checked, a correct one neither: were a
    correct key let through, a 429 would just mean "wrong" and guessing would go on at full
    speed. A request with no key is no guess: it is not counted (and answers 401).
    """

    def __init__(self, keys: KeyRing, failures: TokenBuckets) -> None:
        self._keys = keys
        self._failures = failures

    @classmethod
    def from_settings(cls, settings: TrackerSettings) -> Access:
        failures = TokenBuckets(
            settings.api_key_failures_per_min / 60.0, settings.api_key_failures_burst
        )
        return cls(KeyRing(settings.all_api_keys()), failures)

    def _admit(self, address: str, key: str | None) -> Principal:
        """The key's holder; 429 while `address` is blocked, 401 (counted) for a bad key."""
        if key:
            wait = self._failures.wait(address)
            if wait:
                raise too_many(wait, "too many failed API keys from this address")
        principal = self._keys.lookup(key)
        if principal is None:
            if key:
                self._failures.take(address)
                if self._failures.wait(address):
                    log.warning("API keys from %s: too many failures, blocked a while", address)
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="missing or bad API key",
                headers={"WWW-Authenticate": "X-API-Key"},
            )
        return principal

    def require(self, needed: Role) -> Any:
        """`Depends(...)` for a route (or `dependencies=[...]`) that needs `needed`."""

        def check(
            request: Request, key: Annotated[str | None, Security(api_key_header)] = None
        ) -> Principal:
            principal = self._admit(request.client.host if request.client else "unknown", key)
            if not principal.role.allows(needed):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    detail=f"this needs the {needed.value} role; the key is {principal.role.value}",
                )
            return principal

        return Depends(check)
