"""`shopfloor sim`: simulated machines over MQTT, alone, from a scenario, or rehearsing one."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable

import httpx

from device_sim.dispatch_board import DispatchBoard
from device_sim.jobs import Job
from device_sim.load import main as load_main
from device_sim.rehearsal import TrackerApi, rehearse
from device_sim.runner import run
from device_sim.scenario import Scenario, ScenarioError, load_scenario
from device_sim.simulation import Simulation
from shopfloor.contract.topics import TopicTemplate
from shopfloor.mqtt import MqttSettings, broker_settings, unreachable

from .errors import file_error
from .settings import LauncherSettings
from .signals import stop_on_signals

Verdict = Callable[[], int]


class _Refused(Exception):
    """The command line asks for something the simulator cannot do: the exit code and why."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code


def cmd_sim(args: argparse.Namespace) -> int:
    """Run the simulation the arguments describe until it ends or a signal; the exit code."""
    if args.sim_mode == "load":
        return load_main(args)
    try:
        mqtt = _broker(args)
        sim, scenario, speed = _simulation(args)
        stop = stop_on_signals()
        code = _rehearsal(args, scenario, speed, mqtt, stop) if args.tracker else lambda: 0
    except _Refused as exc:
        if str(exc):  # else the reason is on stderr already
            sys.stderr.write(f"shopfloor sim: {exc}\n")
        return exc.code
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


def _broker(args: argparse.Namespace) -> MqttSettings:
    try:
        return broker_settings(args.broker, protocol=args.mqtt_protocol)
    except ValueError as exc:
        raise _Refused(2, str(exc)) from None


def _simulation(args: argparse.Namespace) -> tuple[Simulation, Scenario | None, float]:
    """The simulation of a scenario, or of the --machine and --job given; its speed."""
    try:
        jobs = [Job.parse(spec) for spec in args.job]
    except ValueError as exc:
        raise _Refused(2, str(exc)) from None
    if not args.scenario:
        if args.tracker or args.check:
            raise _Refused(2, "--tracker and --check go with --scenario")
        speed = args.speed or 1.0
        sim = Simulation(
            args.machine or ([] if jobs else ["cnc-1"]),
            jobs,
            seed=args.seed,
            speed=speed,
            telemetry_interval_s=args.telemetry_interval,
            site=args.site,
            line=args.line,
        )
        sim.bridge_all(args.bridge or "json")
        return sim, None, speed
    if jobs or args.machine:
        raise _Refused(2, "--scenario takes no --job or --machine")
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        raise _Refused(file_error("shopfloor sim: bad scenario", exc)) from None
    speed = args.speed or scenario.speed
    sim = Simulation.from_scenario(
        scenario, DispatchBoard(speed), speed=speed, seed=args.seed, bridge=args.bridge
    )
    return sim, scenario, speed


def _rehearsal(
    args: argparse.Namespace,
    scenario: Scenario | None,
    speed: float,
    mqtt: MqttSettings,
    stop: threading.Event,
) -> Verdict:
    """Place the scenario's orders in the tracker at --tracker; the verdict once the run ends."""
    assert scenario is not None  # _simulation refuses --tracker without --scenario
    key = LauncherSettings().api_key
    if key is None or not key.get_secret_value():
        raise _Refused(2, "--tracker needs a supervisor key in SHOPFLOOR_API_KEY")
    if args.check and scenario.expect is None:
        raise _Refused(2, f"scenario {scenario.name} has no `expect`")
    if (why := unreachable(mqtt)) is not None:  # no orders placed for no machines
        raise _Refused(1, f"no MQTT broker at {mqtt.describe()}: {why}")
    try:
        api = TrackerApi(args.tracker, key.get_secret_value())
        return rehearse(scenario, api, speed, stop, args.check)
    except httpx.HTTPError as exc:
        raise _Refused(2, f"the tracker at {args.tracker} answers: {exc}") from None
