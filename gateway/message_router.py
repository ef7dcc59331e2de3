"""Routes one received message to points: Sparkplug, a mapped machine source or a template."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from shopfloor.contract.payloads import PayloadError
from shopfloor.sparkplug.topics import NAMESPACE as SPARKPLUG_NAMESPACE

from .acks import Token
from .convert import Converter
from .dead_letters import DeadLetters
from .mapping.problems import ProblemGate
from .mapping.router import TagMappings
from .outlet import Deliver, EventOutlet
from .sparkplug.bridge import SparkplugBridge
from .stats import GatewayStats

log = logging.getLogger(__name__)

_SPARKPLUG_PREFIX = SPARKPLUG_NAMESPACE + "/"


class MessageRouter:
    """Sparkplug messages go to the host, a machine source's to its mapping, the rest to the
    converter; what fails is dead-lettered. Every message reaches the batcher, even with no
    points, so that acknowledgements keep receive order."""

    def __init__(
        self,
        converter: Converter,
        deliver: Deliver,
        outlet: EventOutlet,
        dead_letters: DeadLetters,
        stats: GatewayStats,
        mapping: TagMappings | None = None,
        sparkplug: SparkplugBridge | None = None,
    ) -> None:
        self._converter = converter
        self._deliver = deliver
        self._outlet = outlet
        self._dead = dead_letters
        self._stats = stats
        self._mapping = mapping
        self._sparkplug = sparkplug
        self._problems = ProblemGate()

    def skip(self, token: Token | None) -> None:
        """A message that is not input (a repeat, our own topic): acknowledged in its turn."""
        self._deliver([], token)

    def route(self, topic: str, raw: bytes, retained: bool, token: Token | None) -> None:
        """Convert one message (network thread); never raises."""
        if self._sparkplug is not None and topic.startswith(_SPARKPLUG_PREFIX):
            self._sparkplug.on_message(topic, raw, token)
            return
        if self._mapping is not None and self._mapped(topic, raw, retained, token):
            return
        try:
            lines = self._converter.convert(topic, raw, datetime.now(UTC))
        except PayloadError as exc:
            lines = []
            self._dead.message(topic, raw, exc)
        except Exception:  # a bug must not kill the client: log it and dead-letter the message
            lines = []
            log.exception("unexpected error converting message on %s", topic)
            self._dead.internal_error(topic, raw)
        self._deliver(lines, token)

    def _mapped(self, topic: str, raw: bytes, retained: bool, token: Token | None) -> bool:
        """A message of a machine source: its points, and its events first; False if none."""
        assert self._mapping is not None
        try:
            mapped = self._mapping.convert(topic, raw, datetime.now(UTC), retained)
        except Exception:  # a bug must not kill the client: log it and dead-letter the message
            log.exception("unexpected error mapping message on %s", topic)
            self._dead.internal_error(topic, raw)
            self._deliver([], token)
            return True
        if mapped is None:
            return False
        for machine, problem in mapped.problems:
            if self._problems.first(machine, problem):
                self._dead.message(topic, raw, problem)
            else:
                self._stats.reject(problem.reason)
        self._stats.count("mapped_events", len(mapped.events))
        self._outlet.send(mapped.events, mapped.lines, token)
        return True
