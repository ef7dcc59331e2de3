"""PackML tags as the reference simulator's Sparkplug B edge node sends them (no I/O).

As libremfg/PackML-MQTT-Simulator with Eclipse Tahu's sparkplug-client: group = Site, edge node
= Area, one device per Line; metrics by name (no aliases), one metric per DDATA; a number's
datatype follows its value in every message (Int32 when whole, Float otherwise, so a metric born
Int32 arrives as Float); bdSeq is 0 in every NBIRTH and every NDEATH will; a clean stop sends
DDEATH (with a fixed 2016 timestamp) and no NDEATH.
"""

from __future__ import annotations

from shopfloor.sparkplug.names import BD_SEQ, REBIRTH
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from shopfloor.sparkplug.topics import DBIRTH, DDATA, DDEATH, NBIRTH, NDEATH, SparkplugTopic
from shopfloor.sparkplug.values import DataType, write_value

from .packml_bridge import Tag, Value

Message = tuple[str, bytes]  # (topic, payload)
# the timestamp the reference simulator writes into every DDEATH
DDEATH_TS_MS = 1465456711580
SCAN_RATE = "Node Control/Scan Rate"


def datatype_of(value: Value, *, in_birth: bool) -> DataType:
    """Int32 for a whole number, Float otherwise; a boolean is Boolean in a birth but Int32 in
    DDATA (the reference tests `!isNaN(value)` there), text is String."""
    if isinstance(value, bool):
        return DataType.BOOLEAN if in_birth else DataType.INT32
    if isinstance(value, str):
        return DataType.STRING
    return DataType.INT32 if float(value).is_integer() else DataType.FLOAT


class PackmlEdgeNode:
    """One edge node's messages: births, one-metric DDATA, deaths; seq counts 0-255."""

    def __init__(self, group: str, node: str, scan_rate_ms: int = 1000) -> None:
        self.group, self.node = group, node
        self.scan_rate_ms = scan_rate_ms
        self.bd_seq = 0  # sparkplug-client never increments it: every session is bdSeq 0
        self._seq = 0
        # every metric a device has published: a later birth (a rebirth) names them all
        self.metrics: dict[str, dict[str, Value]] = {}

    def _payload(self, ts_ms: int, *, seq: bool = True) -> Payload:
        payload = Payload(timestamp=ts_ms)
        if seq:
            payload.seq = self._seq
            self._seq = (self._seq + 1) % 256
        return payload

    def _topic(self, kind: str, device: str | None = None) -> str:
        return str(SparkplugTopic(self.group, kind, self.node, device))

    def will(self) -> Message:
        """NDEATH, registered as the MQTT will: bdSeq (UInt64) 0, no seq."""
        payload = self._payload(0, seq=False)
        payload.ClearField("timestamp")
        write_value(payload.metrics.add(name=BD_SEQ), DataType.UINT64, self.bd_seq)
        return self._topic(NDEATH), payload.SerializeToString()

    def node_birth(self, now_ms: int) -> Message:
        """NBIRTH: seq 0; scan rate, rebirth, two properties (each with a timestamp), bdSeq."""
        self._seq = 0
        payload = self._payload(now_ms)
        for name, datatype, value in (
            (SCAN_RATE, DataType.INT32, self.scan_rate_ms),
            (REBIRTH, DataType.BOOLEAN, False),
            ("Properties/OS Version", DataType.STRING, "2.0.6"),
            ("Properties/OS", DataType.STRING, "PackML Simulator"),
        ):
            write_value(payload.metrics.add(name=name, timestamp=now_ms), datatype, value)
        write_value(payload.metrics.add(name=BD_SEQ), DataType.UINT64, self.bd_seq)
        return self._topic(NBIRTH), payload.SerializeToString()

    def device_birth(self, device: str, tags: list[Tag], now_ms: int) -> Message:
        """DBIRTH with `tags` and whatever else the device has published before."""
        known = self.metrics.setdefault(device, {})
        known.update(dict(tags))
        payload = self._payload(now_ms)
        for name, value in known.items():
            write_value(payload.metrics.add(name=name), datatype_of(value, in_birth=True), value)
        return self._topic(DBIRTH, device), payload.SerializeToString()

    def data(self, device: str, tag: Tag, now_ms: int) -> Message:
        """DDATA with one metric, its datatype from its value (not from its birth)."""
        name, value = tag
        self.metrics.setdefault(device, {})[name] = value
        payload = self._payload(now_ms)
        write_value(payload.metrics.add(name=name), datatype_of(value, in_birth=False), value)
        return self._topic(DDATA, device), payload.SerializeToString()

    def device_death(self, device: str) -> Message:
        """DDEATH as the reference sends it on a clean stop: only a (2016) timestamp and seq."""
        return self._topic(DDEATH, device), self._payload(DDEATH_TS_MS).SerializeToString()

    def restart(self) -> None:
        """A new process: nothing known, seq from 0, bdSeq 0 again."""
        self._seq = 0
        self.metrics = {}
