"""The embedded broker's log: the reachability probe's empty connection is not an error."""

from __future__ import annotations

import logging

from launcher.broker import ProbeFilter


def _record(message: str, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("amqtt.broker", level, __file__, 1, message, None, None)


def test_a_connection_closed_before_its_first_byte_is_not_logged() -> None:
    probe = ProbeFilter()
    assert not probe.filter(
        _record("No data from 127.0.0.1:5555 : No data to decode MQTT packet fixed header")
    )
    assert not probe.filter(
        _record("Failed to initialize client session: No data to decode", logging.WARNING)
    )


def test_other_broker_lines_are_kept() -> None:
    probe = ProbeFilter()
    assert probe.filter(_record("Invalid connection from 127.0.0.1:5555", logging.WARNING))
    assert probe.filter(_record("[MQTT-3.1.0-1] Can't read first packet as CONNECT: x"))
