"""Readings and events to InfluxDB line protocol, built as strings (no Point objects)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from shopfloor.contract.payloads import (
    AlarmEvent,
    CycleEvent,
    JobEndEvent,
    JobStartEvent,
    MachineEvent,
    StateEvent,
    TelemetryReading,
)
from shopfloor.telemetry_store import EVENT_MEASUREMENT as EVENT_MEASUREMENT
from shopfloor.telemetry_store import TELEMETRY_MEASUREMENT as TELEMETRY_MEASUREMENT

from .timestamps import epoch_ns as epoch_ns  # re-exported: callers took it from here

_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\r": r"\r"})
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n", "\r": r"\r"})
_STRING_ESCAPES = str.maketrans({'"': r"\"", "\\": "\\\\", "\n": r"\n", "\r": r"\r"})


def escape_key(text: str) -> str:
    """Escape a tag key, tag value or field key."""
    return text.translate(_KEY_ESCAPES)


def _float(value: float) -> str:
    # repr keeps full precision; a trailing ".0" is optional in line protocol, floats are default
    return repr(float(value))


def _string(value: str) -> str:
    return '"' + value.translate(_STRING_ESCAPES) + '"'


def series_key(measurement: str, tags: Mapping[str, str]) -> str:
    """Measurement and tags sorted by key, escaped; empty tag values are left out."""
    tag_part = "".join(
        f",{escape_key(k)}={escape_key(v)}" for k, v in sorted(tags.items()) if v != ""
    )
    return measurement.translate(_MEASUREMENT_ESCAPES) + tag_part


def _line(measurement: str, tags: Mapping[str, str], fields: Mapping[str, str], ts_ns: int) -> str:
    field_part = ",".join(f"{escape_key(k)}={v}" for k, v in fields.items())
    return f"{series_key(measurement, tags)} {field_part} {ts_ns}"


def telemetry_line(tags: Mapping[str, str], reading: TelemetryReading, arrival: datetime) -> str:
    """One point: topic tags, every value as a float field, the device time (or arrival time)."""
    fields = {name: _float(value) for name, value in reading.values.items()}
    return _line(TELEMETRY_MEASUREMENT, tags, fields, epoch_ns(reading.ts or arrival))


def event_line(tags: Mapping[str, str], event: MachineEvent, arrival: datetime) -> str:
    """One point per event in its own measurement, tagged with its type, for state timelines."""
    fields: dict[str, str] = {"event_id": _string(event.event_id)}
    match event:
        case StateEvent():
            fields["state"] = _string(event.state.value)
        case JobStartEvent() | JobEndEvent():
            fields["order_id"] = _string(event.order_id)
            fields["operation"] = _float(event.operation)
        case CycleEvent():
            fields["counter"] = _float(event.counter)
            if event.scrap_counter is not None:
                fields["scrap_counter"] = _float(event.scrap_counter)
            if event.cycle_time_s is not None:
                fields["cycle_time_s"] = _float(event.cycle_time_s)
            if event.baseline:
                fields["baseline"] = "true"
        case AlarmEvent():
            fields["code"] = _string(event.code)
            fields["message"] = _string(event.message)
    return _line(
        EVENT_MEASUREMENT, {**tags, "type": event.type}, fields, epoch_ns(event.ts or arrival)
    )
