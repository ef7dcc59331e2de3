"""`shopfloor sim` playing PackML bridges on a real Mosquitto: retained text tags under
`Site/Area/Line`, and a Sparkplug B edge node with the quirks of the reference simulator."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor.contract.payloads import DispatchJob, DispatchList, encode
from shopfloor.contract.topics import dispatch_topic
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from shopfloor.sparkplug.values import DataType
from tests.processes import Process
from tests.services import Mosquitto
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
SPEED = 30


Got = list[tuple[str, bytes, bool, int]]


class Recorder:
    """Every message on `topic_filter`: (topic, payload, retained, qos), in arrival order."""

    def __init__(self, broker: Mosquitto, topic_filter: str) -> None:
        self.got: Got = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex)
        ready = threading.Event()
        self.client.on_connect = lambda c, *_a: c.subscribe(topic_filter, 1)
        self.client.on_subscribe = lambda *_a: ready.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert ready.wait(10)

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.got.append((msg.topic, bytes(msg.payload), bool(msg.retain), msg.qos))

    def messages(self) -> Got:
        with self._lock:
            return list(self.got)

    def wait(self, done: Callable[[Got], bool], s: float = 30) -> None:
        wait_for(
            lambda: done(self.messages()),
            lambda: f"them; the last seen: {self.messages()[-30:]}",
            s,
            0.1,
        )

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _dispatch(broker: Mosquitto, site: str, machines: list[str]) -> Callable[[], None]:
    """A retained dispatch list per machine, as the tracker publishes; returns its cleanup."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex)
    client.connect(broker.host, broker.port)
    client.loop_start()
    now = datetime.now(UTC)
    for machine in machines:
        job = DispatchJob(
            order_id=f"SO-{machine}",
            operation=10,
            quantity=100_000,
            setup_s=0.0,
            cycle_s=2.0 / SPEED,  # the tracker hands out times compressed by the speed
            ready=True,
            planned_start=now,
            planned_end=now + timedelta(hours=1),
            due_at=now + timedelta(hours=2),
        )
        payload = encode(DispatchList(machine=machine, plan_made_at=now, jobs=[job]))
        client.publish(dispatch_topic(site, machine), payload, 1, retain=True).wait_for_publish(5)

    def clear() -> None:
        for machine in machines:
            topic = dispatch_topic(site, machine)
            client.publish(topic, b"", 1, retain=True).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()

    return clear


def _sim(tmp_path: Path, broker: Mosquitto, scenario: str, name: str) -> Process:
    path = tmp_path / f"{name}.yaml"
    path.write_text(scenario)
    args = ["sim", "--broker", broker.url, "--scenario", str(path), "--speed", str(SPEED)]
    return Process(name, args, {}, tmp_path)


def _values(got: Got, topic: str) -> list[str]:
    return [p.decode() for t, p, _r, _q in got if t == topic]


PLAIN = """
name: packml-plain
site: {site}
bridge: packml
machines:
  - {{id: m1, model: cnc_mill, failures: false, scrap_rate: 0.2,
     packml_prefix: "{prefix}"}}
faults:
  - {{at: 30s, machine: m1, down_for: 20s, alarm: JAM-1, message: jammed}}
  - {{at: 150s, machine: m1, reset: true}}
  - {{at: 270s, machine: m1, restart: true}}
"""


