"""The `shopfloor` command line: its subcommands and their flags (no service is loaded here)."""

from __future__ import annotations

import argparse
from datetime import tzinfo

from device_sim.load import add_arguments as load_arguments
from shopfloor.contract.topics import DEFAULT_TEMPLATE
from tracker.order_csv import named_zone

from .settings import LauncherSettings

DESCRIPTION = "The `shopfloor` command: gateway, tracker, migrate, sim, demo and orders."


def build_parser() -> argparse.ArgumentParser:
    """The `shopfloor` command line: one subcommand per service, the demo and the benchmarks."""
    parser = argparse.ArgumentParser(prog="shopfloor", description=DESCRIPTION)
    parser.add_argument("--log-level", default=LauncherSettings().log_level)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("gateway", help="MQTT -> InfluxDB gateway (settings from SHOPFLOOR_* env)")
    sub.add_parser("tracker", help="order tracker and HTTP API (settings from SHOPFLOOR_* env)")
    sub.add_parser("hash-key", help="SHA-256 of an API key (from stdin) for SHOPFLOOR_API_KEYS")
    sub.add_parser(
        "migrate", help="migrate the tracker's database to this version (SHOPFLOOR_DATABASE_URL)"
    )
    _sim_arguments(sub.add_parser("sim", help="simulated machines publishing over MQTT"))
    _demo_arguments(sub.add_parser("demo", help="the whole system on embedded defaults"))
    _orders_arguments(sub.add_parser("orders", help="orders in a running tracker: `orders import`"))
    bench = sub.add_parser(
        "bench",
        help="benchmarks: `shopfloor bench gateway --help`, `shopfloor bench tracker`, "
        "`shopfloor bench schedule`, `shopfloor bench api`, `shopfloor bench telemetry`, "
        "`shopfloor bench failover`, `shopfloor bench foresight`",
    )
    bench.add_argument(
        "benchmark",
        choices=["gateway", "tracker", "schedule", "api", "telemetry", "failover", "foresight"],
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="the benchmark's options")
    return parser


def _sim_arguments(sim: argparse.ArgumentParser) -> None:
    """`shopfloor sim`: machines, jobs, topics, Sparkplug, a scenario; `sim load`."""
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
    modes = sim.add_subparsers(dest="sim_mode")
    load_arguments(
        modes.add_parser("load", help="N machines x M readings/s, for benchmarks (see --help)")
    )
    _scenario_arguments(sim)


def _scenario_arguments(sim: argparse.ArgumentParser) -> None:
    """The flags that rehearse a scenario with a tracker, and play machines as bridges."""
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


def _demo_arguments(demo: argparse.ArgumentParser) -> None:
    """`shopfloor demo`: the scenario, its speed, the data directory, real services instead."""
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


def _zone(name: str) -> tzinfo:
    """--timezone's type: argparse says the message as a usage error (exit code 2)."""
    try:
        return named_zone(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _orders_arguments(orders: argparse.ArgumentParser) -> None:
    """`shopfloor orders import FILE`: a CSV of orders into the tracker at --tracker."""
    actions = orders.add_subparsers(dest="orders_action", required=True)
    imports = actions.add_parser(
        "import",
        help="place a CSV file's orders (supervisor key in SHOPFLOOR_API_KEY): all or none",
    )
    imports.add_argument("file", help="a CSV file: `,` or `;`, header names or aliases")
    imports.add_argument(
        "--dry-run", action="store_true", help="check every row, report each bad one, place none"
    )
    imports.add_argument(
        "--tracker",
        default="http://127.0.0.1:8000",
        metavar="URL",
        help="the tracker's address (default http://127.0.0.1:8000)",
    )
    imports.add_argument(
        "--timezone",
        type=_zone,
        default=None,
        metavar="TZ",
        help="for due dates without an offset (default UTC), e.g. Europe/Berlin",
    )
    imports.add_argument(
        "--delimiter",
        choices=[",", ";"],
        default=None,
        metavar="SEP",
        help="`,` or `;` between fields (default: read from the header line)",
    )
