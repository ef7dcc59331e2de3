"""Sparkplug datatypes to Python scalars and back; non-scalar types are reported, not guessed."""

from __future__ import annotations

from enum import IntEnum

from .sparkplug_b_pb2 import Payload

Scalar = int | float | bool | str


class DataType(IntEnum):
    """The scalar Sparkplug B datatypes (the `DataType` enum of sparkplug_b.proto)."""

    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15


SIGNED_BITS = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}
UNSIGNED_BITS = {DataType.UINT8: 8, DataType.UINT16: 16, DataType.UINT32: 32, DataType.UINT64: 64}
FLOATS = frozenset({DataType.FLOAT, DataType.DOUBLE})
TEXTS = frozenset({DataType.STRING, DataType.TEXT, DataType.UUID})
_INT_FIELDS = ("int_value", "long_value")
_LONG = {DataType.INT64, DataType.UINT64, DataType.DATETIME}


class MetricValueError(ValueError):
    """A metric whose value does not fit its declared datatype."""


def scalar_type(datatype: int) -> DataType | None:
    """The scalar datatype, or None for DataSet, Bytes, File, Template, arrays and unknowns."""
    try:
        return DataType(datatype)
    except ValueError:
        return None


def read_value(metric: Payload.Metric, datatype: DataType) -> Scalar:
    """The value as its datatype says; MetricValueError when the value field does not fit."""
    field = metric.WhichOneof("value")
    if field is None:
        raise MetricValueError("has no value and is not marked is_null")
    raw = getattr(metric, field)
    if datatype in SIGNED_BITS or datatype in UNSIGNED_BITS or datatype == DataType.DATETIME:
        if field not in _INT_FIELDS:
            raise MetricValueError(f"{datatype.name} carried in {field}")
        bits = SIGNED_BITS.get(datatype)
        if bits is None:
            return int(raw)
        # writers put negatives in the unsigned field as two's complement of 8-64 bits:
        # keep the type's width and sign-extend, which reads every such encoding the same
        raw &= (1 << bits) - 1
        return int(raw - (1 << bits) if raw >> (bits - 1) else raw)
    if datatype in FLOATS:
        if field not in ("float_value", "double_value"):
            raise MetricValueError(f"{datatype.name} carried in {field}")
        return float(raw)
    if datatype == DataType.BOOLEAN:
        if field != "boolean_value":
            raise MetricValueError(f"Boolean carried in {field}")
        return bool(raw)
    if field != "string_value":
        raise MetricValueError(f"{datatype.name} carried in {field}")
    return str(raw)


def write_value(metric: Payload.Metric, datatype: DataType, value: Scalar) -> None:
    """Set the metric's datatype and value field as the specification lays them out."""
    metric.datatype = datatype
    if datatype in SIGNED_BITS or datatype in UNSIGNED_BITS or datatype == DataType.DATETIME:
        number = int(value)
        if datatype in _LONG:
            metric.long_value = number & (2**64 - 1)
        else:
            metric.int_value = number & (2**32 - 1)  # two's complement for negatives
    elif datatype == DataType.FLOAT:
        metric.float_value = float(value)
    elif datatype == DataType.DOUBLE:
        metric.double_value = float(value)
    elif datatype == DataType.BOOLEAN:
        metric.boolean_value = bool(value)
    else:
        metric.string_value = str(value)
