"""Commands: what the entry points ask the tracker to do, in the imperative."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OperationSpec:
    seq: int
    name: str
    machine: str
    setup_s: float
    cycle_s: float


@dataclass(frozen=True)
class CreateOrder:
    order_id: str
    customer: str
    product: str
    quantity: int
    due_at: datetime
    operations: tuple[OperationSpec, ...]
    token_hash: str
    priority: int = 0


@dataclass(frozen=True)
class RowProblem:
    """Why one row of an import cannot be used; rows are numbered as the file's reader sees them."""

    row: int
    reason: str
    field: str | None = None
    order_id: str | None = None


@dataclass(frozen=True)
class ImportOrders:
    """Create every order of one import in one transaction, or none of them.

    `orders` are (row, order) pairs; `rejected` are the rows that already failed at the edge,
    so that one report lists every bad row, duplicates included.
    """

    orders: tuple[tuple[int, CreateOrder], ...]
    rejected: tuple[RowProblem, ...] = ()
    # check every row as an import would, and add nothing
    dry_run: bool = False


@dataclass(frozen=True)
class StartJob:
    machine_id: str
    event_id: str
    order_id: str
    seq: int
    at: datetime


@dataclass(frozen=True)
class EndJob:
    machine_id: str
    event_id: str
    order_id: str
    seq: int
    at: datetime


@dataclass(frozen=True)
class RecordCycle:
    machine_id: str
    event_id: str
    counter: int
    at: datetime
    cycle_time_s: float | None = None
    order_id: str | None = None
    seq: int | None = None
    scrap_counter: int | None = None
    # the machine's counter wraps to 0 at this value (65536 for a 16-bit counter); None: never
    counter_wrap: int | None = None
    baseline: bool = False  # the counters' values as first seen: a first counter counts none


@dataclass(frozen=True)
class SetMachineState:
    machine_id: str
    event_id: str
    state: str
    at: datetime


@dataclass(frozen=True)
class RecordAlarm:
    machine_id: str
    event_id: str
    code: str
    message: str
    at: datetime


@dataclass(frozen=True)
class MarkSilentMachinesOffline:
    """Put every machine heard from no later than `after_s` seconds before `now` OFFLINE."""

    now: datetime
    after_s: float


@dataclass(frozen=True)
class BindJob:
    """A person starts operation `seq` of `order_id` on a machine (`by`: the API key's name)."""

    machine_id: str
    order_id: str
    seq: int
    by: str
    role: str | None = None  # the key's role, for the operator actions' log


@dataclass(frozen=True)
class ReleaseJob:
    """A person ends the machine's job (only if it is this order's operation, when named)."""

    machine_id: str
    by: str
    order_id: str | None = None
    seq: int | None = None
    role: str | None = None


@dataclass(frozen=True)
class ReportScrap:
    """A person scraps `quantity` parts of a job on a machine, for a reason of the catalogue
    (the job: the one named, else the machine's, else the last one it worked)."""

    machine_id: str
    quantity: int
    reason: str
    by: str
    role: str | None = None
    order_id: str | None = None
    seq: int | None = None
    comment: str | None = None


@dataclass(frozen=True)
class AcknowledgeAlert:
    """A supervisor has seen alert `alert_id`."""

    alert_id: int
    by: str
    comment: str | None = None


@dataclass(frozen=True)
class ClassifyStop:
    """A person gives downtime record `stop_id` its reason (a code of the plant's catalogue)."""

    stop_id: int
    reason: str
    by: str
    comment: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class AcknowledgeIncident:
    """A supervisor has seen incident `incident_id`: its open alerts are acknowledged too."""

    incident_id: int
    by: str
    comment: str | None = None


@dataclass(frozen=True)
class CancelOrder:
    """Stop an order for good (anything but a shipped or cancelled one), saying why."""

    order_id: str
    reason: str


@dataclass(frozen=True)
class ShipOrder:
    """A completed order left the plant."""

    order_id: str


@dataclass(frozen=True)
class ChangeQuantity:
    """Set an open order's quantity (never below what is already made)."""

    order_id: str
    quantity: int


@dataclass(frozen=True)
class CheckOrders:
    """Re-project every open order (the periodic check)."""


Command = (
    CreateOrder
    | ImportOrders
    | StartJob
    | EndJob
    | RecordCycle
    | SetMachineState
    | RecordAlarm
    | MarkSilentMachinesOffline
    | BindJob
    | ReleaseJob
    | ReportScrap
    | CheckOrders
    | AcknowledgeAlert
    | ClassifyStop
    | AcknowledgeIncident
    | CancelOrder
    | ShipOrder
    | ChangeQuantity
)
