"""A tracker running on a fresh SQLite file and the test broker, for delivery scenarios."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from shopfloor.mqtt import MqttSettings
from tests.services import Mosquitto
from tests.waiting import wait_for
from tracker.adapters.migrations import upgrade
from tracker.bootstrap import Tracker
from tracker.settings import TrackerSettings


@contextmanager
def running_tracker(
    mosquitto: Mosquitto,
    tmp_path: Path,
    clock: Callable[[], datetime] | None = None,
    **settings: Any,
) -> Iterator[Tracker]:
    """Started, connected and subscribed, on its own site; stopped on exit."""
    config = TrackerSettings(
        database_url=f"sqlite:///{tmp_path / 't.db'}",
        api_key="k" * 32,
        site=f"site{secrets.token_hex(3)}",
        mqtt=MqttSettings(
            host=mosquitto.host, port=mosquitto.port, client_id=f"trk-{secrets.token_hex(4)}"
        ),
        **settings,
    )
    upgrade(config.database_url)
    tracker = Tracker(config) if clock is None else Tracker(config, clock=clock)
    tracker.start()
    try:
        wait_for(lambda: tracker.client.is_connected(), what="tracker connected")
        assert tracker.consumer.wait_subscribed(10), "the tracker's subscription"
        yield tracker
    finally:
        tracker.stop()
