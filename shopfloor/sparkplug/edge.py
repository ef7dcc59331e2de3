"""The edge node side of Sparkplug B: seq and bdSeq, aliases, birth, data and death payloads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .names import BD_SEQ, REBIRTH
from .sparkplug_b_pb2 import Payload
from .topics import DBIRTH, DDATA, DDEATH, NBIRTH, NDATA, NDEATH, SparkplugTopic
from .values import DataType, Scalar, write_value

Message = tuple[str, bytes]  # (topic, payload)


@dataclass
class _Metric:
    alias: int
    datatype: DataType
    value: Scalar | None


@dataclass
class EdgeNodeSession:
    """One MQTT session of an edge node: every message it sends, numbered as the spec says.

    `bd_seq` identifies the session (its NDEATH will carries it); `seq` counts every message
    but NDEATH from 0 to 255 and wraps. Aliases are unique across the node and its devices.
    """

    group: str
    node: str
    bd_seq: int = 0
    use_aliases: bool = True
    _seq: int = 0
    _metrics: dict[str | None, dict[str, _Metric]] = field(default_factory=dict)
    _next_alias: int = 1

    def define(
        self, device: str | None, name: str, datatype: DataType, value: Scalar | None
    ) -> None:
        """Declare a metric (and its current value) for the next birth of its node or device."""
        metrics = self._metrics.setdefault(device, {})
        if name in metrics:
            metrics[name].value = value
            return
        metrics[name] = _Metric(self._next_alias, datatype, value)
        self._next_alias += 1

    def will(self) -> Message:
        """The NDEATH to register as the MQTT last will: it carries only bdSeq."""
        payload = Payload()
        self._add(payload, BD_SEQ, _Metric(0, DataType.INT64, self.bd_seq), named=True, alias=False)
        return str(SparkplugTopic(self.group, NDEATH, self.node)), payload.SerializeToString()

    def node_birth(self, now_ms: int) -> Message:
        """NBIRTH: seq restarts at 0; bdSeq, the rebirth control and every node metric by name."""
        self._seq = 0
        payload = self._payload(now_ms)
        self._add(payload, BD_SEQ, _Metric(0, DataType.INT64, self.bd_seq), named=True, alias=False)
        self._add(payload, REBIRTH, _Metric(0, DataType.BOOLEAN, False), named=True, alias=False)
        for name, metric in self._metrics.get(None, {}).items():
            self._add(payload, name, metric, named=True)
        return str(SparkplugTopic(self.group, NBIRTH, self.node)), payload.SerializeToString()

    def device_birth(self, device: str, now_ms: int) -> Message:
        """DBIRTH: every metric of the device by name, alias and datatype."""
        payload = self._payload(now_ms)
        for name, metric in self._metrics.get(device, {}).items():
            self._add(payload, name, metric, named=True)
        return str(
            SparkplugTopic(self.group, DBIRTH, self.node, device)
        ), payload.SerializeToString()

    def data(self, device: str | None, values: Mapping[str, Scalar | None], ts_ms: int) -> Message:
        """NDATA or DDATA with the given (already defined) metrics, by alias when aliases are on."""
        payload = self._payload(ts_ms)
        metrics = self._metrics[device]
        for name, value in values.items():
            metric = metrics[name]
            metric.value = value
            self._add(payload, name, metric, named=not self.use_aliases, ts_ms=ts_ms)
        kind = NDATA if device is None else DDATA
        return str(SparkplugTopic(self.group, kind, self.node, device)), payload.SerializeToString()

    def device_death(self, device: str, now_ms: int) -> Message:
        """DDEATH: the device went away (the node stays online)."""
        payload = self._payload(now_ms)
        return str(
            SparkplugTopic(self.group, DDEATH, self.node, device)
        ), payload.SerializeToString()

    def skip_seq(self) -> None:
        """Lose one message (as a QoS 0 drop would): the host should see a gap."""
        self._seq = (self._seq + 1) % 256

    def _payload(self, ts_ms: int) -> Payload:
        payload = Payload(timestamp=ts_ms, seq=self._seq)
        self._seq = (self._seq + 1) % 256
        return payload

    def _add(
        self,
        payload: Payload,
        name: str,
        metric: _Metric,
        *,
        named: bool,
        alias: bool = True,
        ts_ms: int | None = None,
    ) -> None:
        out = payload.metrics.add()
        if named:
            out.name = name
        if alias and self.use_aliases:
            out.alias = metric.alias
        out.timestamp = ts_ms if ts_ms is not None else payload.timestamp
        if metric.value is None:
            out.datatype = metric.datatype
            out.is_null = True
        else:
            write_value(out, metric.datatype, metric.value)
