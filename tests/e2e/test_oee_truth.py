"""The tracker's OEE and downtime equal what the simulator knows it did, within one cycle time.

A short scenario (a breakdown whose alarm code maps to a reason, scrap, a planned break in the
machines' shift calendar) runs at 60x through real Mosquitto into a tracker on SQLite and on
PostgreSQL; the simulator records its own ground truth (device_sim/ground_truth.py) and the
test compares GET /api/v1/oee and /api/v1/downtime with it.

OEE is computed when it is read, from the calendar of the plant file the tracker started
with. A break must fall inside the ~20 s run, whose start depends on how long the tracker takes
to start on a busy machine; so the tracker is restarted on the same database after the run,
with the break put in the middle of what the machines did, and answers the reads.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from device_sim.dispatch_board import DispatchBoard
from device_sim.ground_truth import GroundTruth, Span
from device_sim.rehearsal import TrackerApi, rehearse
from device_sim.runner import run
from device_sim.scenario import Scenario, load_scenario
from device_sim.simulation import Simulation
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate
from shopfloor.mqtt import broker_settings
from tests.processes import Process
from tests.services import Mosquitto, free_port
from tests.waiting import wait_for
from tracker.adapters.migrations import upgrade

pytestmark = pytest.mark.e2e

SCENARIO = Path(__file__).parent.parent / "data" / "scenarios" / "oee_truth.yaml"
SPEED = 60.0
CYCLE_S = 60.0 / SPEED  # every operation's cycle, in real seconds: the tolerance
BREAK_S = 5  # the planned break, in the middle of the run
KEY = secrets.token_urlsafe(24)


def _scenario(site: str) -> Scenario:
    """The test's scenario on a site of its own (the broker is shared by the session)."""
    return load_scenario(SCENARIO).model_copy(update={"site": site})


def _plant_file(
    scenario: Scenario, path: Path, now: datetime, break_at: datetime | None = None
) -> None:
    """The scenario's plant file, its machines in a work center whose shift (UTC) surrounds
    `now` by an hour, with a break at `break_at` if given."""
    plant = scenario.plant_file()
    clock = "%H:%M:%S"

    def span(a: datetime, b: datetime) -> dict[str, str]:
        return {"days": "mon-sun", "start": a.strftime(clock), "end": b.strftime(clock)}

    hour = timedelta(hours=1)
    calendar: dict[str, Any] = {"shifts": [span(now - hour, now + hour)]}
    if break_at is not None:
        calendar["breaks"] = [span(break_at, break_at + timedelta(seconds=BREAK_S))]
    plant["calendars"] = {"day": calendar}
    plant["work_centers"] = {"fab-cell": {"machines": ["press-7", "weld-7"], "calendar": "day"}}
    path.write_text(yaml.safe_dump(plant))


def _tracker(
    tmp_path: Path, mosquitto: Mosquitto, database_url: str, site: str, port: int
) -> Process:
    """A tracker process on `port`, on the plant file `plant-<port>.yaml`."""
    return Process(
        f"tracker-{port}",
        ["tracker"],
        {
            "SHOPFLOOR_MQTT__HOST": mosquitto.host,
            "SHOPFLOOR_MQTT__PORT": str(mosquitto.port),
            "SHOPFLOOR_MQTT__CLIENT_ID": f"truth-{secrets.token_hex(3)}",
            "SHOPFLOOR_DATABASE_URL": database_url,
            "SHOPFLOOR_API_KEY": KEY,
            "SHOPFLOOR_API_PORT": str(port),
            "SHOPFLOOR_SITE": site,
            "SHOPFLOOR_PLANT_FILE": str(tmp_path / f"plant-{port}.yaml"),
            "SHOPFLOOR_DOWNTIME_MIN_S": "1",
            "SHOPFLOOR_REPLAN_DEBOUNCE_S": "0.2",
        },
        tmp_path,
    )


def _run_scenario(
    scenario: Scenario, mosquitto: Mosquitto, api: TrackerApi
) -> tuple[GroundTruth, datetime, datetime]:
    """Run the scenario until the tracker has both orders completed; the truth and the run's
    [start, end)."""
    sim = Simulation.from_scenario(scenario, DispatchBoard(SPEED))
    sim.truth = GroundTruth()
    stop = threading.Event()
    settings = broker_settings(f"mqtt://{mosquitto.host}:{mosquitto.port}")
    start = datetime.now(UTC)
    runner = threading.Thread(
        target=run, args=(sim, settings, TopicTemplate(DEFAULT_TEMPLATE)), kwargs={"stop": stop}
    )
    runner.start()
    try:
        rehearse(scenario, api, SPEED, stop, check=False)

        def completed() -> bool:
            orders = [api.get(f"/api/v1/orders/{o}") for o in ("T-1", "T-2")]
            return all(o is not None and o["status"] == "completed" for o in orders)

        wait_for(completed, "both orders completed in the tracker", timeout_s=45, interval_s=0.3)
    finally:
        stop.set()
        runner.join(30)
    return sim.truth, start, datetime.now(UTC)


