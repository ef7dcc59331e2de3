"""The declared mapping of one machine: where its tags come from and which of them mean what.

Declared under a machine's `source:` in the plant file (or SHOPFLOOR_MAPPING__MACHINES); the
tracker ignores `source:`, the gateway reads nothing else of the plant file but `counter_wrap`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from shopfloor.contract.payloads import MachineState

from .presets import PRESETS, state_key

TAG = "tag"
# a named level of a topic pattern: `{name}`, or `{name*}` for the rest of the topic
SEGMENT = re.compile(r"^\{([a-z_][a-z0-9_]*)(\*?)\}$")
Tag = Annotated[str, Field(min_length=1, max_length=256)]


def _as_tag(value: Any) -> Any:
    return {"tag": value} if isinstance(value, str) else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StateTag(_Strict):
    """The tag holding the machine's state and how its values read as states."""

    tag: Tag
    # a built-in value map: `packml` (state names and codes), `contract` (RUNNING, IDLE, ...)
    preset: Literal["packml", "contract"] = "contract"
    # value (text, case-insensitive, or a whole number) -> state, or `ignore`: over the preset
    values: dict[str, MachineState | Literal["ignore"]] = {}

    def table(self) -> dict[str, MachineState | None]:
        """Looked-up value -> state (None: known, and not reported)."""
        table = dict(PRESETS["contract"])
        table.update(PRESETS[self.preset])
        for value, state in self.values.items():
            table[state_key(value)] = None if state == "ignore" else state
        return table


class CounterTag(_Strict):
    """A part counter: cumulative (may be fractional, resets, wraps at the machine's
    `counter_wrap`), parts made since the last message (`increment`), or one part for each
    message whose value is true or non-zero (`per_message`)."""

    tag: Tag
    kind: Literal["cumulative", "increment", "per_message"] = "cumulative"


class CycleTimeTag(_Strict):
    """Seconds per part: from a tag, or from the time between counted parts."""

    tag: Tag | None = None
    from_counts: bool = False

    @model_validator(mode="after")
    def _one(self) -> CycleTimeTag:
        if (self.tag is None) == (not self.from_counts):
            raise ValueError("give either tag or from_counts: true")
        return self


class AlarmTag(_Strict):
    """The alarm code tag (empty, 0 or false: no alarm) and, optionally, its text's tag."""

    tag: Tag
    text: Tag | None = None


class Source(_Strict):
    """Where one machine's tags arrive, and the tags that become its events."""

    kind: Literal["topic", "json", "sparkplug"] = "topic"
    # topic, json: a topic pattern; `{name}` matches one level, `+` any level, and for `topic`
    # the last segment `{tag*}` (or `{tag}`) names the tag the value belongs to
    topic: str | None = None
    # json: the path of a list of tag objects (Kepware's `values`); none: the payload's own keys
    # (nested objects joined with `.`) are the tags
    items: str | None = None
    id: str = "id"  # in a tag object: the tag's name...
    value: str = "v"  # ...its value...
    ts: str | None = None  # ...its time (epoch ms or RFC 3339); for objects: the payload's time
    quality: str | None = None  # ...and its quality: false or 0 skips the value
    # json: only tags whose name starts with this are the machine's (one message, many machines)
    select: str = ""
    # sparkplug: the edge node and, where the machine is a device of it, the device
    group: str | None = None
    node: str | None = None
    device: str | None = None
    # where the machine's events go: shopfloor/{site}/{line}/{machine}/event by default
    site: str | None = None
    line: str | None = None

    state: Annotated[StateTag | None, BeforeValidator(_as_tag)] = None
    good: Annotated[CounterTag | None, BeforeValidator(_as_tag)] = None
    scrap: Annotated[CounterTag | None, BeforeValidator(_as_tag)] = None
    cycle_time: Annotated[CycleTimeTag | None, BeforeValidator(_as_tag)] = None
    order: Tag | None = None  # non-empty: that order's job runs; empty: none
    operation: Tag | None = None
    alarm: Annotated[AlarmTag | None, BeforeValidator(_as_tag)] = None

    @field_validator("site", "line")
    @classmethod
    def _level(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c in value for c in "/+#")):
            raise ValueError(f"{value!r} must be one topic level (no / + #)")
        return value

    @model_validator(mode="after")
    def _fits_kind(self) -> Source:
        if (self.order is None) != (self.operation is None):
            raise ValueError("order and operation go together: a job is an order's operation")
        if self.kind == "sparkplug":
            if not self.group or not self.node or self.topic is not None:
                raise ValueError("a sparkplug source names group and node (and device), no topic")
            return self
        if self.topic is None:
            raise ValueError(f"a {self.kind} source needs topic")
        names = pattern_names(self.topic)
        if self.kind == "topic" and TAG not in names:
            raise ValueError(f"topic {self.topic!r} must end in {{tag*}} or {{tag}}")
        if self.kind == "json" and TAG in names:
            raise ValueError(f"a json source's topic {self.topic!r} names no {{tag}}")
        return self

    def subscription(self) -> str:
        """The MQTT filter of the source's topic (`+` for named levels, `#` for `{tag*}`)."""
        levels = []
        for level in (self.topic or "").split("/"):
            m = SEGMENT.match(level)
            levels.append(level if m is None else "#" if m.group(2) else "+")
        return "/".join(levels)

    def tags(self) -> list[str]:
        """Every tag a role is mapped from."""
        named = [self.order, self.operation]
        for role in (self.state, self.good, self.scrap, self.cycle_time, self.alarm):
            if role is not None:
                named.append(getattr(role, "tag", None))
        if self.alarm is not None:
            named.append(self.alarm.text)
        return [t for t in named if t]


def pattern_names(pattern: str) -> list[str]:
    """The named segments of a topic pattern; ValueError for a segment that cannot be used."""
    levels = pattern.split("/")
    names: list[str] = []
    for i, level in enumerate(levels):
        m = SEGMENT.match(level)
        if m:
            if m.group(2) and (m.group(1) != TAG or i != len(levels) - 1):
                raise ValueError(f"{level!r}: only a last {{tag*}} takes several levels")
            names.append(m.group(1))
        elif level == "#" or not level or (level != "+" and any(c in level for c in "+#{}")):
            raise ValueError(f"topic pattern {pattern!r}: bad level {level!r}")
    if len(names) != len(set(names)):
        raise ValueError(f"topic pattern {pattern!r} repeats a name")
    return names


class MachineSource(_Strict):
    """One machine (`id` may name topic segments: `{line}`) and its source."""

    id: str = Field(min_length=1, max_length=128)
    counter_wrap: int | None = Field(default=None, gt=1, le=2**63)
    source: Source
