"""Tables and the imperative mapping of the domain classes onto them (SQLite and PostgreSQL)."""

# size: every table in one MetaData, which the migrations are checked against; the tables are
# declarations, not logic

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import registry, relationship

from tracker.domain.alerts import Alert, AlertState, Severity
from tracker.domain.incidents import Incident, IncidentState
from tracker.domain.machine import Machine
from tracker.domain.model import Operation, OperationState, Order, OrderStatus
from tracker.domain.schedule import ScheduleStatus

from .column_types import UTCDateTime as UTCDateTime


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, values_callable=lambda e: [m.value for m in e], length=20)


# named constraints, so later migrations (SQLite batch mode included) can find them by name
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("customer", String(200), nullable=False),
    Column("product", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("due_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", _enum(OrderStatus), nullable=False),
    Column("schedule_status", _enum(ScheduleStatus), nullable=False),
    # why the order is at risk or late, for people (a JSON list of strings)
    Column("schedule_reasons", JSON, nullable=False, default=list),
    Column("eta", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("token_hash", String(64), nullable=False),
    # the lifecycle: when the order was released, started, shipped or cancelled (and why)
    Column("released_at", UTCDateTime),
    Column("started_at", UTCDateTime),
    Column("shipped_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Column("cancel_reason", Text),
)

operations = Table(
    "operations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("machine", String(100), nullable=False),
    Column("setup_s", Float, nullable=False),
    Column("cycle_s", Float, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("good_qty", Integer, nullable=False, default=0),
    Column("state", _enum(OperationState), nullable=False),
    Column("started_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("observed_cycle_s", Float),
    Column("last_count_at", UTCDateTime),
    Column("scrap_qty", Integer, nullable=False, default=0),
    # the current plan: machine, start and end (frozen once the operation starts: planned vs
    # actual); written by the planner, not part of the domain object
    Column("planned_machine", String(100)),
    Column("planned_start", UTCDateTime),
    Column("planned_end", UTCDateTime),
    UniqueConstraint("order_id", "seq"),
)

machines = Table(
    "machines",
    metadata,
    Column("machine_id", String(100), primary_key=True),
    Column("state", String(20), nullable=False),
    # PLC counters: the contract admits 63 bits (a 32-bit unsigned counter passes int4)
    Column("last_counter", BigInteger),
    Column("last_seen", UTCDateTime),
    Column("order_id", String(64)),
    Column("seq", Integer),
    Column("last_scrap_counter", BigInteger),
    Column("last_count_at", UTCDateTime),
    Column("state_since", UTCDateTime),
    Column("last_heard_at", UTCDateTime),
    Column("stale_events", Integer, nullable=False, default=0),
)

# closed periods of a machine in one state (utilisation); the current one is on `machines`
machine_states = Table(
    "machine_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("machine_id", String(100), nullable=False),
    Column("state", String(20), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=False),
    Index("ix_machine_states_machine_id_started_at", "machine_id", "started_at"),
)

alarms = Table(
    "alarms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("machine_id", String(100), nullable=False, index=True),
    Column("event_id", String(128), nullable=False),
    Column("code", String(128), nullable=False),
    Column("message", Text, nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    # the job the machine was bound to when the alarm came
    Column("order_id", String(64)),
    Column("seq", Integer),
)

# unplanned stops of machines (DOWN, or IDLE with a job bound) and why: see domain/downtime.py
downtime = Table(
    "downtime",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("machine_id", String(100), nullable=False),
    Column("state", String(20), nullable=False),  # the stop's kind: DOWN or IDLE
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),  # None while the stop lasts
    # the job bound when the stop began, and the alarm that came with it
    Column("order_id", String(64)),
    Column("seq", Integer),
    Column("alarm_code", String(128)),
    Column("alarm_text", Text),
    # the reason (a code of the plant file's catalogue), its category, and who gave it
    Column("reason", String(100)),
    Column("category", String(20)),
    Column("source", String(10)),  # "alarm" or "person"
    Column("classified_by", String(200)),
    Column("classified_at", UTCDateTime),
    Column("comment", Text),
    Index("ix_downtime_machine_id_started_at", "machine_id", "started_at"),
    Index("ix_downtime_started_at", "started_at"),
)

# machine events that could not be attributed to an order's operation: kept, never dropped
unassigned_events = Table(
    "unassigned_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("machine_id", String(100), nullable=False, index=True),
    Column("event_id", String(128), nullable=False),
    Column("type", String(20), nullable=False),
    Column("summary", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("event_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    # the parts a cycle counted, and the job they were counted to once one was bound
    Column("good_qty", Integer),
    Column("scrap_qty", Integer),
    Column("assigned_order_id", String(64)),
    Column("assigned_seq", Integer),
    Column("assigned_at", UTCDateTime),
)

# every job bound to or released from a machine: by whom (an event, the dispatch list, a person)
job_bindings = Table(
    "job_bindings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("machine_id", String(100), nullable=False, index=True),
    Column("action", String(10), nullable=False),  # "start" or "end"
    Column("order_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("source", String(20), nullable=False),  # "event", "dispatch" or "operator"
    Column("actor", String(200), nullable=False),  # the event id or the API key's name
    Column("at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    # unassigned cycles a start took (their parts counted to the job)
    Column("claimed_good", Integer, nullable=False, default=0),
    Column("claimed_scrap", Integer, nullable=False, default=0),
)

# what people did at a machine (the operator terminal, the board's buttons): who, when, what
operator_actions = Table(
    "operator_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("machine_id", String(100), nullable=False),
    Column("action", String(20), nullable=False),  # "start", "end", "scrap" or "classify"
    Column("actor", String(200), nullable=False),  # the API key's name
    Column("role", String(20)),  # the key's role
    Column("order_id", String(64)),
    Column("seq", Integer),
    Column("quantity", Integer),  # scrapped parts
    Column("reason", String(100)),  # a code of the plant file's catalogue
    Column("stop_id", Integer),  # the downtime record classified
    Column("comment", Text),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_operator_actions_machine_id_at", "machine_id", "at"),
)

# events already applied, so a redelivered message changes nothing
processed_events = Table(
    "processed_events",
    metadata,
    Column("machine_id", String(100), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
)

# one row per incident (a stopped machine), from opened to closed; one open per machine
incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("machine_id", String(100), nullable=False),
    Column("cause", String(20), nullable=False),  # DOWN or OFFLINE
    Column("state", _enum(IncidentState), nullable=False),
    # the alarm that came with the stop, if any (free text, and its code)
    Column("reason", Text),
    Column("reason_code", String(128)),
    Column("started_at", UTCDateTime, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("message", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_event", String(20), nullable=False),
    Column("acked_by", String(200)),
    Column("acked_at", UTCDateTime),
    Column("ack_comment", Text),
    Column("closed_at", UTCDateTime),
    Index("ix_incidents_machine_id_state", "machine_id", "state"),
)

# one row per alert, from raised to cleared; one open alert per order and kind
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("state", _enum(AlertState), nullable=False),
    Column("severity", _enum(Severity), nullable=False),
    Column("schedule_status", _enum(ScheduleStatus), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("eta", UTCDateTime),
    Column("due_at", UTCDateTime, nullable=False),
    Column("message", Text, nullable=False),
    # bumped by every transition that is delivered (raised, escalated, acknowledged, cleared)
    Column("version", Integer, nullable=False),
    Column("last_event", String(20), nullable=False),
    Column("acked_by", String(200)),
    Column("acked_at", UTCDateTime),
    Column("ack_comment", Text),
    Column("cleared_at", UTCDateTime),
    # the incident (a stopped machine) the alert hangs under, if any
    Column("incident_id", ForeignKey("incidents.id", ondelete="SET NULL"), index=True),
    Index("ix_alerts_order_id_kind", "order_id", "kind"),
)

# the outbox: one row per (alert or incident version, channel), delivered at least once
alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # an alert's row names the alert, an incident's the incident
    Column("alert_id", ForeignKey("alerts.id", ondelete="CASCADE")),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE")),
    Column("version", Integer, nullable=False),
    Column("channel", String(20), nullable=False),  # "mqtt" or "webhook"
    Column("target", String(500), nullable=False),  # the topic or the URL
    Column("payload", Text, nullable=False),  # JSON of the alert as of this version
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime),
    UniqueConstraint("alert_id", "version", "channel", "target"),
    UniqueConstraint("incident_id", "version", "channel", "target"),
    Index("ix_alert_deliveries_channel_delivered_at", "channel", "delivered_at"),
)

# customers' notices of a moved promise (docs/customer-notifications.md): who hears of an
# order, what they last heard, the notices waiting to go out, and the links sent in them
order_contacts = Table(
    "order_contacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(20), nullable=False),  # "email" or "webhook"
    Column("address", String(500), nullable=False),  # the email address or the URL
    Column("secret", String(200)),  # a webhook's `whsec_` signing secret (never shown again)
    Column("added_by", String(20), nullable=False),  # "staff" or "customer"
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("order_id", "channel", "address"),
)

order_promises = Table(
    "order_promises",
    metadata,
    Column("order_id", ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True),
    Column("at_risk", Boolean, nullable=False),  # the latest forecast: P90 past the due date
    Column("told", Boolean, nullable=False),  # what its customers last heard
    Column("told_at", UTCDateTime),
    Column("seen_at", UTCDateTime, nullable=False),
)

customer_notices = Table(
    "customer_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", ForeignKey("order_contacts.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("payload", Text, nullable=False),  # JSON of the notice, without its link
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime),
    Index("ix_customer_notices_channel_delivered_at", "channel", "delivered_at"),
)

# tracking links sent in notices: only the token's hash, valid until `expires_at` and while the
# order's own token is the one it was minted under (rotating or revoking that ends them)
order_link_tokens = Table(
    "order_link_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "order_id", ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("order_token_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# machine events that parsed but could not be applied (a bug, data the database refuses): kept
# with the reason to be replayed once the cause is fixed, so that they never block the stream
parked_messages = Table(
    "parked_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("reason", Text, nullable=False),
    Column("traceback_id", String(12), nullable=False),  # in the log with the traceback
    Column("first_failed_at", UTCDateTime, nullable=False),
    Column("last_failed_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
)

mapper_registry = registry(metadata=metadata)
_mapped = False


def start_mappers() -> None:
    """Map the domain classes onto the tables (once per process)."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(
        Operation,
        operations,
        exclude_properties=["planned_machine", "planned_start", "planned_end"],
    )
    mapper_registry.map_imperatively(
        Order,
        orders,
        properties={
            "operations": relationship(
                Operation, order_by=operations.c.seq, cascade="all, delete-orphan", lazy="selectin"
            )
        },
    )
    mapper_registry.map_imperatively(Machine, machines)
    mapper_registry.map_imperatively(Alert, alerts, exclude_properties=["notices"])
    mapper_registry.map_imperatively(Incident, incidents, exclude_properties=["notices"])
    _mapped = True

    @event.listens_for(Order, "load")
    def _init_events(order: Order, _context: object) -> None:
        order.events = []

    @event.listens_for(Alert, "load")
    def _init_notices(alert: Alert, _context: object) -> None:
        alert.notices = []

    @event.listens_for(Incident, "load")
    def _init_incident_notices(incident: Incident, _context: object) -> None:
        incident.notices = []
