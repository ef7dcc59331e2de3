"""PackML tags as the reference simulator's Sparkplug B edge node sends them."""

from __future__ import annotations

from device_sim.packml_sparkplug import DDEATH_TS_MS, PackmlEdgeNode, datatype_of
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from shopfloor.sparkplug.topics import parse_topic
from shopfloor.sparkplug.values import DataType, read_value

ACC = "Admin/ProdProcessedCount/0/AccCount"


def _decode(message: tuple[str, bytes]) -> tuple[str, Payload]:
    topic, payload = message
    return topic, Payload.FromString(payload)


def _metrics(payload: Payload) -> dict[str, tuple[int, object]]:
    return {m.name: (m.datatype, read_value(m, DataType(m.datatype))) for m in payload.metrics}


def test_a_number_is_int32_when_whole_and_float_otherwise() -> None:
    assert datatype_of(0.0, in_birth=True) is DataType.INT32
    assert datatype_of(228.18, in_birth=False) is DataType.FLOAT
    assert datatype_of("Execute", in_birth=False) is DataType.STRING
    # `!isNaN(true)` holds in JavaScript: a boolean goes out as Int32 in DDATA
    assert datatype_of(True, in_birth=True) is DataType.BOOLEAN
    assert datatype_of(True, in_birth=False) is DataType.INT32


def test_the_node_birth_has_the_reference_metrics_and_bd_seq_zero() -> None:
    node = PackmlEdgeNode("Greenville", "Packaging")
    topic, birth = _decode(node.node_birth(1000))
    assert topic == "spBv1.0/Greenville/NBIRTH/Packaging" and birth.seq == 0
    assert _metrics(birth) == {
        "Node Control/Scan Rate": (DataType.INT32, 1000),
        "Node Control/Rebirth": (DataType.BOOLEAN, False),
        "Properties/OS Version": (DataType.STRING, "2.0.6"),
        "Properties/OS": (DataType.STRING, "PackML Simulator"),
        "bdSeq": (DataType.UINT64, 0),
    }


def test_every_death_says_bd_seq_zero_even_after_a_restart() -> None:
    node = PackmlEdgeNode("G", "A")
    node.node_birth(1)
    node.restart()
    topic, death = _decode(node.will())
    assert parse_topic(topic).message_type == "NDEATH"
    assert _metrics(death) == {"bdSeq": (DataType.UINT64, 0)}
    assert _metrics(_decode(node.node_birth(2))[1])["bdSeq"] == (DataType.UINT64, 0)


def test_a_metric_born_int32_arrives_as_float_and_by_name_one_per_ddata() -> None:
    node = PackmlEdgeNode("G", "A")
    node.node_birth(1)
    topic, birth = _decode(node.device_birth("Line 1", [(ACC, 0.0)], 1))
    assert topic == "spBv1.0/G/DBIRTH/A/Line 1" and birth.seq == 1
    assert _metrics(birth)[ACC] == (DataType.INT32, 0)
    topic, data = _decode(node.data("Line 1", (ACC, 1.5), 2))
    assert topic == "spBv1.0/G/DDATA/A/Line 1" and data.seq == 2
    (metric,) = data.metrics
    assert metric.name == ACC and not metric.HasField("alias")
    assert (metric.datatype, metric.float_value) == (DataType.FLOAT, 1.5)


def test_a_metric_unknown_at_birth_goes_out_in_ddata_and_in_the_next_birth() -> None:
    node = PackmlEdgeNode("G", "A")
    node.device_birth("L", [(ACC, 0.0)], 1)
    _topic, data = _decode(node.data("L", ("Admin/Alarm/0/ID", 1), 2))
    assert data.metrics[0].name == "Admin/Alarm/0/ID"
    _topic, rebirth = _decode(node.device_birth("L", [], 3))
    assert set(_metrics(rebirth)) == {ACC, "Admin/Alarm/0/ID"}


def test_seq_wraps_after_255_and_a_node_birth_starts_it_again() -> None:
    node = PackmlEdgeNode("G", "A")
    node.node_birth(1)
    seqs = [_decode(node.data("L", (ACC, float(i)), 1))[1].seq for i in range(300)]
    assert seqs[254:257] == [255, 0, 1]
    assert _decode(node.node_birth(2))[1].seq == 0


def test_a_clean_stop_sends_ddeath_with_the_references_fixed_timestamp() -> None:
    node = PackmlEdgeNode("G", "A")
    topic, death = _decode(node.device_death("Line 1"))
    assert topic == "spBv1.0/G/DDEATH/A/Line 1"
    assert death.timestamp == DDEATH_TS_MS == 1465456711580 and not death.metrics
