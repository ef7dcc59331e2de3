"""Topic scheme: templates whose named segments become tags, and the fixed alert topics."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_TEMPLATE = "shopfloor/{site}/{line}/{machine}/{kind}"
TELEMETRY = "telemetry"
EVENT = "event"
KINDS = (TELEMETRY, EVENT)

_SEGMENT = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")


class TopicTemplateError(ValueError):
    """A topic template that cannot be used (bad segment, missing {machine} or {kind})."""


@dataclass(frozen=True)
class TopicTemplate:
    """A topic pattern such as `shopfloor/{site}/{line}/{machine}/{kind}`.

    Named segments match exactly one topic level and become tags; `{kind}` says whether the
    message is telemetry or an event; literal segments must match as written.
    """

    pattern: str

    def __post_init__(self) -> None:
        names = [m.group(1) for s in self.segments if (m := _SEGMENT.match(s))]
        for segment in self.segments:
            if not segment or "+" in segment or "#" in segment:
                raise TopicTemplateError(
                    f"bad segment {segment!r} in topic template {self.pattern!r}"
                )
            if ("{" in segment or "}" in segment) and not _SEGMENT.match(segment):
                raise TopicTemplateError(
                    f"bad segment {segment!r} in topic template {self.pattern!r}"
                )
        if "machine" not in names or "kind" not in names:
            raise TopicTemplateError(
                f"topic template {self.pattern!r} must contain {{machine}} and {{kind}}"
            )
        if len(names) != len(set(names)):
            raise TopicTemplateError(f"topic template {self.pattern!r} repeats a segment name")

    @property
    def segments(self) -> list[str]:
        return self.pattern.split("/")

    def match(self, topic: str) -> dict[str, str] | None:
        """Return the named segments of `topic`, or None when it does not fit the template."""
        levels = topic.split("/")
        if len(levels) != len(self.segments):
            return None
        tags: dict[str, str] = {}
        for segment, level in zip(self.segments, levels, strict=True):
            m = _SEGMENT.match(segment)
            if m:
                if not level:
                    return None
                tags[m.group(1)] = level
            elif segment != level:
                return None
        if tags.get("kind") not in KINDS:
            return None
        return tags

    def subscription(self, kind: str | None = None) -> str:
        """The MQTT filter for one kind of message (or all kinds when None)."""
        levels = []
        for segment in self.segments:
            m = _SEGMENT.match(segment)
            if m and m.group(1) == "kind" and kind is not None:
                levels.append(kind)
            elif m:
                levels.append("+")
            else:
                levels.append(segment)
        return "/".join(levels)

    def topic(self, **segments: str) -> str:
        """Build a concrete topic; every named segment must be given."""
        try:
            return self.pattern.format(**segments)
        except KeyError as exc:
            raise TopicTemplateError(f"topic template {self.pattern!r} needs {exc}") from None


def alert_topic(site: str, order_id: str, kind: str = "late") -> str:
    """Where alerts of one kind for one order are published.

    The topic ends in the alert kind, never in `telemetry` or `event`, so an order id such as
    `event` cannot make an alert look like machine data to a subscriber of machine topics.
    """
    return f"shopfloor/{site}/alerts/order/{order_id}/{kind}"


def alert_subscription(site: str = "+") -> str:
    """MQTT filter for all order alerts of a site (or of all sites)."""
    return f"shopfloor/{site}/alerts/order/+/+"


def dead_letter_topic(service: str) -> str:
    """Where a service republishes messages it rejected, with the reason."""
    return f"shopfloor/_deadletter/{service}"
