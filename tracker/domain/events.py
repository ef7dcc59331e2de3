"""Domain events: things that happened, named in the past tense."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OperationCompleted:
    order_id: str
    seq: int
    at: datetime


@dataclass(frozen=True)
class OrderCompleted:
    order_id: str
    at: datetime


@dataclass(frozen=True)
class OrderFellBehind:
    """The projected completion passed the due date."""

    order_id: str
    eta: datetime
    due_at: datetime
    at: datetime


@dataclass(frozen=True)
class OrderBackOnTrack:
    order_id: str
    eta: datetime
    due_at: datetime
    at: datetime


Event = OperationCompleted | OrderCompleted | OrderFellBehind | OrderBackOnTrack
