"""Messages to tag values: one value per topic, or JSON with values found by path (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shopfloor.contract.payloads import PayloadError

from ..decode import load_json, scalar_value
from ..timestamps import Clock
from .mapper import Scalar, TagValue
from .spec import SEGMENT, Source

MAX_TAGS = 1000  # tag values in one message; more is refused whole
MAX_TAG_LENGTH = 256


@dataclass(frozen=True)
class TopicPattern:
    """A source's topic: `{name}` one level, `+` any level, a last `{tag*}` the rest."""

    pattern: str
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = []
        for level in self.pattern.split("/"):
            m = SEGMENT.match(level)
            if m is None:
                parts.append("[^/]+" if level == "+" else re.escape(level))
            elif m.group(2):
                parts.append(f"(?P<{m.group(1)}>[^/]+(?:/[^/]+)*)")
            else:
                parts.append(f"(?P<{m.group(1)}>[^/]+)")
        object.__setattr__(self, "_regex", re.compile("/".join(parts)))

    def match(self, topic: str) -> dict[str, str] | None:
        """The named levels of a matching topic (with `tag` where the pattern has it)."""
        m = self._regex.fullmatch(topic)
        return None if m is None else m.groupdict()


def _scalar(value: Any) -> Scalar | None:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise PayloadError("schema", f"a tag value must be a scalar, not {type(value).__name__}")


def _path(data: Any, path: str) -> Any:
    """The value at a dotted path of nested objects (None when any step is missing)."""
    for step in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data


def _name(name: Any) -> str:
    if not isinstance(name, str | int) or isinstance(name, bool):
        raise PayloadError("schema", "a tag id must be text")
    text = str(name)
    if not text or len(text) > MAX_TAG_LENGTH:
        raise PayloadError("schema", f"tag id {text[:40]!r} must be 1-{MAX_TAG_LENGTH} chars")
    return text


def topic_value(tag: str, payload: bytes, clock: Clock, now_ns: int) -> list[TagValue]:
    """A one-value topic: plain text or JSON scalar, or `{"value", "ts"}` (a list of them)."""
    data = load_json(payload) if payload[:1] == b"{" else scalar_value(payload)
    items = data if isinstance(data, list) else [data]
    out = []
    for i, item in enumerate(items[:MAX_TAGS]):
        ts = now_ns + i  # values without a time: a nanosecond apart, in order
        if isinstance(item, dict):
            if "value" not in item:
                raise PayloadError("schema", 'an object payload needs "value"')
            ts = clock.read(item.get("ts"), now_ns + i)
            item = item["value"]
        out.append(TagValue(tag, _scalar(item), ts))
    return out


def _flatten(data: dict[str, Any], prefix: str, out: dict[str, Any], depth: int) -> None:
    for key, value in data.items():
        name = prefix + str(key)
        if isinstance(value, dict):
            if depth >= 8:
                raise PayloadError("schema", f"{name[:40]!r} is nested too deeply")
            _flatten(value, name + ".", out, depth + 1)
        elif not isinstance(value, list):
            out[name] = value
        if len(out) > MAX_TAGS:
            raise PayloadError("schema", f"more than {MAX_TAGS} tags in one message")


def json_values(source: Source, payload: bytes, clock: Clock, now_ns: int) -> list[TagValue]:
    """Tag values of a JSON message: a list of tag objects at `items`, or the object's keys."""
    data = load_json(payload)
    if not isinstance(data, dict):
        raise PayloadError("schema", "a JSON source's message must be an object")
    if source.items is None:
        flat: dict[str, Any] = {}
        _flatten(data, "", flat, 0)
        ts = clock.read(_path(data, source.ts), now_ns) if source.ts else now_ns
        return [
            TagValue(_name(k), _scalar(v), ts)
            for k, v in flat.items()
            if k != source.ts and k.startswith(source.select)
        ]
    items = _path(data, source.items)
    if not isinstance(items, list):
        raise PayloadError("schema", f"{source.items!r} must be a list of tag objects")
    if len(items) > MAX_TAGS:
        raise PayloadError("schema", f"more than {MAX_TAGS} tags in one message")
    default_ts = clock.read(data.get("timestamp"), now_ns)
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise PayloadError("schema", "a tag object must be a JSON object")
        name = _name(_path(item, source.id))
        if not name.startswith(source.select):
            continue  # another machine's tag
        if source.quality and item.get(source.quality) in (False, 0, "false", "bad"):
            continue  # the bridge says the value is not good: no reading, no event
        ts = clock.read(_path(item, source.ts), default_ts) if source.ts else default_ts
        out.append(TagValue(name, _scalar(_path(item, source.value)), ts))
    return out
