"""A Sparkplug message's metrics as typed updates, and their telemetry line-protocol points."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from shopfloor.contract.payloads import PayloadError
from shopfloor.sparkplug.names import is_control
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from shopfloor.sparkplug.values import (
    TEXTS,
    DataType,
    MetricValueError,
    Scalar,
    array_type,
    element_type,
    read_array,
    read_value,
    scalar_type,
)

from ..fields import FieldCoders, FieldType
from ..timestamps import Clock, epoch_ns
from .nodes import MetricDef

_NS_PER_MS = 1_000_000
_CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class Update:
    """One metric value (None when is_null) at its time, as a birth defined the metric."""

    name: str
    datatype: int
    value: Scalar | None
    ts_ns: int
    historical: bool


def read_updates(
    payload: Payload,
    defs: list[MetricDef],
    clock: Clock,
    arrival: datetime,
    notes: list[PayloadError],
) -> list[Update]:
    """Scalar (or null) non-control metrics, and one update per array element (`name/index`,
    so the field is `name<separator>index`); a metric that cannot be read goes to notes."""
    now_ns = epoch_ns(arrival)
    default_ms = payload.timestamp if payload.HasField("timestamp") else None
    out: list[Update] = []
    for metric, definition in zip(payload.metrics, defs, strict=True):
        datatype = scalar_type(definition.datatype)
        array = array_type(definition.datatype)
        if (datatype is None and array is None) or is_control(definition.name):
            continue  # DataSet, Template, Bytes, File; bdSeq and controls: no readings
        ms = metric.timestamp if metric.HasField("timestamp") else default_ms
        name = definition.name[:80]
        readings: list[tuple[str, int, Scalar | None]] = []
        try:
            ts_ns = now_ns if ms is None else clock.check(ms * _NS_PER_MS, now_ns)
            if array is not None:
                kind = element_type(array)
                values = [] if metric.is_null else read_array(metric, array)
                readings = [(f"{definition.name}/{i}", kind, v) for i, v in enumerate(values)]
            elif datatype is not None:
                value = None if metric.is_null else read_number_leniently(metric, datatype)
                readings = [(definition.name, datatype, value)]
        except MetricValueError as exc:
            reason = "sparkplug_type" if array is None else "sparkplug_array"
            notes.append(PayloadError(reason, f"{name!r}: {exc}"))
            continue
        except PayloadError as exc:
            notes.append(PayloadError(exc.reason, f"{name!r}: {exc.detail}"))
            continue
        out += [Update(n, t, v, ts_ns, metric.is_historical) for n, t, v in readings]
    return out


_NUMBER_FIELDS = {"int_value": int, "long_value": int, "float_value": float, "double_value": float}


def read_number_leniently(metric: Payload.Metric, datatype: int) -> Scalar:
    """The value as the birth's datatype says; a number carried in another numeric field (an
    edge node whose Int32 metric is sent as Float when fractional) is read as it is carried."""
    try:
        return read_value(metric, datatype)  # type: ignore[arg-type]
    except MetricValueError:
        field = metric.WhichOneof("value")
        if datatype == DataType.BOOLEAN and field in ("int_value", "long_value"):
            return bool(getattr(metric, field))  # a Boolean sent as Int32 0/1 in DATA
        if datatype in TEXTS or datatype == DataType.BOOLEAN or field not in _NUMBER_FIELDS:
            raise
        own = scalar_type(metric.datatype) if metric.HasField("datatype") else None
        if own is not None and own not in TEXTS and own != DataType.BOOLEAN:
            return read_value(metric, own)  # its own numeric type: signs and widths as it says
        return _NUMBER_FIELDS[field](getattr(metric, field))  # type: ignore[no-any-return]


class LineBuilder:
    """Updates to points: one field type per field name, as the JSON path decides it."""

    def __init__(self, field_types: Mapping[str, FieldType], separator: str) -> None:
        self._fields = FieldCoders(field_types)
        self._separator = separator
        self._names: dict[str, str] = {}  # metric name -> field name

    def lines(self, series: str, updates: list[Update], notes: list[PayloadError]) -> list[str]:
        """Points of the non-null updates, one line per timestamp."""
        by_ts: dict[int, list[str]] = {}
        for update in updates:
            if update.value is None:
                continue
            field = self._names.get(update.name) or self._field(update.name)
            try:
                part = self._fields.part(field, update.value, update.datatype in TEXTS)
            except PayloadError as exc:
                notes.append(exc)
                continue
            by_ts.setdefault(update.ts_ns, []).append(part)
        return [f"{series} {','.join(parts)} {ts}" for ts, parts in by_ts.items()]

    def _field(self, name: str) -> str:
        # a Sparkplug folder path becomes one field name, as nested JSON objects do
        field = name.replace("/", self._separator)
        if len(self._names) >= _CACHE_LIMIT:
            self._names.clear()
        self._names[name] = field
        return field
