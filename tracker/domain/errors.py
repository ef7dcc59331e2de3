"""The domain's error type and the rule that every time is timezone-aware."""

from __future__ import annotations

from datetime import datetime


class DomainError(ValueError):
    """A command that does not fit the current state (unknown operation, finished order...)."""


def aware(at: datetime) -> None:
    """Refuse a naive datetime: UTC inside, local time only for display."""
    if at.tzinfo is None:
        raise DomainError("times must be timezone-aware")