def test_plain_packml_tags_are_retained_text_with_count_reset_and_acc_count_restart(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    site = f"pk{uuid.uuid4().hex[:6]}"
    prefix = f"{site}/Packaging/Line 1"  # spaces pass, as in the reference's examples
    live = Recorder(mosquitto, f"{prefix}/#")
    clear = _dispatch(mosquitto, site, ["m1"])
    sim = _sim(tmp_path, mosquitto, PLAIN.format(site=site, prefix=prefix), "packml-plain")
    acc, count = f"{prefix}/Admin/ProdProcessedCount/0/AccCount", f"{prefix}/Status/StateCurrentStr"
    try:
        # the restart publishes AccCount 0 again after it had grown
        live.wait(lambda got: _values(got, acc)[3:].count("0") >= 1, s=40)
        states = _values(live.messages(), count)
        assert states[:2] == ["Clearing", "Stopped"]
        broke = states.index("Aborting")
        assert states[broke : broke + 8] == [
            "Aborting",
            "Aborted",
            "Clearing",
            "Stopped",
            "Resetting",
            "Idle",
            "Starting",
            "Execute",
        ]
        got = live.messages()
        assert set(_values(got, f"{prefix}/Admin/Alarm/0/Message")) == {"JAM-1: jammed"}
        assert _values(got, f"{prefix}/Admin/Alarm/0/Trigger")[:2] == ["true", "false"]
        assert _values(got, f"{prefix}/Status/StateCurrent")[:2] == ["1", "2"]
        accs = [float(v) for v in _values(got, acc)]
        restart = max(i for i, v in enumerate(accs) if v == 0)
        assert accs[:restart] == sorted(accs[:restart]) and accs[restart - 1] > 5
        assert any("." in v for v in _values(got, acc))  # fractional, as the reference
        counts = [float(v) for v in _values(got, f"{prefix}/Admin/ProdProcessedCount/0/Count")]
        # Count went back to 0 in Resetting (the repair's and the operator's Reset) ...
        assert counts[:restart].count(0.0) >= 2
        assert all(qos == 0 for _t, _p, _r, qos in got)
        assert not any(b"SO-" in p for _t, p, _r, _q in got)  # a bridge knows no order
        # an operator's Reset over MQTT (as the reference takes it) zeroes Count again
        processed = f"{prefix}/Admin/ProdProcessedCount/0/Count"
        live.wait(lambda got: float(_values(got, processed)[-1]) > 3)  # the restart's run
        seen = len(live.messages())
        live.client.publish(f"{prefix}/Command/Reset", b"1").wait_for_publish(5)
        live.wait(lambda got: "0" in _values(got[seen:], processed))
        assert "Resetting" in _values(live.messages()[seen:], count)
        # ... and a late subscriber gets every tag's last value, retained
        late = Recorder(mosquitto, f"{prefix}/#")
        late.wait(lambda g: len({t for t, *_ in g}) >= 20)
        retained = {t: p.decode() for t, p, r, _q in late.messages() if r}
        assert retained[f"{prefix}/Admin/ProdProcessedCount/0/Name"] == "Finished Goods"
        assert retained[f"{prefix}/Status/UnitModeCurrentStr"] == "Production"
        assert retained[f"{prefix}/Admin/StopReason/ID"].isdigit()
        late.close()
    finally:
        sim.stop()
        clear()
        live.close()


SPARKPLUG = """
name: packml-sparkplug
site: {site}
bridge: packml-sparkplug
machines:
  - {{id: m1, model: cnc_mill, failures: false, packml_prefix: "{site}/Area 1/Line 1"}}
  - {{id: m2, model: cnc_mill, failures: false, packml_prefix: "{site}/Area 1/Line 2"}}
faults:
  - {{at: 30s, machine: m1, down_for: 10s, alarm: JAM-1}}
  - {{at: 150s, machine: m2, crash_for: 30s}}
"""


def _decoded(got: Got) -> list[tuple[str, Payload]]:
    return [(t, Payload.FromString(p)) for t, p, _r, _q in got]


def _bd_seq(payload: Payload) -> int:
    return next(int(m.long_value) for m in payload.metrics if m.name == "bdSeq")


def test_a_sparkplug_packml_node_shows_the_reference_quirks(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    site = f"pks{uuid.uuid4().hex[:6]}"
    live = Recorder(mosquitto, f"spBv1.0/{site}/#")
    clear = _dispatch(mosquitto, site, ["m1", "m2"])
    sim = _sim(tmp_path, mosquitto, SPARKPLUG.format(site=site), "packml-sparkplug")
    node = f"spBv1.0/{site}/%s/Area 1"
    try:
        # the crash: NDEATH (the will), then the process is back: NBIRTH again
        live.wait(lambda got: [t for t, *_ in got].count(node % "NBIRTH") >= 2, s=40)
        sim.stop()
        live.wait(lambda got: any("/DDEATH/" in t for t, *_ in got))
        messages = _decoded(live.messages())
        kinds = [t.split("/")[2] for t, _p in messages]
        assert kinds[:3] == ["NBIRTH", "DBIRTH", "DBIRTH"]  # one node, a device per line
        deaths = [p for t, p in messages if t == node % "NDEATH"]
        births = [p for t, p in messages if t == node % "NBIRTH"]
        assert [_bd_seq(p) for p in deaths] == [0] and [_bd_seq(p) for p in births] == [0, 0]
        assert kinds.index("NDEATH") < len(kinds) - kinds[::-1].index("NBIRTH")
        m1 = f"spBv1.0/{site}/%s/Area 1/Line 1"
        birth = next(p for t, p in messages if t == m1 % "DBIRTH")
        born = {m.name: m.datatype for m in birth.metrics}
        acc = "Admin/ProdProcessedCount/0/AccCount"
        assert born[acc] == DataType.INT32 and born["Status/StateCurrentStr"] == DataType.STRING
        data = [m for t, p in messages if t == m1 % "DDATA" for m in p.metrics]
        assert all(len(p.metrics) == 1 for t, p in messages if "/DDATA/" in t)
        # the datatype follows the value: born Int32 (0), Float while fractional, Int32 when whole
        assert DataType.FLOAT in {m.datatype for m in data if m.name == acc}
        speed = {m.datatype for m in data if m.name == "Status/CurMachSpeed"}
        assert speed == {DataType.INT32, DataType.FLOAT}
        # the alarm's metrics were never born
        alarm = [m for m in data if m.name == "Admin/Alarm/0/ID"]
        assert alarm and "Admin/Alarm/0/ID" not in born
        assert not any(m.HasField("alias") for _t, p in messages for m in p.metrics)
        ddeath = [p for t, p in messages if "/DDEATH/" in t]
        assert ddeath and all(p.timestamp == 1465456711580 for p in ddeath)
        # a clean stop sends no NDEATH: the only one is the crash's will
        assert kinds.count("NDEATH") == 1
    finally:
        sim.stop()
        clear()
        live.close()
