"""Domain events: things that happened, named in the past tense."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OperationStarted:
    """A machine began an operation (its first start; a restart after a pause is not news)."""

    order_id: str
    seq: int
    at: datetime


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
class OrderShipped:
    order_id: str
    at: datetime


@dataclass(frozen=True)
class OrderCancelled:
    order_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class OrderFellBehind:
    """The schedule status worsened: on track to at risk or late, or at risk to late."""

    order_id: str
    status: str  # a ScheduleStatus value
    eta: datetime
    due_at: datetime
    reasons: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class OrderBackOnTrack:
    order_id: str
    status: str
    eta: datetime
    due_at: datetime
    reasons: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class OrderScheduleUpdated:
    """Still at risk or late (or late back to at risk): the ETA or the reasons were refreshed."""

    order_id: str
    status: str
    eta: datetime
    due_at: datetime
    reasons: tuple[str, ...]
    at: datetime


Event = (
    OperationStarted
    | OperationCompleted
    | OrderCompleted
    | OrderShipped
    | OrderCancelled
    | OrderFellBehind
    | OrderBackOnTrack
    | OrderScheduleUpdated
)
