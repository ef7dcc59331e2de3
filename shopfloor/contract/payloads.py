"""Payload models for telemetry and events, and the parsers that turn raw bytes into them."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from .json_objects import unique_keys

MAX_NAME_LENGTH = 128


class PayloadError(ValueError):
    """A message that does not follow the contract; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class MachineState(StrEnum):
    """The states a machine reports (PackML-like, reduced to what the tracker needs)."""

    RUNNING = "RUNNING"
    IDLE = "IDLE"
    SETUP = "SETUP"
    DOWN = "DOWN"
    OFFLINE = "OFFLINE"


def parse_timestamp(value: Any) -> datetime | None:
    """RFC 3339 with an offset, or integer epoch milliseconds; None stays None (arrival time)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("ts must be an RFC 3339 string or epoch milliseconds, not a boolean")
    if isinstance(value, int | float):
        try:
            if not math.isfinite(value):
                raise ValueError("ts must be finite")
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError):
            raise ValueError(f"ts {value!r} is out of range for epoch milliseconds") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"ts {value!r} is not RFC 3339") from None
        if parsed.tzinfo is None:
            raise ValueError(f"ts {value!r} has no UTC offset")
        return parsed.astimezone(UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("ts must be timezone-aware")
        return value.astimezone(UTC)
    raise ValueError("ts must be an RFC 3339 string or epoch milliseconds")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", allow_inf_nan=False)


class TelemetryReading(_Frozen):
    """One set of sensor values sampled at one instant."""

    ts: datetime | None = None
    values: dict[str, float]

    @field_validator("ts", mode="before")
    @classmethod
    def _ts(cls, value: Any) -> datetime | None:
        return parse_timestamp(value)

    @field_validator("values", mode="before")
    @classmethod
    def _values(cls, value: Any) -> Any:
        if not isinstance(value, dict) or not value:
            raise ValueError("values must be a non-empty object of name: number")
        for name, number in value.items():
            if not name or len(name) > MAX_NAME_LENGTH:
                raise ValueError(f"value name {name[:40]!r} must be 1-{MAX_NAME_LENGTH} chars")
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise ValueError(f"value {name!r} must be a number, got {type(number).__name__}")
        return value


class _EventBase(_Frozen):
    ts: datetime | None = None
    event_id: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)

    @field_validator("ts", mode="before")
    @classmethod
    def _ts(cls, value: Any) -> datetime | None:
        return parse_timestamp(value)


OrderId = Annotated[str, Field(min_length=1, max_length=64)]


def _no_bool_or_text(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError(f"must be a whole number, not {type(value).__name__}")
    return value


# counters and step numbers: 42 or 42.0 from a bridge that sends floats, never true or "42";
# within 63 bits, what a database's BIGINT (and SQLite's INTEGER) holds
MAX_WHOLE_NUMBER = 2**63 - 1
WholeNumber = Annotated[int, BeforeValidator(_no_bool_or_text), Field(ge=0, le=MAX_WHOLE_NUMBER)]


class StateEvent(_EventBase):
    """The machine changed state."""

    type: Literal["state"]
    state: MachineState


class JobStartEvent(_EventBase):
    """The machine started working an order's operation."""

    type: Literal["job_start"]
    order_id: OrderId
    operation: WholeNumber


class JobEndEvent(_EventBase):
    """The machine stopped working an order's operation."""

    type: Literal["job_end"]
    order_id: OrderId
    operation: WholeNumber


class CycleEvent(_EventBase):
    """A machine cycle finished; `counter` is the PLC's cumulative good-part counter."""

    type: Literal["cycle"]
    counter: WholeNumber
    scrap_counter: WholeNumber | None = None
    cycle_time_s: float | None = Field(default=None, gt=0)
    order_id: OrderId | None = None
    operation: WholeNumber | None = None
    # the counters' current values, first seen by a bridge mapping: a machine the tracker
    # never heard count counts nothing from it (else the first counter counts one part)
    baseline: bool | None = None


class AlarmEvent(_EventBase):
    """The machine raised an alarm."""

    type: Literal["alarm"]
    code: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    message: str = Field(default="", max_length=1024)


