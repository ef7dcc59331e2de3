"""The `shopfloor` command: gateway, tracker, migrate, sim, demo, orders and bench."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from shopfloor import logs

from .parser import build_parser

Command = Callable[[argparse.Namespace], int]

__all__ = ["build_parser", "main"]


def _command(name: str) -> Command:
    """The function that runs subcommand `name`.

    The imports are lazy for start-up cost: each subcommand loads only its own service (the
    gateway no FastAPI or SQLAlchemy, the tracker no simulator, no benchmark loads the demo).
    Every one of them points down the import picture (launcher -> services -> shopfloor).
    """
    if name == "gateway":
        from .gateway_command import cmd_gateway

        return cmd_gateway
    if name in ("tracker", "migrate", "hash-key"):
        from . import tracker_command

        commands: dict[str, Command] = {
            "tracker": tracker_command.cmd_tracker,
            "migrate": tracker_command.cmd_migrate,
            "hash-key": tracker_command.cmd_hash_key,
        }
        return commands[name]
    if name == "sim":
        from .sim_command import cmd_sim

        return cmd_sim
    if name == "demo":
        from .demo import run_demo

        return run_demo
    if name == "orders":
        from .orders_command import cmd_orders

        return cmd_orders
    return cmd_bench


def cmd_bench(args: argparse.Namespace) -> int:
    """`shopfloor bench NAME ...`: run one benchmark with the rest of the command line."""
    # lazy for start-up cost, as in _command: each benchmark loads only what it measures
    if args.benchmark == "tracker":
        from .bench.tracker import main as bench_tracker

        return bench_tracker(args.bench_args)
    if args.benchmark == "schedule":
        from .bench.schedule import main as bench_schedule

        return bench_schedule(args.bench_args)
    if args.benchmark == "telemetry":
        from .bench.telemetry import main as bench_telemetry

        return bench_telemetry(args.bench_args)
    if args.benchmark == "foresight":
        from .bench.foresight import main as bench_foresight

        return bench_foresight(args.bench_args)
    if args.benchmark == "failover":
        from .bench.failover import main as bench_failover

        return bench_failover(args.bench_args)
    if args.benchmark == "api":
        from .bench.api import main as bench_api

        return bench_api(args.bench_args)
    from .bench.gateway import main as bench_gateway

    return bench_gateway(args.bench_args)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, set up logging, run the subcommand; exit with its code."""
    args = build_parser().parse_args(argv)
    logs.configure(args.log_level)
    sys.exit(_command(args.command)(args))
