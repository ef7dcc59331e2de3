"""Who may call what over HTTP: an `X-API-Key` header resolved to a role, checked per route;
failed attempts are rate limited per client address. What keys and roles are: `tracker.auth`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from tracker.auth.api_keys import KeyRing, Principal, Role
from tracker.settings import TrackerSettings

from .limits import TokenBuckets, too_many

log = logging.getLogger(__name__)

# auto_error off: a missing key answers our own 401 (with WWW-Authenticate), not FastAPI's 403
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key")


class Access:
    """Admits keys of a role or above; 401 for no or a bad key, 403 for a key whose role is
    too low, 429 while the client's address has failed too often.

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

    def check(self, request: Request, key: str | None, needed: Role) -> Principal:
        """The holder of the request's key, when its role allows `needed`."""
        principal = self._admit(request.client.host if request.client else "unknown", key)
        if not principal.role.allows(needed):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"this needs the {needed.value} role; the key is {principal.role.value}",
            )
        return principal


def key_of(needed: Role) -> Callable[..., Principal]:
    """A dependency admitting keys of `needed` or above, checked by the app's `Access`
    (`app.state.access`: each app counts its own failures)."""

    def check(
        request: Request, key: Annotated[str | None, Security(api_key_header)] = None
    ) -> Principal:
        access: Access = request.app.state.access
        return access.check(request, key, needed)

    check.__name__ = f"{needed.value}_key"
    return check