MachineEvent = Annotated[
    StateEvent | JobStartEvent | JobEndEvent | CycleEvent | AlarmEvent,
    Field(discriminator="type"),
]
_EVENT = TypeAdapter[MachineEvent](MachineEvent)
_READINGS = TypeAdapter(list[TelemetryReading])


def _load_json(payload: bytes, max_bytes: int) -> Any:
    if len(payload) > max_bytes:
        raise PayloadError("oversized", f"{len(payload)} bytes, limit {max_bytes}")
    try:
        return json.loads(payload, parse_constant=_reject_constant, object_pairs_hook=unique_keys)
    except PayloadError:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError("invalid_json", str(exc)) from None


def _reject_constant(name: str) -> Any:
    raise PayloadError("not_finite", f"{name} is not a number")


def _schema_error(exc: ValidationError) -> PayloadError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "payload"
    return PayloadError("schema", f"{where}: {first['msg']}")


def parse_telemetry(payload: bytes, max_bytes: int = 256 * 1024) -> list[TelemetryReading]:
    """Parse one reading or a JSON array of readings; raise PayloadError with the reason."""
    data = _load_json(payload, max_bytes)
    items = data if isinstance(data, list) else [data]
    if not items:
        raise PayloadError("schema", "empty array")
    try:
        return _READINGS.validate_python(items)
    except ValidationError as exc:
        raise _schema_error(exc) from None


def parse_event(payload: bytes, max_bytes: int = 64 * 1024) -> MachineEvent:
    """Parse one machine event; raise PayloadError with the reason."""
    data = _load_json(payload, max_bytes)
    if not isinstance(data, dict):
        raise PayloadError("schema", "an event must be a JSON object")
    try:
        return _EVENT.validate_python(data)
    except ValidationError as exc:
        raise _schema_error(exc) from None


def encode(model: BaseModel) -> bytes:
    """Serialise a payload model as the contract's JSON (timestamps in RFC 3339, UTC)."""
    return model.model_dump_json(exclude_none=True).encode()


class DispatchJob(_Frozen):
    """One operation on a machine's dispatch list, in the order the plan has it run."""

    order_id: OrderId
    operation: WholeNumber
    name: str = Field(default="", max_length=MAX_NAME_LENGTH)
    # good parts still to make; setup and standard cycle in seconds (the routing's, or observed)
    quantity: int = Field(ge=1)
    setup_s: float = Field(ge=0)
    cycle_s: float = Field(gt=0)
    # every earlier operation of the order is complete: the material is at the machine
    ready: bool
    planned_start: datetime
    planned_end: datetime
    due_at: datetime


class DispatchList(_Frozen):
    """What one machine should work next, from the tracker's current plan.

    Published retained on `dispatch_topic(site, machine)` after a replan that changed it; a
    machine works the first `ready` job it has not finished. An empty list means nothing to do.
    """

    machine: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    plan_made_at: datetime
    jobs: list[DispatchJob]


def parse_dispatch(payload: bytes, max_bytes: int = 1024 * 1024) -> DispatchList:
    """Parse a dispatch list; raise PayloadError with the reason."""
    data = _load_json(payload, max_bytes)
    try:
        return DispatchList.model_validate(data)
    except ValidationError as exc:
        raise _schema_error(exc) from None


class OrderAlert(_Frozen):
    """One delivered transition of an order alert, on MQTT and in webhook bodies.

    `alert_id` names the alert for its whole life and `version` grows with each delivered
    transition (`event`): receivers de-duplicate on (alert_id, version), deliveries being at
    least once. The `late` kind carries both schedule problems: `at_risk` (severity warning)
    and `late` (severity critical).
    """

    alert_id: int
    version: int
    event: Literal["raised", "escalated", "acknowledged", "cleared"]
    order_id: str
    kind: str
    state: Literal["active", "acknowledged", "cleared"]
    severity: Literal["warning", "critical"]
    schedule_status: Literal["on_track", "at_risk", "late"]
    reasons: list[str]
    eta: datetime | None = None
    due: datetime
    raised_at: datetime
    updated_at: datetime
    message: str
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    ack_comment: str | None = None
    cleared_at: datetime | None = None
