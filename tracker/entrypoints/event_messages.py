"""Machine event messages parsed at the edge: their command, or why they are refused."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shopfloor.contract.dead_letters import KEEP_BYTES, dead_letter_body
from shopfloor.contract.payloads import (
    AlarmEvent,
    CycleEvent,
    JobEndEvent,
    JobStartEvent,
    MachineEvent,
    PayloadError,
    StateEvent,
    parse_event,
)
from shopfloor.contract.topics import EVENT, KIND, TopicTemplate
from tracker.domain import commands

# the contract allows 128 characters; the tracker's tables, API and plant file hold 100
MAX_MACHINE_ID = 100
MAX_TOPIC_ID = 128  # site, line and any other named segment of the topic
_NOT_IN_IDS = frozenset("/+#")


def to_command(
    machine_id: str, event: MachineEvent, arrival: datetime, counter_wrap: int | None = None
) -> commands.Command | None:
    """The command a machine event asks for; `counter_wrap` is the machine's counter modulus."""
    at = event.ts or arrival
    match event:
        case JobStartEvent():
            return commands.StartJob(
                machine_id, event.event_id, event.order_id, event.operation, at
            )
        case JobEndEvent():
            return commands.EndJob(machine_id, event.event_id, event.order_id, event.operation, at)
        case CycleEvent():
            return commands.RecordCycle(
                machine_id,
                event.event_id,
                event.counter,
                at,
                event.cycle_time_s,
                event.order_id,
                event.operation,
                event.scrap_counter,
                counter_wrap,
                bool(event.baseline),
            )
        case StateEvent():
            return commands.SetMachineState(machine_id, event.event_id, event.state.value, at)
        case AlarmEvent():
            return commands.RecordAlarm(machine_id, event.event_id, event.code, event.message, at)
    return None


@dataclass(frozen=True)
class Incoming:
    """One received message, parsed: its command, or why it is rejected (`reason`, `detail`)."""

    topic: str
    payload: bytes = b""  # whole when it parsed (parking keeps it), else its first KEEP_BYTES
    command: commands.Command | None = None
    reason: str = ""
    detail: str = ""
    seq: int = 0  # its arrival number in this process
    mid: int = 0
    qos: int = 0
    connection: int = 0  # which connection it came on: a PUBACK only makes sense on that one


def bad_character(text: str) -> str | None:
    """The first character an id may not hold (whitespace, `/`, `+`, `#`, control, format,
    surrogate, private-use or unassigned characters), as its code point; None if none."""
    for char in text:
        if char in _NOT_IN_IDS or char.isspace() or unicodedata.category(char).startswith("C"):
            return f"U+{ord(char):04X}"
    return None


def _identifier(name: str, value: str, limit: int) -> None:
    if not value or len(value) > limit:
        raise PayloadError("bad_identifier", f"{name} must be 1-{limit} characters")
    bad = bad_character(value)
    if bad is not None:
        raise PayloadError("bad_identifier", f"{name} has a character ids may not hold: {bad}")


def _no_control(name: str, value: str) -> None:
    # never in a topic, so spaces and `/` may stay (a PLC's alarm text, a timestamp as event
    # id); control characters (NUL, which PostgreSQL refuses, among them) may not
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise PayloadError("bad_identifier", f"{name} has a control character")


def check_identifiers(tags: dict[str, str], event: MachineEvent) -> None:
    """Raise PayloadError unless every id of the topic and event is bounded and storable."""
    for name, value in tags.items():
        if name != KIND:
            _identifier(name, value, MAX_MACHINE_ID if name == "machine" else MAX_TOPIC_ID)
    # lengths are the contract's (pydantic checked them); the characters are checked here
    order_id = getattr(event, "order_id", None)
    if order_id is not None:  # it goes into alert topics
        _identifier("order_id", order_id, len(order_id))
    _no_control("event_id", event.event_id)
    if isinstance(event, AlarmEvent):
        _no_control("code", event.code)
        # free text, but storable: PostgreSQL refuses NUL (pydantic, lone surrogates)
        if "\x00" in event.message:
            raise PayloadError("bad_text", "message has a NUL character")


def parse_message(
    template: TopicTemplate,
    topic: str,
    payload: bytes,
    arrival: datetime,
    counter_wrap: Callable[[str], int | None],
) -> Incoming:
    """The message's command, or why it is rejected; raises only on a bug."""
    tags = template.match(topic)
    if tags is None or tags.get(KIND) != EVENT:
        return refused(topic, payload, "unknown_topic", "topic does not match the template")
    try:
        event = parse_event(payload)
        check_identifiers(tags, event)
    except PayloadError as exc:
        return refused(topic, payload, exc.reason, exc.detail)
    except RecursionError:  # json gives up on deep nesting with the interpreter's stack
        return refused(topic, payload, "invalid_json", "nested too deeply")
    machine = tags["machine"]
    return Incoming(topic, payload, to_command(machine, event, arrival, counter_wrap(machine)))


def refused(topic: str, payload: bytes, reason: str, detail: str) -> Incoming:
    """A message rejected for `reason`, keeping what a dead letter shows of it."""
    return Incoming(topic, payload[:KEEP_BYTES], reason=reason, detail=detail)


def dead_letter(message: Incoming, received_at: datetime) -> bytes:
    """The dead-letter body (the contract's one shape) of a rejected message."""
    return dead_letter_body(
        message.topic, message.reason, message.detail, message.payload, received_at
    ).encode()
