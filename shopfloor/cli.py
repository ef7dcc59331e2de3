"""The `shopfloor` command: gateway, tracker, migrate, sim and demo."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from . import logs

log = logging.getLogger("shopfloor")


def _settings_error(exc: ValidationError) -> int:
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        if err["loc"] and not msg.startswith("SHOPFLOOR_"):
            name = "SHOPFLOOR_" + "__".join(str(p) for p in err["loc"]).upper()
            sys.stderr.write(f"shopfloor: bad setting {name}: {msg}\n")
        else:  # a check across settings: its message names the variables
            sys.stderr.write(f"shopfloor: bad settings: {msg}\n")
    return 2


def file_error(prefix: str, exc: Exception) -> int:
    """A YAML file's problems on stderr, one `prefix path:line: ...` a line; exit code 2."""
    for line in str(exc).splitlines():
        sys.stderr.write(f"{prefix} {line}\n")
    return 2


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def cmd_gateway(_args: argparse.Namespace) -> int:
    from gateway.service import Gateway
    from gateway.settings import GatewaySettings

    try:
        settings = GatewaySettings()
    except ValidationError as exc:
        return _settings_error(exc)
    gw = Gateway(settings)
    gw.start()
    log.info(
        "gateway running: sink %s, topic templates %s",
        settings.influx.sink,
        [t.pattern for t in settings.templates],
    )
    _wait_for_signal()
    gw.stop()
    return 0


def cmd_tracker(_args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from tracker.adapters.migrations import NotMigratedError
    from tracker.bootstrap import Tracker
    from tracker.entrypoints.api import create_app
    from tracker.entrypoints.http_server import Server
    from tracker.plant import PlantFileError
    from tracker.settings import TrackerSettings

    try:
        settings = TrackerSettings()  # type: ignore[call-arg]  # api_key comes from the env
    except ValidationError as exc:
        return _settings_error(exc)
    try:
        tracker = Tracker(settings)
    except (NotMigratedError, SQLAlchemyError) as exc:  # un-migrated or unreachable database
        sys.stderr.write(f"shopfloor tracker: {exc}\n")
        return 2
    except PlantFileError as exc:
        return file_error("shopfloor tracker: bad plant file", exc)
    app = create_app(tracker)
    # uvicorn re-raises the signal it stopped on once it has shut down; with a handler of our
    # own installed that re-raise is a no-op, so a graceful stop exits 0 instead of -15
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    config = uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_config=None)
    server = Server(config, tracker.changes)  # ends the board's event streams on a stop
    server.run()
    return 0 if server.started else 3  # 3: uvicorn's code for a failed start (port taken...)


def cmd_hash_key(_args: argparse.Namespace) -> int:
    """Print the SHA-256 of an API key read from stdin, for SHOPFLOOR_API_KEYS."""
    import getpass

    from tracker.auth.api_keys import hash_key

    # read, not an argument: the key stays out of the shell history and the process list
    key = getpass.getpass("API key: ") if sys.stdin.isatty() else sys.stdin.readline()
    key = key.rstrip("\r\n")
    if len(key) < 16:
        sys.stderr.write("an API key needs at least 16 characters\n")
        return 2
    sys.stdout.write(hash_key(key) + "\n")
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from tracker.adapters.migrations import NotMigratedError
    from tracker.migrate import MigrateSettings, migrate

    try:
        settings = MigrateSettings()
    except ValidationError as exc:
        return _settings_error(exc)
    try:
        done = migrate(settings)
    except (NotMigratedError, SQLAlchemyError) as exc:
        sys.stderr.write(f"shopfloor migrate: {exc}\n")
        return 1
    print(done)  # noqa: T201
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    if args.sim_mode == "load":
        from device_sim.load import main as load_main

        return load_main(args)
    import httpx

    from device_sim.dispatch import DispatchBoard
    from device_sim.machine import Job
    from device_sim.rehearsal import TrackerApi, rehearse
    from device_sim.runner import run
    from device_sim.scenario import ScenarioError, load_scenario
    from device_sim.simulation import Simulation
    from shopfloor.contract.topics import TopicTemplate
    from shopfloor.mqtt import broker_settings, unreachable

    try:
        jobs = [Job.parse(spec) for spec in args.job]
        mqtt = broker_settings(args.broker, protocol=args.mqtt_protocol)
    except ValueError as exc:
        sys.stderr.write(f"shopfloor sim: {exc}\n")
        return 2
    if args.scenario:
        if jobs or args.machine:
            sys.stderr.write("shopfloor sim: --scenario takes no --job or --machine\n")
            return 2
        try:
            scenario = load_scenario(args.scenario)
        except ScenarioError as exc:
            return file_error("shopfloor sim: bad scenario", exc)
        speed = args.speed or scenario.speed
        sim = Simulation.from_scenario(
            scenario, DispatchBoard(speed), speed=speed, seed=args.seed, bridge=args.bridge
        )
    elif args.tracker or args.check:
        sys.stderr.write("shopfloor sim: --tracker and --check go with --scenario\n")
        return 2
    else:
        sim = Simulation(
            args.machine or ([] if jobs else ["cnc-1"]),
            jobs,
            seed=args.seed,
            speed=args.speed or 1.0,
            telemetry_interval_s=args.telemetry_interval,
            site=args.site,
            line=args.line,
        )
        sim.bridge_all(args.bridge or "json")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    code: Callable[[], int] = lambda: 0  # noqa: E731
    if args.tracker:
        key = os.environ.get("SHOPFLOOR_API_KEY")
        if not key:
            sys.stderr.write(
                "shopfloor sim: --tracker needs a supervisor key in SHOPFLOOR_API_KEY\n"
            )
            return 2
        if args.check and scenario.expect is None:
            sys.stderr.write(f"shopfloor sim: scenario {scenario.name} has no `expect`\n")
            return 2
        if (why := unreachable(mqtt)) is not None:  # no orders placed for no machines
            sys.stderr.write(f"shopfloor sim: no MQTT broker at {mqtt.describe()}: {why}\n")
            return 1
        try:
            code = rehearse(scenario, TrackerApi(args.tracker, key), speed, stop, args.check)
        except httpx.HTTPError as exc:
            sys.stderr.write(f"shopfloor sim: the tracker at {args.tracker} answers: {exc}\n")
            return 2
    try:
        run(
            sim,
            mqtt,
            TopicTemplate(args.topic_template),
            duration_s=args.duration,
            exit_when_done=args.exit_when_done,
            stop=stop,
            sparkplug=args.sparkplug,
            sparkplug_group=args.sparkplug_group,
            bridges=args.bridges,
        )
    except ConnectionError as exc:
        sys.stderr.write(f"shopfloor sim: {exc}\n")
        return 1
    return code()


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.benchmark == "tracker":
        from bench.tracker import main as bench_tracker

        return bench_tracker(args.bench_args)
    if args.benchmark == "schedule":
        from bench.schedule import main as bench_schedule

        return bench_schedule(args.bench_args)
    if args.benchmark == "api":
        from bench.api import main as bench_api

        return bench_api(args.bench_args)
    from bench.gateway import main as bench_gateway

    return bench_gateway(args.bench_args)


