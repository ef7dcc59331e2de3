"""The web side of the tracker: the supervisor board, the customer tracking page, live events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tracker.bootstrap import Tracker


def make_router(tracker: Tracker, viewer: Any) -> APIRouter:
    """Pages and the event stream; `viewer` is the dependency that admits a viewer's key."""
    return APIRouter()
