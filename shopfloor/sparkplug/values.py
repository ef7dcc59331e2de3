"""Sparkplug datatypes to Python scalars (and arrays of them) and back; others are not guessed."""

from __future__ import annotations

import struct
from collections.abc import Sequence
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


class ArrayType(IntEnum):
    """The array datatypes: packed little-endian in `bytes_value` (Sparkplug 3.0, 6.4.16)."""

    INT8_ARRAY = 22
    INT16_ARRAY = 23
    INT32_ARRAY = 24
    INT64_ARRAY = 25
    UINT8_ARRAY = 26
    UINT16_ARRAY = 27
    UINT32_ARRAY = 28
    UINT64_ARRAY = 29
    FLOAT_ARRAY = 30
    DOUBLE_ARRAY = 31
    BOOLEAN_ARRAY = 32
    STRING_ARRAY = 33
    DATETIME_ARRAY = 34


# each array's element datatype, and the struct format of one packed element ("" if unpacked)
_ELEMENTS: dict[ArrayType, tuple[DataType, str]] = {
    ArrayType.INT8_ARRAY: (DataType.INT8, "b"),
    ArrayType.INT16_ARRAY: (DataType.INT16, "h"),
    ArrayType.INT32_ARRAY: (DataType.INT32, "i"),
    ArrayType.INT64_ARRAY: (DataType.INT64, "q"),
    ArrayType.UINT8_ARRAY: (DataType.UINT8, "B"),
    ArrayType.UINT16_ARRAY: (DataType.UINT16, "H"),
    ArrayType.UINT32_ARRAY: (DataType.UINT32, "I"),
    ArrayType.UINT64_ARRAY: (DataType.UINT64, "Q"),
    ArrayType.FLOAT_ARRAY: (DataType.FLOAT, "f"),
    ArrayType.DOUBLE_ARRAY: (DataType.DOUBLE, "d"),
    ArrayType.BOOLEAN_ARRAY: (DataType.BOOLEAN, ""),
    ArrayType.STRING_ARRAY: (DataType.STRING, ""),
    ArrayType.DATETIME_ARRAY: (DataType.DATETIME, "q"),  # epoch ms
}
MAX_ARRAY_ELEMENTS = 1024  # one field per element: a longer array is refused, not written


class MetricValueError(ValueError):
    """A metric whose value does not fit its declared datatype."""


def scalar_type(datatype: int) -> DataType | None:
    """The scalar datatype, or None for DataSet, Bytes, File, Template, arrays and unknowns."""
    try:
        return DataType(datatype)
    except ValueError:
        return None


def array_type(datatype: int) -> ArrayType | None:
    """The array datatype, or None for scalars and everything else."""
    try:
        return ArrayType(datatype)
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


def element_type(datatype: ArrayType) -> DataType:
    """The datatype of one element of the array."""
    return _ELEMENTS[datatype][0]


def read_array(metric: Payload.Metric, datatype: ArrayType) -> list[Scalar]:
    """The elements packed in `bytes_value`; MetricValueError when they do not fit the type."""
    field = metric.WhichOneof("value")
    if field != "bytes_value":
        raise MetricValueError(f"{datatype.name} carried in {field or 'no value field'}")
    raw = metric.bytes_value
    if datatype == ArrayType.BOOLEAN_ARRAY:
        values: list[Scalar] = list(_unpack_booleans(raw))
    elif datatype == ArrayType.STRING_ARRAY:
        values = list(_unpack_strings(raw))
    else:
        fmt = _ELEMENTS[datatype][1]
        size = struct.calcsize("<" + fmt)
        if len(raw) % size:
            raise MetricValueError(f"{datatype.name}: {len(raw)} bytes is no multiple of {size}")
        count = len(raw) // size
        _check_count(datatype, count)
        values = list(struct.unpack(f"<{count}{fmt}", raw))
    return values


def write_array(metric: Payload.Metric, datatype: ArrayType, values: Sequence[Scalar]) -> None:
    """Set the metric's datatype and its elements packed in `bytes_value` as the spec says."""
    metric.datatype = datatype
    if datatype == ArrayType.BOOLEAN_ARRAY:
        packed = bytearray(struct.pack("<I", len(values)) + bytes((len(values) + 7) // 8))
        for i, value in enumerate(values):
            if value:
                packed[4 + i // 8] |= 0x80 >> (i % 8)  # most significant bit first
        metric.bytes_value = bytes(packed)
    elif datatype == ArrayType.STRING_ARRAY:
        metric.bytes_value = b"".join(str(v).encode() + b"\0" for v in values)
    else:
        fmt = _ELEMENTS[datatype][1]
        items = [float(v) for v in values] if fmt in "fd" else [int(v) for v in values]
        metric.bytes_value = struct.pack(f"<{len(items)}{fmt}", *items)


def _check_count(datatype: ArrayType, count: int) -> None:
    if count > MAX_ARRAY_ELEMENTS:
        raise MetricValueError(f"{datatype.name}: {count} elements, limit {MAX_ARRAY_ELEMENTS}")


def _unpack_booleans(raw: bytes) -> list[bool]:
    """A 4-byte little-endian count, then the bits most significant first, padded to a byte."""
    if len(raw) < 4:
        raise MetricValueError(f"BOOLEAN_ARRAY: {len(raw)} bytes, no 4-byte count")
    (count,) = struct.unpack_from("<I", raw)
    if len(raw) - 4 != (count + 7) // 8:
        raise MetricValueError(f"BOOLEAN_ARRAY: {len(raw) - 4} bytes do not hold {count} bits")
    _check_count(ArrayType.BOOLEAN_ARRAY, count)
    return [bool(raw[4 + i // 8] & (0x80 >> (i % 8))) for i in range(count)]


def _unpack_strings(raw: bytes) -> list[str]:
    """UTF-8 strings, each ending in a NUL byte."""
    if not raw:
        return []
    if not raw.endswith(b"\0"):
        raise MetricValueError("STRING_ARRAY: the last string has no NUL terminator")
    parts = raw[:-1].split(b"\0")
    _check_count(ArrayType.STRING_ARRAY, len(parts))
    try:
        return [part.decode() for part in parts]
    except UnicodeDecodeError:
        raise MetricValueError("STRING_ARRAY: a string is not UTF-8") from None
