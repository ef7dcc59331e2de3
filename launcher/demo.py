"""`shopfloor demo`: a scenario run on broker, gateway, tracker and simulator in one process.

Embedded defaults (an amqtt broker, SQLite for orders and telemetry under a data directory);
`--broker`, `--influx-url` and `--database-url` switch a part to a real service. The scenario
(built-in `demo` unless `--scenario FILE`) is in plant time: at speed S everything the tracker
sees (cycle and setup times, due dates, its alert margins) is S times shorter, so a shift's
story plays in minutes. With `--check` the run ends as soon as the scenario's expected outcome
holds (exit 0), or fails when its time is up (exit 1).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from pydantic import ValidationError

from device_sim.dispatch_board import DispatchBoard
from device_sim.rehearsal import Run, TrackerApi, feed_orders, judge
from device_sim.runner import run
from device_sim.scenario import Scenario, ScenarioError, load_scenario
from device_sim.simulation import Simulation
from gateway.service import Gateway
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate
from shopfloor.mqtt import MqttSettings
from tracker.bootstrap import Tracker
from tracker.entrypoints.api import create_app
from tracker.entrypoints.http_server import Server

from . import demo_parts as parts
from .demo_console import DemoConsole
from .demo_orders import bus_placer, free_ids
from .demo_status import Snapshot, snapshot
from .errors import file_error, settings_error
from .settings import LauncherSettings
from .signals import let_uvicorn_exit_cleanly


@dataclass(frozen=True)
class Plan:
    """What this run plays: the scenario, at which speed, in which data directory."""

    scenario: Scenario
    speed: float
    data: Path
    number: int  # the run's number in the data directory
    api_key: str
    base: str  # the tracker's URL

    def link(self, order_id: str, token: str) -> str:
        """A customer's tracking page."""
        return f"{self.base}/track/{order_id}?token={token}"


def run_demo(args: argparse.Namespace) -> int:
    """Play the scenario on the whole system until it ends, a signal or --duration; exit code."""
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        return file_error("shopfloor demo: bad scenario", exc)
    if args.check and scenario.expect is None:
        sys.stderr.write(f"shopfloor demo: scenario {scenario.name} has no `expect` to check\n")
        return 2
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # the board polls, the check too
    try:
        settings = LauncherSettings()
    except ValidationError as exc:
        return settings_error(exc)
    data, number = parts.data_dir(args)
    api_key = settings.api_key.get_secret_value() if settings.api_key else ""
    plan = Plan(
        scenario,
        args.speed or scenario.speed,
        data,
        number,
        api_key or secrets.token_urlsafe(24),
        f"http://127.0.0.1:{args.port}",
    )
    try:
        with contextlib.ExitStack() as stack:
            return _play(args, plan, settings, stack)
    except parts.DemoRefused as exc:
        return exc.code


def _play(
    args: argparse.Namespace, plan: Plan, settings: LauncherSettings, stack: contextlib.ExitStack
) -> int:
    """Start every part (each stopped by `stack` on the way out), serve the tracker's API."""
    given, embedded = parts.broker(args)
    if embedded is not None:
        stack.callback(embedded.stop)

    def mqtt(client_id: str = "") -> MqttSettings:
        return given.model_copy(update={"client_id": client_id})  # one TLS context for all

    influx = parts.influx(args, plan.data)
    gw = parts.gateway(influx, mqtt("demo-gateway"), plan.data)
    database_url = parts.database(args, plan.data)
    tracker = parts.tracker(
        plan.scenario,
        plan.speed,
        database_url,
        plan.data,
        (plan.api_key, args.port),
        mqtt("demo-tracker"),
        parts.telemetry_of(influx),
    )
    demo = Run(ids=free_ids(tracker, [o.id for o in plan.scenario.orders], plan.number))
    stop = threading.Event()
    stack.callback(_last_run, plan, demo)
    later = _place_orders(tracker, plan, demo, stop)
    gw.start()
    stack.callback(gw.stop)
    stack.enter_context(_simulator(plan, args.seed, mqtt(), stop))
    _banner(plan, demo, later, given)
    console = stack.enter_context(_console(plan, demo, gw, stack))
    return _serve(args, plan, tracker, demo, stack, console.refresh)