def build_parser() -> argparse.ArgumentParser:
    from shopfloor.contract.topics import DEFAULT_TEMPLATE

    parser = argparse.ArgumentParser(prog="shopfloor", description=__doc__)
    parser.add_argument("--log-level", default=os.environ.get("SHOPFLOOR_LOG_LEVEL", "INFO"))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("gateway", help="MQTT -> InfluxDB gateway (settings from SHOPFLOOR_* env)")
    sub.add_parser("tracker", help="order tracker and HTTP API (settings from SHOPFLOOR_* env)")
    sub.add_parser("hash-key", help="SHA-256 of an API key (from stdin) for SHOPFLOOR_API_KEYS")
    sub.add_parser(
        "migrate", help="migrate the tracker's database to this version (SHOPFLOOR_DATABASE_URL)"
    )

    sim = sub.add_parser("sim", help="simulated machines publishing over MQTT")
    sim.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    sim.add_argument("--mqtt-protocol", choices=["5", "3.1.1"], default="5")
    sim.add_argument("--machine", action="append", default=[], help="a machine id (repeatable)")
    sim.add_argument(
        "--job",
        action="append",
        default=[],
        help="ORDER:SEQ:MACHINE:QTY:CYCLE_S[:SETUP_S] (repeatable)",
    )
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument(
        "--speed", type=float, default=None, help="simulated seconds per real second (1)"
    )
    sim.add_argument(
        "--telemetry-interval", type=float, default=1.0, help="simulated seconds between readings"
    )
    sim.add_argument("--site", default="plant1")
    sim.add_argument("--line", default="line1")
    sim.add_argument("--topic-template", default=DEFAULT_TEMPLATE)
    sim.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    sim.add_argument("--exit-when-done", action="store_true", help="stop once every job is done")
    sim.add_argument(
        "--sparkplug",
        action="append",
        default=[],
        metavar="MACHINE",
        help="publish this machine as a Sparkplug B edge node (repeatable)",
    )
    sim.add_argument("--sparkplug-group", default=None, help="Sparkplug group id (default: --site)")
    sim.add_argument(
        "--scenario",
        default=None,
        help="machines and faults of a scenario file (or built-in name); they work what the "
        "tracker dispatches to them",
    )
    from device_sim.load import add_arguments as load_arguments

    modes = sim.add_subparsers(dest="sim_mode")
    load_arguments(
        modes.add_parser("load", help="N machines x M readings/s, for benchmarks (see --help)")
    )
    sim.add_argument(
        "--tracker",
        default=None,
        metavar="URL",
        help="with --scenario: place its orders in the tracker at URL (supervisor key in "
        "SHOPFLOOR_API_KEY), times compressed by the speed",
    )
    sim.add_argument(
        "--check",
        action="store_true",
        help="with --tracker: end when the scenario's expected outcome holds (exit 0) or its "
        "time is up (exit 1)",
    )
    sim.add_argument(
        "--bridges",
        action="store_true",
        help="one MQTT client per machine, as PLC bridges: last will OFFLINE, retained state",
    )
    sim.add_argument(
        "--bridge",
        choices=["json", "packml", "packml-sparkplug"],
        default=None,
        help="play the machines as PackML bridges: tags on <site>/<line>/<machine>/... "
        "(packml) or a Sparkplug B edge node per line (packml-sparkplug); with --scenario, "
        "for the machines that name no bridge of their own",
    )

    from .demo import add_arguments as demo_arguments

    demo_arguments(sub.add_parser("demo", help="the whole system on embedded defaults"))
    bench = sub.add_parser(
        "bench",
        help="benchmarks: `shopfloor bench gateway --help`, `shopfloor bench tracker`, "
        "`shopfloor bench schedule`, `shopfloor bench api`",
    )
    bench.add_argument("benchmark", choices=["gateway", "tracker", "schedule", "api"])
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="the benchmark's options")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logs.configure(args.log_level)
    handlers = {
        "gateway": cmd_gateway,
        "tracker": cmd_tracker,
        "migrate": cmd_migrate,
        "hash-key": cmd_hash_key,
        "sim": cmd_sim,
        "demo": cmd_demo,
        "bench": cmd_bench,
    }
    sys.exit(handlers[args.command](args))
