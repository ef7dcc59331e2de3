"""Topic scheme: templates whose named segments become tags, and the fixed alert topics."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFAULT_TEMPLATE = "shopfloor/{site}/{line}/{machine}/{kind}"
TELEMETRY = "telemetry"
EVENT = "event"
KINDS = (TELEMETRY, EVENT)
KIND = "kind"
# a template segment named `field` names the reading's one field: the payload is a single value
FIELD = "field"
SKIP = "+"
DEAD_LETTER_PREFIX = "shopfloor/_deadletter/"

_NAMED = re.compile(r"^\{([a-z_][a-z0-9_]*)(\*?)\}$")
_LEVEL = "[^/]+"
# InfluxDB refuses `time` as a tag key
_RESERVED_NAMES = frozenset({"time"})


class TopicTemplateError(ValueError):
    """A topic template that cannot be used (bad segment, no way to tell the kind, ...)."""


@dataclass(frozen=True)
class TopicTemplate:
    """A topic pattern such as `shopfloor/{site}/{line}/{machine}/{kind}`.

    `{name}` matches one level and becomes a tag; `+` matches one level that is ignored; a last
    segment `{name*}` takes the rest of the topic (levels joined with `separator`); literals
    must match as written. The kind comes from `{kind}`, a literal last level `telemetry` or
    `event`, the `kind` argument, or is telemetry when `{field}`/`{field*}` names the field.
    """

    pattern: str
    kind: str | None = None
    separator: str = "/"
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _fixed_kind: str | None = field(init=False, repr=False, compare=False)
    _rest: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: list[str] = []
        parts: list[str] = []
        rest: str | None = None
        for i, segment in enumerate(self.segments):
            m = _NAMED.match(segment)
            if m:
                name, star = m.groups()
                if star and i != len(self.segments) - 1:
                    self._fail(f"{segment!r} must be the last segment")
                if name in _RESERVED_NAMES:
                    self._fail(f"{segment!r} is a reserved name")
                names.append(name)
                if star:
                    rest = name
                    parts.append(f"(?P<{name}>{_LEVEL}(?:/{_LEVEL})*)")
                elif name == KIND:
                    parts.append(f"(?P<{KIND}>{'|'.join(KINDS)})")
                else:
                    parts.append(f"(?P<{name}>{_LEVEL})")
            elif segment == SKIP:
                parts.append("[^/]*")
            elif not segment or any(c in segment for c in "+#{}"):
                self._fail(f"bad segment {segment!r}")
            else:
                parts.append(re.escape(segment))
        if len(names) != len(set(names)):
            self._fail("repeats a segment name")
        if rest == KIND:
            self._fail("{kind*} is not a kind")
        if not self.separator or "\\" in self.separator:
            self._fail(f"bad separator {self.separator!r}")
        object.__setattr__(self, "_fixed_kind", self._find_kind(names))
        object.__setattr__(self, "_rest", rest)
        object.__setattr__(self, "_regex", re.compile("/".join(parts)))

    def _fail(self, why: str) -> None:
        raise TopicTemplateError(f"topic template {self.pattern!r}: {why}")

    def _find_kind(self, names: list[str]) -> str | None:
        """The kind every matching topic has, or None when `{kind}` says it per topic."""
        if self.kind is not None and self.kind not in KINDS:
            self._fail(f"kind must be one of {KINDS}, not {self.kind!r}")
        fixed = self.kind
        if KIND in names:
            if fixed is not None:
                self._fail("has {kind} and a fixed kind")
        elif fixed is None and self.segments[-1] in KINDS:
            fixed = self.segments[-1]
        elif fixed is None and FIELD in names:
            fixed = TELEMETRY
        elif fixed is None:
            self._fail(
                "must contain {kind}, end in /telemetry or /event, name the field with "
                "{field} or {field*}, or be given a kind"
            )
        if FIELD in names and (KIND in names or fixed == EVENT):
            self._fail("a {field} topic carries one reading, never an event")
        if fixed != TELEMETRY and "machine" not in names:
            self._fail("must contain {machine} to carry events")
        return fixed

    @property
    def segments(self) -> list[str]:
        return self.pattern.split("/")

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of message this template's topics carry."""
        return KINDS if self._fixed_kind is None else (self._fixed_kind,)

    def match(self, topic: str) -> dict[str, str] | None:
        """The named segments of `topic` (always with `kind`), or None when it does not fit."""
        m = self._regex.fullmatch(topic)
        if m is None:
            return None
        tags = m.groupdict()
        if self._rest is not None and self.separator != "/":
            tags[self._rest] = tags[self._rest].replace("/", self.separator)
        if self._fixed_kind is not None:
            tags[KIND] = self._fixed_kind
        return tags

    def subscription(self, kind: str | None = None) -> str:
        """The MQTT filter for one kind of message (or all kinds when None)."""
        if kind is not None and kind not in self.kinds:
            raise TopicTemplateError(f"topic template {self.pattern!r} carries no {kind}")
        levels = []
        for segment in self.segments:
            m = _NAMED.match(segment)
            if m and m.group(2):
                levels.append("#")
            elif m and m.group(1) == KIND and kind is not None:
                levels.append(kind)
            elif m:
                levels.append("+")
            else:
                levels.append(segment)
        return "/".join(levels)

    def subscriptions(self) -> list[str]:
        """One MQTT filter per kind this template carries (one filter when `{kind}` is fixed)."""
        if self._fixed_kind is None:
            return [self.subscription(kind) for kind in KINDS]
        return [self.subscription()]

    def topic(self, **segments: str) -> str:
        """Build a concrete topic; every named segment must be given."""
        levels = []
        for segment in self.segments:
            m = _NAMED.match(segment)
            if segment == SKIP:
                raise TopicTemplateError(f"topic template {self.pattern!r} has a + level")
            if m is None:
                levels.append(segment)
                continue
            name = m.group(1)
            if name == KIND and self._fixed_kind is not None:
                continue
            if name not in segments:
                raise TopicTemplateError(f"topic template {self.pattern!r} needs {name!r}")
            levels.append(segments[name])
        fixed = self._fixed_kind
        if fixed is not None and segments.get(KIND, fixed) != fixed:
            raise TopicTemplateError(f"topic template {self.pattern!r} carries no {segments[KIND]}")
        return "/".join(levels)


