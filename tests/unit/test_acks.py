"""Acknowledgements leave in receive order, only for durable messages of the current connection."""

from __future__ import annotations

from gateway.acks import AckSequencer


def _sequencer() -> tuple[AckSequencer, list[int]]:
    sent: list[int] = []
    return AckSequencer(sent.append), sent


def test_acks_wait_for_every_earlier_message() -> None:
    acks, sent = _sequencer()
    t1, t2, t3 = (acks.received(mid) for mid in (11, 12, 13))
    assert acks.durable([t2, t3]) == 0 and sent == []
    assert acks.durable([t1]) == 3
    assert sent == [11, 12, 13] and acks.pending == 0


def test_acks_of_a_previous_connection_are_dropped() -> None:
    acks, sent = _sequencer()
    old = acks.received(5)
    acks.reconnected()
    new = acks.received(5)  # the broker redelivers with the same packet id
    assert acks.durable([old]) == 0 and sent == []
    assert acks.durable([new]) == 1 and sent == [5]


def test_durable_twice_sends_one_ack() -> None:
    acks, sent = _sequencer()
    token = acks.received(1)
    acks.durable([token])
    acks.durable([token])
    assert sent == [1]


def test_a_held_message_is_acknowledged_only_once_durable_and_let_go() -> None:
    acks, sent = _sequencer()
    t1, t2 = acks.received(1), acks.received(2)
    acks.hold(t1)  # its events are not yet acknowledged by the broker
    assert acks.durable([t1, t2]) == 0 and sent == []
    assert acks.unhold([t1]) == 2 and sent == [1, 2]


def test_letting_go_before_durable_still_waits_for_durable() -> None:
    acks, sent = _sequencer()
    t1 = acks.received(1)
    acks.hold(t1)
    assert acks.unhold([t1]) == 0 and sent == []
    assert acks.durable([t1]) == 1 and sent == [1]
