"""Dead letters: what the gateway rejects is counted, logged and republished in one shape."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from shopfloor.contract.dead_letters import dead_letter_body
from shopfloor.contract.payloads import PayloadError
from shopfloor.contract.topics import dead_letter_topic

from .stats import GatewayStats

log = logging.getLogger(__name__)

DEAD_LETTER_TOPIC = dead_letter_topic("gateway")
# publishes a dead letter's body (JSON text) on DEAD_LETTER_TOPIC
Publish = Callable[[str], object]


class DeadLetters:
    """Rejected messages and points the store refused: counted by reason, logged, published."""

    def __init__(self, publish: Publish, stats: GatewayStats) -> None:
        self._publish = publish
        self._stats = stats

    def message(self, topic: str, raw: bytes, exc: PayloadError) -> None:
        """A message (or one value of it) that cannot be stored, with the reason why."""
        self._stats.reject(exc.reason)
        log.warning("rejected message on %s: %s", topic, exc)
        now = datetime.now(UTC)
        self._publish(dead_letter_body(topic, exc.reason, exc.detail, raw, now))

    def internal_error(self, topic: str, raw: bytes) -> None:
        """A message that hit a gateway bug (logged with its traceback by the caller)."""
        self.message(topic, raw, PayloadError("internal_error", "see gateway log"))

    def point(self, line: str, detail: str) -> None:
        """A point the store refused as content: no topic (a batch mixes messages); its
        line-protocol line is the payload, and also `line`, as before the shapes were one."""
        self._stats.reject("store_rejected")
        log.warning("store rejected point %r: %s", line[:200], detail)
        now = datetime.now(UTC)
        body = dead_letter_body(None, "store_rejected", detail, line.encode(), now, line=line)
        self._publish(body)