def filter_covers(wide: str, narrow: str) -> bool:
    """True when every topic matching MQTT filter `narrow` also matches `wide`."""
    w, n = wide.split("/"), narrow.split("/")
    for i, level in enumerate(w):
        if level == "#":
            return True
        if i >= len(n) or n[i] == "#" or (level != "+" and (n[i] == "+" or level != n[i])):
            return False
    return len(w) == len(n)


def minimal_filters(filters: list[str]) -> list[str]:
    """Filters in order, without repeats or any a wider one covers (no double deliveries)."""
    kept: list[str] = []
    for i, f in enumerate(filters):
        others = filters[:i] + filters[i + 1 :]
        if f in kept or any(filter_covers(o, f) and o != f for o in others):
            continue
        kept.append(f)
    return kept


def alert_topic(site: str, order_id: str, kind: str = "late") -> str:
    """Where alerts of one kind for one order are published.

    The topic ends in the alert kind, never in `telemetry` or `event`, so an order id such as
    `event` cannot make an alert look like machine data to a subscriber of machine topics.
    """
    return f"shopfloor/{site}/alerts/order/{order_id}/{kind}"


def alert_subscription(site: str = "+") -> str:
    """MQTT filter for all order alerts of a site (or of all sites)."""
    return f"shopfloor/{site}/alerts/order/+/+"


def incident_topic(site: str, machine: str, incident_id: int) -> str:
    """Where each transition of one incident (a stopped machine) is published, beside the
    order alerts: `shopfloor/{site}/alerts/incident/{machine}/{incident_id}`."""
    return f"shopfloor/{site}/alerts/incident/{machine}/{incident_id}"


def incident_subscription(site: str = "+") -> str:
    """MQTT filter for all incidents of a site (or of all sites)."""
    return f"shopfloor/{site}/alerts/incident/+/+"


def dispatch_topic(site: str, machine: str) -> str:
    """Where the tracker publishes one machine's dispatch list (retained: a machine or an
    operator terminal that connects gets the current list at once)."""
    return f"shopfloor/{site}/dispatch/{machine}"


def dispatch_subscription(site: str = "+") -> str:
    """MQTT filter for the dispatch lists of every machine of a site (or of all sites)."""
    return f"shopfloor/{site}/dispatch/+"


def dead_letter_topic(service: str) -> str:
    """Where a service republishes messages it rejected, with the reason."""
    return f"{DEAD_LETTER_PREFIX}{service}"


# what the project itself publishes: a consumer with a wide filter must never take it as input
_OWN = (
    re.compile(r"shopfloor/_deadletter/.*"),
    re.compile(r"shopfloor/[^/]+/alerts/.*"),
    re.compile(r"shopfloor/[^/]+/dispatch/[^/]+"),
    re.compile(r"spBv1\.0/.*"),
    re.compile(r"\$.*"),
)


def is_own_topic(topic: str) -> bool:
    """True for our dead letters, alerts, dispatch lists, any Sparkplug topic and `$` topics:
    topics a telemetry or tag template must not ingest, however wide its filter."""
    return any(pattern.fullmatch(topic) for pattern in _OWN)


def filters_intersect(a: str, b: str) -> bool:
    """True when some topic matches both MQTT filters (a broker may then send it twice)."""
    x, y = a.split("/"), b.split("/")
    for i in range(max(len(x), len(y))):
        if (i < len(x) and x[i] == "#") or (i < len(y) and y[i] == "#"):
            return True
        if i >= len(x) or i >= len(y):
            return False
        if x[i] != y[i] and "+" not in (x[i], y[i]):
            return False
    return True