def _figures(api: TrackerApi, machine: str, lo: datetime, hi: datetime) -> dict[str, Any]:
    query = httpx.QueryParams({"machine": machine, "from": lo.isoformat(), "to": hi.isoformat()})
    report = api.get(f"/api/v1/oee?{query}")
    (row,) = report["machines"]
    return dict(row)


def _read(
    tmp_path: Path,
    mosquitto: Mosquitto,
    database_url: str,
    site: str,
    stack: ExitStack,
    **when: Any,
) -> tuple[TrackerApi, Process]:
    """A tracker on a plant file of `_plant_file(**when)`, stopped when `stack` closes."""
    port = free_port()
    _plant_file(_scenario(site), tmp_path / f"plant-{port}.yaml", **when)
    tracker = _tracker(tmp_path, mosquitto, database_url, site, port)
    stack.callback(tracker.stop)
    tracker.wait_for_log("Uvicorn running", timeout_s=60)
    return TrackerApi(f"http://127.0.0.1:{port}", KEY), tracker


def _check_oee(truth: GroundTruth, api: TrackerApi, working: list[Span]) -> None:
    lo, hi = working[0][0], working[-1][1]
    for machine, did in truth.machines.items():
        got = _figures(api, machine, lo, hi)
        expected = {
            "run": did.seconds("RUNNING", working),
            "planned_stop": did.seconds("SETUP", working),
            "unplanned_stop": did.seconds("DOWN", working) + did.seconds("IDLE", working),
        }
        expected["planned"] = (
            sum((b - a).total_seconds() for a, b in working) - expected["planned_stop"]
        )
        actual = {
            "run": got["run_min"] * 60,
            "planned_stop": got["planned_stop_min"] * 60,
            "unplanned_stop": got["losses_min"]["unplanned_stop"] * 60,
            "planned": got["planned_min"] * 60,
        }
        for name, seconds in expected.items():
            assert actual[name] == pytest.approx(seconds, abs=CYCLE_S), (machine, name, got)
        assert (got["good"], got["scrap"]) == (did.good, did.scrap), (machine, got)
        ideal = (did.good + did.scrap) * CYCLE_S
        assert got["performance"] == pytest.approx(min(ideal / expected["run"], 1), abs=0.05)


def _check_downtime(truth: GroundTruth, api: TrackerApi) -> None:
    (stop,) = truth.stops("press-7")
    records = api.get("/api/v1/downtime?machine=press-7")
    assert [(r["reason"], r["alarm_code"]) for r in records] == [("hydraulics", "HY-401")]
    started = datetime.fromisoformat(records[0]["started_at"])
    ended = datetime.fromisoformat(records[0]["ended_at"])
    assert abs((started - stop.start).total_seconds()) <= CYCLE_S
    assert stop.end is not None and abs((ended - stop.end).total_seconds()) <= CYCLE_S
    assert not api.get("/api/v1/downtime?machine=weld-7")  # it never stopped


def test_oee_and_downtime_equal_what_the_simulator_did_within_one_cycle(
    tmp_path: Path, mosquitto: Mosquitto, database_url: str
) -> None:
    site = f"truth{uuid.uuid4().hex[:6]}"
    scenario = _scenario(site)
    upgrade(database_url)  # in this process: a process of its own costs seconds on a busy host
    with ExitStack() as stack:
        api, tracker = _read(tmp_path, mosquitto, database_url, site, stack, now=datetime.now(UTC))
        truth, lo, hi = _run_scenario(scenario, mosquitto, api)
        tracker.stop()
        # a break of BREAK_S from the middle of the run, when both machines had work
        break_at = (lo + (hi - lo) / 2).replace(microsecond=0)
        api, _ = _read(tmp_path, mosquitto, database_url, site, stack, now=lo, break_at=break_at)
        pause = (break_at, break_at + timedelta(seconds=BREAK_S))
        ran = sum(did.seconds("RUNNING", [pause]) for did in truth.machines.values())
        assert ran > 0, "the machines did not run in the planned break: nothing tested it"
        # half the welder's parts are scrap: none in its ~20 cycles is one run in a million
        assert truth.machines["weld-7"].scrap > 0
        _check_oee(truth, api, [(lo, pause[0]), (pause[1], hi)])
        _check_downtime(truth, api)
