"""What the scheduler plans (jobs, their remaining operations, machines) and the plan it makes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum


class Rule(StrEnum):
    """Dispatching rules: which waiting operation a free machine takes next."""

    RELEASE = "release"  # first released, first served (the queue in release order)
    EDD = "edd"  # earliest due date (the default)
    SPT = "spt"  # shortest processing time of the operation
    CR = "cr"  # critical ratio: time to due date over remaining work, smallest first
    ATC = "atc"  # apparent tardiness cost (Vepsalainen & Morton)


@dataclass(frozen=True)
class Shift:
    """Working hours on some weekdays (0 = Monday); `end <= start` runs past midnight."""

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class Calendar:
    """When a work center works, in its local time zone; no shifts at all means 24/7.

    Breaks are taken out of the shifts; holidays (local dates) have no working time.
    """

    name: str = "24/7"
    timezone: str = "UTC"
    shifts: tuple[Shift, ...] = ()
    breaks: tuple[Shift, ...] = ()
    holidays: frozenset[date] = frozenset()

    @property
    def always(self) -> bool:
        return not self.shifts and not self.holidays


ALWAYS = Calendar()


@dataclass(frozen=True)
class PlanOperation:
    """An operation still to do: its candidate machines and the work left on it.

    `run_s` is the processing time left (cycle time x parts still to make, from the observed
    cycle time once there is one), `setup_s` the setup still to do (0 once it started).
    An operation `running_on` a machine stays there and starts at once (when the calendar lets).
    """

    seq: int
    machines: tuple[str, ...]
    setup_s: float
    run_s: float
    running_on: str | None = None

    @property
    def work_s(self) -> float:
        return self.setup_s + self.run_s


@dataclass(frozen=True)
class PlanJob:
    """An open order as the scheduler sees it: its remaining operations in routing order."""

    order_id: str
    due_at: datetime
    released_at: datetime
    operations: tuple[PlanOperation, ...]
    priority: int = 0  # higher goes first among otherwise equal jobs (and weighs in ATC)


@dataclass(frozen=True)
class PlanMachine:
    """A machine that can be planned on, from `available_at` (later than now while it is DOWN)."""

    machine_id: str
    calendar: Calendar = ALWAYS
    available_at: datetime | None = None


@dataclass(frozen=True)
class PlannedOperation:
    order_id: str
    seq: int
    machine: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Plan:
    """Every open operation on a machine with a planned start and end; ETAs follow from it."""

    made_at: datetime
    rule: Rule
    operations: Mapping[tuple[str, int], PlannedOperation] = field(default_factory=dict)
    # the planned end of each order's last operation
    etas: Mapping[str, datetime] = field(default_factory=dict)
    # orders the plan could not place (no machine for an operation), with the reason
    unplanned: Mapping[str, str] = field(default_factory=dict)

    def eta(self, order_id: str) -> datetime | None:
        """When the order is planned to finish; None when it is not in the plan."""
        return self.etas.get(order_id)
