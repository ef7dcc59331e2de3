"""API keys and their roles: viewer < operator < supervisor < admin; only SHA-256 hashes are
kept."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Role(StrEnum):
    """What a key may do; each role may do everything the ones before it may."""

    VIEWER = "viewer"
    OPERATOR = "operator"  # a viewer who may also start and end jobs, scrap and classify stops
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """True when this role may do what `needed` may."""
        return self.rank >= needed.rank


class ApiKeySpec(BaseModel):
    """One configured key (an item of SHOPFLOOR_API_KEYS): who, which role, the key's hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    role: Role
    key_sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="hex SHA-256 of the key")
    # the machines whose jobs the key may start and end; None: every machine
    machines: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=10_000
    )

    @field_validator("key_sha256")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


def hash_key(key: str) -> str:
    """The hex SHA-256 an operator stores for a key (`shopfloor hash-key`)."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who a request's key belongs to."""

    name: str
    role: Role
    machines: frozenset[str] | None = None  # None: any machine

    def may_work(self, machine_id: str) -> bool:
        """Whether the key may start and end jobs on this machine (its role aside)."""
        return self.machines is None or machine_id in self.machines


class KeyRing:
    """The configured keys; a lookup compares the given key's hash with every one of them."""

    def __init__(self, specs: Iterable[ApiKeySpec]) -> None:
        self._keys = [
            (
                bytes.fromhex(s.key_sha256),
                Principal(s.name, s.role, None if s.machines is None else frozenset(s.machines)),
            )
            for s in specs
        ]

    def lookup(self, given: str | None) -> Principal | None:
        """The key's holder (the highest role if it is configured twice), or None."""
        digest = hashlib.sha256((given or "").encode()).digest()
        found: Principal | None = None
        # every key is compared (no early exit), in constant time: the answer time says nothing
        # about which key came close
        for stored, principal in self._keys:
            if (
                hmac.compare_digest(digest, stored)
                and given
                and (found is None or principal.role.rank > found.role.rank)
            ):
                found = principal
        return found
