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
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

from .broker import EmbeddedBroker
from .demo_orders import bus_placer, free_ids
from .mqtt import MqttSettings, broker_settings, unreachable

if TYPE_CHECKING:
    from gateway.settings import InfluxSettings

log = logging.getLogger(__name__)

# the tracker's margins in plant time; the demo divides them by the speed
AT_RISK_SLACK_S = 30 * 60.0
DOWN_ALLOWANCE_S = 30 * 60.0
RECOVERY_MARGIN_S = 10 * 60.0
OFFLINE_AFTER_S = 15 * 60.0
CHECK_INTERVAL_S = 5 * 60.0


def add_arguments(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--scenario", default="demo", help="a scenario file, or a built-in name")
    demo.add_argument("--speed", type=float, default=None, help="plant seconds per second")
    demo.add_argument("--seed", type=int, default=None, help="the simulation's seed")
    demo.add_argument("--data-dir", default="shopfloor-demo-data")
    demo.add_argument(
        "--reset", action="store_true", help="delete the data directory's orders and telemetry"
    )
    demo.add_argument("--port", type=int, default=8000, help="HTTP port of the tracker")
    demo.add_argument("--mqtt-port", type=int, default=0, help="embedded broker port (0: free)")
    demo.add_argument(
        "--broker", default=None, help="use this broker instead: mqtt://host:port, mqtts:// (TLS)"
    )
    demo.add_argument(
        "--influx-url",
        default=None,
        help="store telemetry in InfluxDB at this URL (token, org, bucket from "
        "SHOPFLOOR_INFLUX__TOKEN/__ORG/__BUCKET)",
    )
    demo.add_argument(
        "--influx-v1",
        action="store_true",
        help="InfluxDB 1.x: the v1 /write API (database "
        "from SHOPFLOOR_INFLUX__DATABASE, default shopfloor)",
    )
    demo.add_argument("--database-url", default=None, help="orders in this database instead")
    demo.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    demo.add_argument(
        "--check",
        action="store_true",
        help="end when the scenario's expected outcome holds (exit 0) or its time is up (exit 1)",
    )


def _influx(args: argparse.Namespace, data: Path) -> InfluxSettings:
    from gateway.settings import InfluxSettings

    if args.influx_url is None:
        return InfluxSettings(sink="sqlite", sqlite_path=data / "telemetry.db")
    token = os.environ.get("SHOPFLOOR_INFLUX__TOKEN")
    return InfluxSettings(
        sink="influx1" if args.influx_v1 else "influx2",
        url=args.influx_url,
        token=SecretStr(token) if token else None,
        org=os.environ.get("SHOPFLOOR_INFLUX__ORG", "shopfloor"),
        bucket=os.environ.get("SHOPFLOOR_INFLUX__BUCKET", "shopfloor"),
        database=os.environ.get("SHOPFLOOR_INFLUX__DATABASE", "shopfloor"),
    )


def _data_dir(args: argparse.Namespace) -> tuple[Path, int]:
    """The data directory (emptied with --reset) and this run's number in it."""
    data = Path(args.data_dir).resolve()
    if args.reset and data.exists():
        shutil.rmtree(data)
        log.info("removed %s", data)
    data.mkdir(parents=True, exist_ok=True)
    runs = data / "runs"
    number = int(runs.read_text() or 0) + 1 if runs.exists() else 1
    runs.write_text(str(number))
    return data, number


def run_demo(args: argparse.Namespace) -> int:
    import uvicorn

    from device_sim.dispatch import DispatchBoard
    from device_sim.rehearsal import Run, TrackerApi, feed_orders, judge
    from device_sim.runner import run
    from device_sim.scenario import ScenarioError, load_scenario
    from device_sim.simulation import Simulation
    from gateway.service import Gateway
    from gateway.settings import GatewaySettings
    from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate
    from tracker.adapters.migrations import upgrade
    from tracker.bootstrap import Tracker
    from tracker.entrypoints.api import create_app
    from tracker.entrypoints.http_server import Server
    from tracker.settings import TrackerSettings

    from .cli import file_error

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        return file_error("shopfloor demo: bad scenario", exc)
    if args.check and scenario.expect is None:
        sys.stderr.write(f"shopfloor demo: scenario {scenario.name} has no `expect` to check\n")
        return 2
    speed = args.speed or scenario.speed
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # the board polls, the check too
    data, number = _data_dir(args)
    broker = None
    if args.broker:
        try:
            given = broker_settings(args.broker)
        except ValueError as exc:
            sys.stderr.write(f"shopfloor demo: {exc}\n")
            return 2
        if (why := unreachable(given)) is not None:
            sys.stderr.write(f"shopfloor demo: no MQTT broker at {given.describe()}: {why}\n")
            return 2
    else:
        broker = EmbeddedBroker(args.mqtt_port)
        broker.start()
        # the embedded broker speaks MQTT 3.1.1 only
        given = MqttSettings(host=broker.host, port=broker.port, protocol="3.1.1")
    api_key = os.environ.get("SHOPFLOOR_API_KEY") or secrets.token_urlsafe(24)

    def mqtt(client_id: str = "") -> MqttSettings:
        return given.model_copy(update={"client_id": client_id})  # one TLS context for all

    gw = Gateway(
        GatewaySettings(
            mqtt=mqtt("demo-gateway"), influx=_influx(args, data), spool_dir=data / "spool"
        )
    )
    database_url = args.database_url or f"sqlite:///{data / 'shopfloor.db'}"
    try:
        upgrade(database_url)  # the demo owns its database: migrate it, as `shopfloor migrate` does
    except (SQLAlchemyError, ValueError) as exc:
        sys.stderr.write(f"shopfloor demo: cannot use the database: {exc}\n")
        if broker:
            broker.stop()
        return 2
    plant_file = data / "plant.yaml"
    plant_file.write_text(
        f"# written by `shopfloor demo` from scenario {scenario.name}\n"
        + yaml.safe_dump(scenario.plant_file(), sort_keys=False)
    )
    tracker = Tracker(
        TrackerSettings(
            database_url=database_url,
            api_key=SecretStr(api_key),
            plant_file=plant_file,
            site=scenario.site,
            check_interval_s=min(30.0, max(1.0, CHECK_INTERVAL_S / speed)),
            at_risk_slack_s=AT_RISK_SLACK_S / speed,
            down_allowance_s=DOWN_ALLOWANCE_S / speed,
            recovery_margin_s=RECOVERY_MARGIN_S / speed,
            offline_after_s=max(5.0, OFFLINE_AFTER_S / speed),
            api_port=args.port,
            mqtt=mqtt("demo-tracker"),
        )
    )
    base = f"http://127.0.0.1:{args.port}"
    demo = Run(ids=free_ids(tracker, [o.id for o in scenario.orders], number))
    start = datetime.now(UTC)
    stop = threading.Event()

    def link(order_id: str, token: str) -> str:
        return f"{base}/track/{order_id}?token={token}"

    place = bus_placer(tracker, start, speed)
    # the orders already placed when the plant starts; the others arrive on their own time
    now_orders = [o for o in scenario.orders if o.at == 0]
    later = [o for o in scenario.orders if o.at > 0]
    feed_orders(place, now_orders, demo, start, speed, stop, link)
    feeder = threading.Thread(
        target=feed_orders,
        args=(place, later, demo, start, speed, stop, link),
        name="orders",
        daemon=True,
    )

    gw.start()
    board = DispatchBoard(time_scale=speed)
    sim = Simulation.from_scenario(scenario, board, speed=speed, seed=args.seed)
    sim_thread = threading.Thread(
        target=run,
        args=(sim, mqtt(), TopicTemplate(DEFAULT_TEMPLATE)),
        kwargs={"stop": stop},
        name="simulator",
        daemon=True,
    )
    sim_thread.start()
    feeder.start()

    out = sys.stdout.write
    out(f"shopfloor demo: scenario {scenario.name} at {speed:g}x (data in {data})\n")
    out(f"  board:           {base}/board\n")
    out(f"  API docs:        {base}/docs\n")
    out(f"  supervisor key:  {api_key}  (header X-API-Key)\n")
    for order_id, page in demo.links.items():
        out(f"  customer page:   {page}   ({order_id})\n")
    for spec in later:
        out(f"  later:           {spec.id} arrives at {timedelta(seconds=spec.at)} plant time\n")
    scheme = "mqtts" if given.tls else "mqtt"
    out(f"  MQTT broker:     {scheme}://{given.host}:{given.port}   Ctrl-C stops everything\n")
    sys.stdout.flush()

    server = Server(
        uvicorn.Config(create_app(tracker), host="127.0.0.1", port=args.port, log_config=None),
        tracker.changes,
    )

    def stop_server() -> None:
        server.should_exit = True

    api = TrackerApi(base, api_key)
    code: Callable[[], int] = lambda: 0  # noqa: E731
    if args.check:
        code = judge(scenario, demo, api.get, speed, stop_server)
    if args.duration:
        threading.Timer(args.duration, stop_server).start()
    # uvicorn re-raises the signal it stopped on once it has shut down; with a handler of our
    # own installed that re-raise is a no-op, so Ctrl-C ends the demo cleanly with exit 0
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        server.run()
    finally:
        stop.set()
        sim_thread.join(timeout=10)
        gw.stop()
        api.close()
        if broker:
            broker.stop()
        (data / "last-run.json").write_text(
            json.dumps({"scenario": scenario.name, "orders": demo.ids}, indent=2)
        )
    if not server.started:
        return 3  # uvicorn's code for a failed start (port taken...)
    return code()
