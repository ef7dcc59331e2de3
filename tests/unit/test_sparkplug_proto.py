"""The committed sparkplug_b_pb2 module is protoc's output for sparkplug_b.proto, unedited."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from shopfloor.sparkplug import generate
from shopfloor.sparkplug.sparkplug_b_pb2 import DataType, Payload


def test_generated_module_matches_a_fresh_protoc_run(tmp_path: Path) -> None:
    if importlib.util.find_spec("grpc_tools") is None:
        pytest.fail("grpcio-tools is not installed in this environment: pip install -e '.[test]'")
    for fresh in generate.generate(tmp_path):
        committed = generate.HERE / fresh.name
        assert fresh.read_bytes() == committed.read_bytes(), (
            f"{committed.name} differs from protoc's output: run python -m "
            "shopfloor.sparkplug.generate (and never edit it by hand)"
        )


def test_payload_fields_have_the_specification_numbers() -> None:
    fields = {f.name: f.number for f in Payload.DESCRIPTOR.fields}
    assert fields == {"timestamp": 1, "metrics": 2, "seq": 3, "uuid": 4, "body": 5}
    metric = {f.name: f.number for f in Payload.Metric.DESCRIPTOR.fields}
    assert metric["name"] == 1 and metric["alias"] == 2 and metric["timestamp"] == 3
    assert metric["datatype"] == 4 and metric["is_historical"] == 5 and metric["is_null"] == 7
    assert [metric[n] for n in ("int_value", "long_value", "float_value", "double_value")] == [
        10,
        11,
        12,
        13,
    ]
    assert metric["boolean_value"] == 14 and metric["string_value"] == 15


def test_datatype_enum_runs_from_unknown_to_datetime_array() -> None:
    assert DataType.Value("Unknown") == 0
    assert DataType.Value("Int8") == 1 and DataType.Value("UInt64") == 8
    assert DataType.Value("Boolean") == 11 and DataType.Value("String") == 12
    assert DataType.Value("UUID") == 15 and DataType.Value("Template") == 19
    assert DataType.Value("DateTimeArray") == 34
