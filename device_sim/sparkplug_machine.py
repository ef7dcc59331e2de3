"""A simulated machine as a Sparkplug B edge node: its messages as metrics (no I/O)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shopfloor.contract.payloads import (
    AlarmEvent,
    CycleEvent,
    JobEndEvent,
    JobStartEvent,
    StateEvent,
    TelemetryReading,
)
from shopfloor.sparkplug import names
from shopfloor.sparkplug.edge import EdgeNodeSession, Message
from shopfloor.sparkplug.values import DataType, Scalar

from .machine import SimMachine

Values = dict[str, tuple[DataType, Scalar]]


def _ms(ts: datetime | None, now: datetime) -> int:
    return int((ts or now).timestamp() * 1000)


def metrics_of(model: BaseModel) -> Values:
    """The metrics a PLC bridge would publish for one of the machine's contract messages."""
    match model:
        case TelemetryReading():
            return {name: (DataType.DOUBLE, value) for name, value in model.values.items()}
        case StateEvent():
            return {names.STATE_METRIC: (DataType.STRING, model.state.value)}
        case CycleEvent():
            out: Values = {names.COUNTER_METRIC: (DataType.UINT64, model.counter)}
            if model.scrap_counter is not None:
                out[names.SCRAP_METRIC] = (DataType.UINT64, model.scrap_counter)
            if model.cycle_time_s is not None:
                out[names.CYCLE_TIME_METRIC] = (DataType.DOUBLE, model.cycle_time_s)
            return out
        case JobStartEvent():
            return {
                names.ORDER_METRIC: (DataType.STRING, model.order_id),
                names.OPERATION_METRIC: (DataType.UINT32, model.operation),
            }
        case JobEndEvent():
            return {names.ORDER_METRIC: (DataType.STRING, "")}
        case AlarmEvent():
            return {names.ALARM_METRIC: (DataType.STRING, model.code)}
    raise TypeError(f"no Sparkplug metrics for {type(model).__name__}")


class SparkplugMachine:
    """One simulated machine as its own edge node (node id = machine id), metrics by alias."""

    def __init__(self, machine: SimMachine, group: str, bd_seq: int = 0) -> None:
        self.machine = machine
        self.session = EdgeNodeSession(group, machine.machine_id, bd_seq=bd_seq)
        self._values: Values = {
            names.STATE_METRIC: (DataType.STRING, machine.state.value),
            names.COUNTER_METRIC: (DataType.UINT64, machine.counter),
            names.CYCLE_TIME_METRIC: (DataType.DOUBLE, 0.0),
            names.ORDER_METRIC: (DataType.STRING, ""),
            names.OPERATION_METRIC: (DataType.UINT32, 0),
            names.ALARM_METRIC: (DataType.STRING, ""),
        }

    def birth(self, now: datetime) -> Message:
        """NBIRTH with every metric's current value."""
        for name, (datatype, value) in self._values.items():
            self.session.define(None, name, datatype, value)
        return self.session.node_birth(_ms(None, now))

    def new_session(self) -> Message:
        """A new MQTT connection: the next bdSeq, and the NDEATH will that goes with it."""
        self.session.bd_seq = (self.session.bd_seq + 1) % 256
        return self.session.will()

    def messages(self, model: BaseModel, now: datetime) -> list[Message]:
        """NDATA for one contract message; an NBIRTH first when it brings a new metric."""
        values = metrics_of(model)
        out: list[Message] = []
        if any(name not in self._values for name in values):
            self._values.update(values)
            out.append(self.birth(now))  # a metric must be born before DATA may carry it
        else:
            self._values.update(values)
        ts = _ms(getattr(model, "ts", None), now)
        out.append(self.session.data(None, {n: v for n, (_t, v) in values.items()}, ts))
        return out