def _console(plan: Plan, demo: Run, gw: Gateway, stack: contextlib.ExitStack) -> DemoConsole:
    """The status line (on a terminal) and the closing summary, from the tracker's API."""
    api = TrackerApi(plan.base, plan.api_key)
    stack.callback(api.close)
    start, since = time.monotonic(), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def poll() -> Snapshot:
        orders = api.get(f"/api/v1/orders?limit=500&due_from={since}")["orders"]
        alerts = api.get("/api/v1/alerts?limit=1000")
        messages = gw.stats.snapshot()["messages"]
        plant_s = (time.monotonic() - start) * plan.speed
        ids = demo.ids.values()
        return snapshot(plant_s, orders, alerts, ids, messages if isinstance(messages, int) else 0)

    header = [
        f"board {plan.base}/board   API docs {plan.base}/docs",
        f"supervisor key {plan.api_key}  (header X-API-Key)   Ctrl-C stops everything",
    ]
    return DemoConsole(
        header,
        poll,
        lambda: {demo.ids[sid]: link for sid, link in demo.links.items()},
        len(plan.scenario.orders),
    )


def _place_orders(
    tracker: Tracker, plan: Plan, demo: Run, stop: threading.Event
) -> list[tuple[str, float]]:
    """Place the orders due at the start now, the others on a thread at their own time."""
    start = datetime.now(UTC)
    place = bus_placer(tracker, start, plan.speed)
    now_orders = [o for o in plan.scenario.orders if o.at == 0]
    later = [o for o in plan.scenario.orders if o.at > 0]
    feed_orders(place, now_orders, demo, start, plan.speed, stop, plan.link)
    threading.Thread(
        target=feed_orders,
        args=(place, later, demo, start, plan.speed, stop, plan.link),
        name="orders",
        daemon=True,
    ).start()
    return [(spec.id, spec.at) for spec in later]


@contextlib.contextmanager
def _simulator(
    plan: Plan, seed: int | None, mqtt: MqttSettings, stop: threading.Event
) -> Iterator[None]:
    """The scenario's machines on a thread of their own, working what the tracker dispatches."""
    board = DispatchBoard(time_scale=plan.speed)
    sim = Simulation.from_scenario(plan.scenario, board, speed=plan.speed, seed=seed)
    thread = threading.Thread(
        target=run,
        args=(sim, mqtt, TopicTemplate(DEFAULT_TEMPLATE)),
        kwargs={"stop": stop},
        name="simulator",
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _banner(plan: Plan, demo: Run, later: list[tuple[str, float]], given: MqttSettings) -> None:
    """Where to look: the board, the API docs, the key, each customer's page, the broker."""
    out = sys.stdout.write
    out(f"shopfloor demo: scenario {plan.scenario.name} at {plan.speed:g}x (data in {plan.data})\n")
    out(f"  board:           {plan.base}/board\n")
    out(f"  API docs:        {plan.base}/docs\n")
    first = plan.scenario.machines[0].id
    out(f"  terminal:        {plan.base}/operator/{first}   (one per machine)\n")
    out(f"  supervisor key:  {plan.api_key}  (header X-API-Key)\n")
    for order_id, page in demo.links.items():
        out(f"  customer page:   {page}   ({order_id})\n")
    for order_id, at in later:
        out(f"  later:           {order_id} arrives at {timedelta(seconds=at)} plant time\n")
    scheme = "mqtts" if given.tls else "mqtt"
    out(f"  MQTT broker:     {scheme}://{given.host}:{given.port}   Ctrl-C stops everything\n")
    sys.stdout.flush()


def _serve(
    args: argparse.Namespace,
    plan: Plan,
    tracker: Tracker,
    demo: Run,
    stack: contextlib.ExitStack,
    last_look: Callable[[], None],
) -> int:
    """Serve the tracker's API until a signal, --duration or the check's verdict; exit code.

    `last_look` reads the numbers for the closing summary while the API still answers.
    """
    server = Server(
        uvicorn.Config(create_app(tracker), host="127.0.0.1", port=args.port, log_config=None),
        tracker.changes,
    )

    def stop_server() -> None:
        last_look()
        server.should_exit = True

    api = TrackerApi(plan.base, plan.api_key)
    stack.callback(api.close)
    code: Callable[[], int] = lambda: 0  # noqa: E731
    if args.check:
        code = judge(plan.scenario, demo, api.get, plan.speed, stop_server)
    if args.duration:
        threading.Timer(args.duration, stop_server).start()
    let_uvicorn_exit_cleanly()  # so Ctrl-C ends the demo cleanly with exit 0
    server.run()
    if not server.started:
        return 3  # uvicorn's code for a failed start (port taken...)
    return code()


def _last_run(plan: Plan, demo: Run) -> None:
    (plan.data / "last-run.json").write_text(
        json.dumps({"scenario": plan.scenario.name, "orders": demo.ids}, indent=2)
    )
