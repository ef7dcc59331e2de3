"""A machine as a PackML bridge sees it: PackTags (state, speeds, counters, alarm), on change.

No I/O. Tag names and values follow libremfg/PackML-MQTT-Simulator: `Status/StateCurrent`,
`Admin/ProdProcessedCount/0/AccCount`, ...; counters are fractional (they advance with the cycle
in hand); a Reset zeroes `Count`, only a restart of the bridge zeroes `AccCount`. The machine
makes progress on a cycle only while the unit is in Execute, as a PLC lets it.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from shopfloor.contract.payloads import AlarmEvent, MachineState

from .machine import SimMachine
from .packml import SIMULATOR_CODES, Command, Goal, PackmlState, PackmlUnit, command_towards

Value = int | float | str | bool
Tag = tuple[str, Value]
Codes = Literal["standard", "simulator"]

STATE, STATE_STR = "Status/StateCurrent", "Status/StateCurrentStr"
UNIT_MODE, UNIT_MODE_STR = "Status/UnitModeCurrent", "Status/UnitModeCurrentStr"
MACH_SPEED, CUR_MACH_SPEED = "Status/MachSpeed", "Status/CurMachSpeed"
STOP_REASON = "Admin/StopReason/ID"
ALARM_ID, ALARM_MESSAGE, ALARM_TRIGGER = (
    "Admin/Alarm/0/ID",
    "Admin/Alarm/0/Message",
    "Admin/Alarm/0/Trigger",
)
# (kind, ID, Name) of the three counters, as the reference simulator declares them
COUNTERS = (
    ("Consumed", 1, "Raw Material"),
    ("Defective", 2, "Scrap"),
    ("Processed", 3, "Finished Goods"),
)


@dataclass(frozen=True)
class BridgeSpec:
    """How one machine is bridged: PackML over plain MQTT or Sparkplug B, under `Site/Area/Line`."""

    sparkplug: bool
    prefix: str
    codes: Codes = "standard"

    @property
    def levels(self) -> tuple[str, str, str]:
        """(Site, Area, Line): also the Sparkplug group, edge node and device ids."""
        site, area, line = self.prefix.split("/")
        return site, area, line


def counter_tag(kind: str, field: str) -> str:
    """`Admin/ProdProcessedCount/0/Count` and the like."""
    return f"Admin/Prod{kind}Count/0/{field}"


def js_text(value: Value) -> str:
    """The value as JavaScript's `value + ''` writes it: `0`, `100`, `1.6666666666666667`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if not math.isfinite(value):
        return "" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    if 1e-6 <= abs(value) < 1e21:
        return format(Decimal(repr(float(value))), "f")
    mantissa, exponent = repr(float(value)).split("e")
    return f"{mantissa}e{'+' if int(exponent) > 0 else '-'}{abs(int(exponent))}"


def alarm_number(code: str, known: tuple[str, ...]) -> int:
    """A PackML alarm ID (an integer) for one of our alarm codes: its place in the model's list,
    else a stable number from 1000 to 9999."""
    if code in known:
        return known.index(code) + 1
    return 1000 + zlib.crc32(code.encode()) % 9000


@dataclass
class _Counter:
    """A counter since the bridge started (`acc`) and since the last Reset (`acc - base`)."""

    acc: float = 0.0
    base: float = 0.0


