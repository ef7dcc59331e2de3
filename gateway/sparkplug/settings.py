"""Sparkplug host settings (SHOPFLOOR_SPARKPLUG__*): host id, timeouts and the machine mapping."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shopfloor.contract.payloads import MachineState
from shopfloor.sparkplug import names
from shopfloor.sparkplug.topics import check_id

from ..mapping.spec import AlarmTag, CounterTag, CycleTimeTag, Source, StateTag


class EventProfile(BaseModel):
    """Which Sparkplug metrics are a machine's state, part counters, job and alarm."""

    state: str | None = names.STATE_METRIC
    # metric value (as text) -> machine state; unlisted values are tried as state names
    state_values: dict[str, MachineState] = {}
    counter: str | None = names.COUNTER_METRIC  # cumulative good parts -> cycle events
    scrap_counter: str | None = names.SCRAP_METRIC
    cycle_time: str | None = names.CYCLE_TIME_METRIC  # seconds, sent with the cycle event
    order: str | None = names.ORDER_METRIC  # non-empty: that order's job runs; empty: none
    operation: str | None = names.OPERATION_METRIC
    alarm: str | None = names.ALARM_METRIC  # a new non-empty value raises an alarm event

    def source(self, group: str, node: str, device: str | None) -> Source:
        """This profile as a machine source: one mapping for every kind of input."""
        return Source(
            kind="sparkplug",
            group=group,
            node=node,
            device=device,
            state=StateTag(tag=self.state, values=dict(self.state_values)) if self.state else None,
            good=CounterTag(tag=self.counter) if self.counter else None,
            scrap=CounterTag(tag=self.scrap_counter) if self.scrap_counter else None,
            cycle_time=CycleTimeTag(tag=self.cycle_time) if self.cycle_time else None,
            order=self.order,
            operation=self.operation,
            alarm=AlarmTag(tag=self.alarm) if self.alarm else None,
        )


class MachineMap(BaseModel):
    """Where one edge node (or one of its devices) is in the plant, and its event profile."""

    group: str
    node: str
    device: str | None = None  # None: the node's own metrics
    machine: str
    site: str | None = None  # default: the group id
    line: str | None = None  # default: the edge node id
    profile: str = "default"


class SparkplugSettings(BaseModel):
    """The Sparkplug B host application inside the gateway; off unless enabled."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    enabled: bool = False
    """be a Sparkplug B host application too"""
    host_id: str = "shopfloor-gateway"
    """the host's STATE topic name"""
    # the group ids consumed; "+" for all
    group: str = "+"
    """one group id, or `+` for all"""
    # how long a seq gap may wait for the missing message before a rebirth is requested
    reorder_timeout_s: float = Field(default=2.0, gt=0, le=60)
    """how long a message ahead of its `seq` waits for the missing one"""
    # a node that does not answer a rebirth request is asked again after this long
    rebirth_retry_s: float = Field(default=10.0, gt=0, le=3600)
    """a rebirth request is repeated this often until the NBIRTH comes"""
    machines: list[MachineMap] = []
    """JSON list mapping (group, node, device) to machine, site, line, profile"""
    profiles: dict[str, EventProfile] = {"default": EventProfile()}
    """JSON: which metrics make state, cycle, job and alarm events; default: a `default` profile
    with the conventional metric names
    """
    # unlisted devices (or nodes without devices) are machines named after themselves
    auto_machines: bool = True
    """consume unmapped edge nodes and devices too (as machines named after them)"""

    @field_validator("host_id")
    @classmethod
    def _host_id(cls, value: str) -> str:
        return check_id(value, "host id")

    @field_validator("group")
    @classmethod
    def _group(cls, value: str) -> str:
        return value if value == "+" else check_id(value, "group id")

    @model_validator(mode="after")
    def _profiles_exist(self) -> SparkplugSettings:
        for machine in self.machines:
            if machine.profile not in self.profiles:
                raise ValueError(
                    f"machine {machine.machine!r} uses profile {machine.profile!r}, not one of "
                    f"SHOPFLOOR_SPARKPLUG__PROFILES ({', '.join(self.profiles) or 'none'})"
                )
        if self.auto_machines and "default" not in self.profiles:
            raise ValueError(
                "auto_machines needs a profile named default (SHOPFLOOR_SPARKPLUG__PROFILES)"
            )
        return self
