"""Over a real Mosquitto: a dispatch-bound machine that publishes only cycles (no order ids, as
PLC bridges do) completes its order; a bridged machine is never marked OFFLINE for silence."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from tests.clock import T0, Clock
from tests.integration.api_keys import wait_planned
from tests.waiting import wait_for
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.bootstrap import Tracker
from tracker.domain import commands

pytestmark = pytest.mark.integration

KEY = "admin-key-" + "b" * 20
PLANT = """
machines: [cell-1, plc-1, old-1]
work_centers:
  cell: {machines: [cell-1], bind: dispatch}
  bridged: {machines: [plc-1], offline: bridge}
  legacy: [old-1]
"""


@contextmanager
def running(
    make_tracker: Callable[..., Tracker], tmp_path: Path, **settings: Any
) -> Iterator[Tracker]:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT, encoding="utf-8")
    tracker = make_tracker(
        KEY, plant_file=plant, site=f"s{secrets.token_hex(3)}", replan_debounce_s=0.05, **settings
    )
    tracker.start()
    try:
        wait_for(tracker.client.is_connected, "the tracker connected")
        assert tracker.consumer.wait_subscribed(10), "the tracker's subscription"
        yield tracker
    finally:
        tracker.stop()


def _send(machine: mqtt.Client, machine_id: str, body: dict[str, Any]) -> None:
    topic = f"shopfloor/p/l/{machine_id}/event"
    machine.publish(topic, json.dumps(body), qos=1).wait_for_publish(5)


def _state(tracker: Tracker, machine_id: str) -> str | None:
    with SqlUnitOfWork(tracker.sessions) as uow:
        return uow.get_machine(machine_id, for_update=False).state


def test_a_dispatch_machine_publishing_only_cycles_completes_its_order(
    make_tracker: Callable[..., Tracker], machine: mqtt.Client, tmp_path: Path
) -> None:
    with running(make_tracker, tmp_path) as tracker:
        tracker.bus.handle(
            commands.CreateOrder(
                order_id="SO-PLC",
                customer="ACME",
                product="p",
                quantity=3,
                due_at=datetime.now(UTC) + timedelta(days=1),
                token_hash="0" * 64,
                operations=(commands.OperationSpec(10, "assemble", "cell", 0, 1.0),),
            )
        )
        wait_planned(tracker, "SO-PLC")
        for i in range(3):  # a PLC counter and nothing else: no job_start, no order id
            _send(machine, "cell-1", {"event_id": f"c{i}", "type": "cycle", "counter": 500 + i})

        def completed() -> bool:
            with SqlUnitOfWork(tracker.sessions) as uow:
                order = uow.get_order("SO-PLC")
                return order is not None and order.status.value == "completed"

        wait_for(completed, "the order completed")
        with SqlUnitOfWork(tracker.sessions) as uow:
            order = uow.get_order("SO-PLC")
            assert order is not None and order.operations[0].good_qty == 3


def test_a_bridged_machine_stays_in_its_state_when_silent_and_a_silence_one_goes_offline(
    make_tracker: Callable[..., Tracker], machine: mqtt.Client, tmp_path: Path
) -> None:
    clock = Clock()
    with running(make_tracker, tmp_path, clock=clock, offline_after_s=300) as tracker:
        for machine_id in ("plc-1", "old-1"):
            ts = T0.isoformat()
            _send(
                machine,
                machine_id,
                {"event_id": "s1", "type": "state", "state": "RUNNING", "ts": ts},
            )
        wait_for(lambda: _state(tracker, "old-1") == "RUNNING", "old-1 running")
        wait_for(lambda: _state(tracker, "plc-1") == "RUNNING", "plc-1 running")

        clock.now = T0 + timedelta(seconds=301)
        tracker.mark_silent_machines()  # what the scheduler runs
        assert (_state(tracker, "plc-1"), _state(tracker, "old-1")) == ("RUNNING", "OFFLINE")

        # the bridge's will (or a Sparkplug death mapped by the gateway)
        ts = (T0 + timedelta(seconds=302)).isoformat()
        _send(machine, "plc-1", {"event_id": "will", "type": "state", "state": "OFFLINE", "ts": ts})
        wait_for(lambda: _state(tracker, "plc-1") == "OFFLINE", "plc-1 offline from its will")