class PackmlBridge:
    """PackML tags of one simulated machine: `step()` returns the tags that changed, in order.

    State changes are reported as they happen; counters and speeds once per `scan_s` (the
    bridge's scan rate) and with each state change. A Reset command zeroes every `Count` (the
    machine may have made parts since the bridge booted). `restart()` is the bridge process
    starting over: all counters zero, the unit boots (Clearing, Stopped), every tag goes out
    again.
    """

    def __init__(
        self,
        machine: SimMachine,
        rng: random.Random,
        codes: Codes = "standard",
        scan_s: float = 1.0,
        transition_s: tuple[float, float] = (1.0, 10.0),
    ) -> None:
        self.machine = machine
        self.unit = PackmlUnit(rng, transition_s)
        self.codes = codes
        self.scan_s = scan_s
        self.held = False  # the breakdown in progress holds the unit rather than aborting it
        self.published: dict[str, Value] = {}
        self._reset_pending = False
        self._since_scan = scan_s
        self._alarm: AlarmEvent | None = None
        self._counters = {kind: _Counter() for kind, _id, _name in COUNTERS}
        self._last = (machine.counter, machine.scrap_counter)
        self._good = self._scrap = 0  # parts since the bridge started
        self._started = self._made = 0.0  # the share of the part in hand counted so far
        self.restart()

    def restart(self) -> None:
        """The bridge process starts over: counters from zero, every tag published again."""
        self.unit.reboot()
        self.published = {}
        self._since_scan = self.scan_s
        self._reset_pending = False
        self._counters = {kind: _Counter() for kind, _id, _name in COUNTERS}
        self._last = (self.machine.counter, self.machine.scrap_counter)
        self._good = self._scrap = 0
        self._started = self._made = 0.0
        self._unseen_cycle = True

    def reset(self) -> None:
        """An operator's Reset: Stop (unless stopped), Reset; Count goes to 0 with the Reset."""
        self._reset_pending = True

    def alarm(self, event: AlarmEvent) -> None:
        """An alarm the machine raised; one that stops it becomes the stop reason."""
        if self.machine.state is MachineState.DOWN:
            self._alarm = event

    def holds(self) -> bool:
        """The unit is not in Execute: the machine makes no progress on its cycle."""
        return self.unit.state is not PackmlState.EXECUTE

    def state_code(self, state: PackmlState) -> int:
        return SIMULATOR_CODES[state] if self.codes == "simulator" else int(state)

    def goal(self) -> Goal:
        """Where the machine's own state says the unit should go."""
        state = self.machine.state
        if state is MachineState.DOWN:
            return Goal.HELD if self.held else Goal.ABORTED
        if state is MachineState.OFFLINE:
            return Goal.STOPPED
        if state is MachineState.RUNNING:
            return Goal.EXECUTE
        return Goal.IDLE if state is MachineState.SETUP else Goal.WAITING

    def step(self, dt_s: float) -> list[Tag]:
        """Advance `dt_s` plant seconds; the tags that changed (a tag may change twice)."""
        out: list[Tag] = []
        if not self.published:
            out += self._changed(self._static_tags())
        out += self._changed(self._state_tags())
        self._count()
        before = self.unit.state
        self.unit.step(dt_s)
        out += self._changed(self._state_tags())
        command = self._operator()
        if command is not None and self.unit.command(command):
            out += self._changed(self._state_tags())
            if command is Command.RESET:  # Count goes to 0, and is published at once
                for counter in self._counters.values():
                    counter.base = counter.acc
                self._since_scan = self.scan_s
        if self.machine.state is not MachineState.DOWN:
            self.held = False
        out += self._changed(self._alarm_tags())
        self._since_scan += dt_s
        # a bridge reads every scan, and a state change brings the speed and counts with it
        if self._since_scan >= self.scan_s or self.unit.state is not before:
            self._since_scan = 0.0
            out += self._changed(self._scanned_tags())
        return out

    def flush(self) -> list[Tag]:
        """What changed since the last scan, read now (before the bridge stops)."""
        return self._changed(self._state_tags() + self._scanned_tags())

    def _operator(self) -> Command | None:
        state = self.unit.state
        if self._reset_pending:
            if state in (PackmlState.STOPPED, PackmlState.COMPLETE):
                self._reset_pending = False
                return Command.RESET
            return command_towards(state, Goal.STOPPED)
        return command_towards(state, self.goal())

    def _count(self) -> None:
        """Follow the machine's part counters; the cycle in hand counts as a fraction of a part."""
        m = self.machine
        wrap = m.counter_wrap or 2**64
        good = (m.counter - self._last[0]) % wrap
        scrap = (m.scrap_counter - self._last[1]) % wrap
        self._last = (m.counter, m.scrap_counter)
        self._good, self._scrap = self._good + good, self._scrap + scrap
        if good or scrap:
            self._started, self._unseen_cycle = 0.0, False
        if good:
            self._made = 0.0
        # a part is counted as made while it is made; one that ends as scrap keeps its share
        # until the next part passes it (a cycle cut by a breakdown starts over the same way),
        # so no count ever goes back and the good count never runs a part ahead
        progress = 0.0 if self._unseen_cycle else m.cycle_progress
        self._started, self._made = max(self._started, progress), max(self._made, progress)
        totals = {
            "Consumed": self._good + self._scrap + self._started,
            "Processed": self._good + self._made,
            "Defective": float(self._scrap),
        }
        for kind, total in totals.items():
            self._counters[kind].acc = total

    def _changed(self, tags: list[Tag]) -> list[Tag]:
        """The tags whose value differs from the one last published (now published)."""
        out = []
        for name, value in tags:
            old = self.published.get(name)
            if old is None or old != value or type(old) is not type(value):
                self.published[name] = value
                out.append((name, value))
        return out

    def _static_tags(self) -> list[Tag]:
        out: list[Tag] = [
            ("Status/UnitModeCurrent", 1),
            ("Status/UnitModeCurrentStr", "Production"),
        ]
        for kind, number, name in COUNTERS:
            out += [
                (counter_tag(kind, "ID"), number),
                (counter_tag(kind, "Name"), name),
                (counter_tag(kind, "Unit"), "Each"),
            ]
        return out

    def _state_tags(self) -> list[Tag]:
        state = self.unit.state
        return [(STATE, self.state_code(state)), (STATE_STR, state.text)]

    def _alarm_tags(self) -> list[Tag]:
        if self._alarm is None:
            return []
        known = tuple(a.code for a in self.machine.model.alarms)
        number = alarm_number(self._alarm.code, known)
        code, message = self._alarm.code, self._alarm.message
        return [
            (STOP_REASON, number),
            (ALARM_ID, number),
            (ALARM_MESSAGE, f"{code}: {message}" if message else code),
            (ALARM_TRIGGER, self.machine.state is MachineState.DOWN),
        ]

    def _scanned_tags(self) -> list[Tag]:
        """Speeds (parts a minute) and counters: what the bridge reads each scan."""
        m = self.machine
        out: list[Tag] = []
        setpoint = 60.0 / m.current.cycle_s if m.current else self.published.get(MACH_SPEED, 0.0)
        out.append((MACH_SPEED, setpoint))
        executing = self.unit.state is PackmlState.EXECUTE and m.cycle_s is not None
        out.append((CUR_MACH_SPEED, 60.0 / m.cycle_s if executing and m.cycle_s else 0.0))
        for kind, counter in self._counters.items():
            out.append((counter_tag(kind, "Count"), counter.acc - counter.base))
            out.append((counter_tag(kind, "AccCount"), counter.acc))
        return out
