"""What one unit of work remembers besides the session: rows it saw, locked and changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracker.domain.alerts import Alert
from tracker.domain.incidents import Incident
from tracker.domain.machine import Machine
from tracker.domain.model import Order
from tracker.service_layer.unit_of_work import MachineRow


@dataclass
class Snapshot:
    """The part of a transaction's state a failed savepoint puts back."""

    events_of: list[tuple[Order, int]]
    locked_orders: set[str]
    locked_machines: set[str]
    alerts_seen: int
    deliveries_added: int
    machines: list[MachineRow] | None
    pending_stops: dict[int, dict[str, Any]]
    incidents_seen: int = 0


@dataclass
class TransactionState:
    """Per-transaction memory of a unit of work; `savepoint()` snapshots and restores it."""

    # orders loaded or added (their events are handled before commit)
    seen: list[Order] = field(default_factory=list)
    alerts_seen: list[Alert] = field(default_factory=list)
    incidents_seen: list[Incident] = field(default_factory=list)
    # orders written without loading them (bulk updates), for the change feed
    touched_orders: set[str] = field(default_factory=set)
    deliveries_added: int = 0
    # machines a command touched (state when first loaded): the bus re-assesses the orders
    # working on them
    loaded_states: dict[str, str | None] = field(default_factory=dict)
    machines: list[MachineRow] | None = None
    # rows locked (FOR UPDATE) so far: later commands of a batch find them without a query
    locked_orders: dict[str, Order] = field(default_factory=dict)
    locked_machines: dict[str, Machine] = field(default_factory=dict)
    unknown_machines: set[str] = field(default_factory=set)  # looked for by a batch, not stored
    rebound: bool = False  # a job was bound or released other than by a job event
    # the open alerts of orders, locked, for `active_alert` (see `lock_alerts`)
    alerts_of: dict[str, list[Alert]] = field(default_factory=dict)
    # downtime records opened in this transaction, written at commit (keys: negative ids), so
    # that a stop that begins and ends in one batch (a job bound just before SETUP) costs none
    pending_stops: dict[int, dict[str, Any]] = field(default_factory=dict)

    def snapshot(self) -> Snapshot:
        """What `restore` needs to forget what happens from now on."""
        return Snapshot(
            [(order, len(order.events)) for order in self.seen],
            set(self.locked_orders),
            set(self.locked_machines),
            len(self.alerts_seen),
            self.deliveries_added,
            self.machines,
            {key: dict(values) for key, values in self.pending_stops.items()},
            len(self.incidents_seen),
        )

    def restore(self, snap: Snapshot) -> None:
        """Forget what happened since `snap` (the session reloads the rows themselves)."""
        for order in self.seen[len(snap.events_of) :]:
            order.events.clear()
        for order, count in snap.events_of:
            del order.events[count:]
        del self.seen[len(snap.events_of) :]
        for order_id in self.locked_orders.keys() - snap.locked_orders:
            del self.locked_orders[order_id]
        for machine_id in self.locked_machines.keys() - snap.locked_machines:
            del self.locked_machines[machine_id]
        del self.alerts_seen[snap.alerts_seen :]
        del self.incidents_seen[snap.incidents_seen :]
        self.alerts_of.clear()  # only saves queries: those asked again are read again
        self.deliveries_added, self.machines = snap.deliveries_added, snap.machines
        self.pending_stops = snap.pending_stops
