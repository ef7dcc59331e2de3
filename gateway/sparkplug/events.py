"""The Sparkplug message events come from, which names them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """The Sparkplug message events come from: with each metric's time, it names the events.

    `session` tells the edge node's sessions apart where `bd_seq` does not (nodes that send
    bdSeq 0 on every connect): the time of the session's birth, or of its death.
    """

    group: str
    node: str
    device: str | None
    bd_seq: int | None
    seq: int | None
    session: int | None = None

    @property
    def key(self) -> str:
        """The part of every event id that comes from the message."""
        return f"spb|{self.group}|{self.node}|{self.device}|{self.bd_seq}|{self.session}|{self.seq}"
