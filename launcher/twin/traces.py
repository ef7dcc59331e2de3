"""What the twin records of each order: its status and ETA over time, its forecasts and its
true completion (plant time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Look:
    """What the tracker said of an order at one moment."""

    at: datetime
    status: str  # on_track, at_risk, late
    reasons: tuple[str, ...]
    eta: datetime | None
    p_on_time: float | None = None
    p50: datetime | None = None
    p90: datetime | None = None


@dataclass
class OrderTrace:
    """One order through a twin run."""

    order_id: str
    released_at: datetime
    due_at: datetime
    looks: list[Look] = field(default_factory=list)
    completed_at: datetime | None = None

    @property
    def late(self) -> bool:
        """It finished after its due date (or never finished in the run)."""
        return self.completed_at is None or self.completed_at > self.due_at

    def first_warning(self) -> Look | None:
        """The first look that was not on track."""
        return next((look for look in self.looks if look.status != "on_track"), None)

    def look_at(self, when: datetime) -> Look | None:
        """The latest look at or before `when`."""
        found = None
        for look in self.looks:
            if look.at > when:
                break
            found = look
        return found


@dataclass(frozen=True)
class OperationDone:
    """One operation as the tracker recorded it by the end of a run."""

    started_at: datetime | None
    completed_at: datetime | None
    good: int
    scrap: int


@dataclass
class TwinRun:
    """A whole run: every order's trace and what the run cost."""

    scenario: str
    orders: dict[str, OrderTrace]
    replans: int = 0
    events: int = 0
    wall_s: float = 0.0
    plant_s: float = 0.0
