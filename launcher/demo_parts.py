"""The parts the demo starts: the broker, the gateway, the tracker's database and the tracker."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

import yaml
from pydantic import SecretStr, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from device_sim.scenario import Scenario
from gateway.service import Gateway
from gateway.settings import GatewaySettings, InfluxSettings
from shopfloor.mqtt import MqttSettings, broker_settings, unreachable
from tracker.adapters.migrations import upgrade
from tracker.bootstrap import Tracker
from tracker.settings import TelemetrySettings, TrackerSettings

from .broker import EmbeddedBroker
from .errors import settings_error
from .settings import LauncherSettings

log = logging.getLogger("launcher.demo")
TELEMETRY_DB = "telemetry.db"  # the embedded telemetry store, in the data directory

# the tracker's margins in plant time; the demo divides them by the speed
AT_RISK_SLACK_S = 30 * 60.0
DOWN_ALLOWANCE_S = 30 * 60.0
RECOVERY_MARGIN_S = 10 * 60.0
OFFLINE_AFTER_S = 15 * 60.0
CHECK_INTERVAL_S = 5 * 60.0
# a stop shorter than this is no downtime record (the tracker's default, in plant time)
DOWNTIME_MIN_S = 60.0
# the foresight's prior of every machine (the tracker's defaults, in plant time): unscaled, a
# 30-minute repair would be 30 plant hours at 60x and every order would read P(on time) 0%
FORESIGHT_MTBF_S = TrackerSettings.model_fields["foresight_mtbf_s"].default
FORESIGHT_MTTR_S = TrackerSettings.model_fields["foresight_mttr_s"].default


class InfluxEnvironment(LauncherSettings):
    """With --influx-url only: the InfluxDB token, org, bucket and database (SHOPFLOOR_INFLUX__*);
    without it the demo writes SQLite and reads none of them."""

    influx: InfluxSettings = InfluxSettings()


class DemoRefused(Exception):
    """A part cannot start; the reason is on stderr already. `code` is the exit code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def refuse(message: str, code: int = 2) -> DemoRefused:
    """Write `shopfloor demo: message` on stderr; the exception that ends the demo with `code`."""
    sys.stderr.write(f"shopfloor demo: {message}\n")
    return DemoRefused(code)


def data_dir(args: argparse.Namespace) -> tuple[Path, int]:
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


def broker(args: argparse.Namespace) -> tuple[MqttSettings, EmbeddedBroker | None]:
    """The broker given with --broker (it must answer), or an embedded one started here."""
    if args.broker:
        try:
            given = broker_settings(args.broker)
        except ValueError as exc:
            raise refuse(str(exc)) from None
        if (why := unreachable(given)) is not None:
            raise refuse(f"no MQTT broker at {given.describe()}: {why}")
        return given, None
    embedded = EmbeddedBroker(args.mqtt_port)
    embedded.start()
    # the embedded broker speaks MQTT 3.1.1 only
    return MqttSettings(host=embedded.host, port=embedded.port, protocol="3.1.1"), embedded


def influx(args: argparse.Namespace, data: Path) -> InfluxSettings:
    """SQLite under the data directory, or the InfluxDB at --influx-url (SHOPFLOOR_INFLUX__*)."""
    if args.influx_url is None:
        return InfluxSettings(sink="sqlite", sqlite_path=data / TELEMETRY_DB)
    try:
        environment = InfluxEnvironment()
    except ValidationError as exc:
        raise DemoRefused(settings_error(exc)) from None
    return environment.influx.model_copy(
        update={"sink": "influx1" if args.influx_v1 else "influx2", "url": args.influx_url}
    )


def telemetry_of(influx: InfluxSettings) -> TelemetrySettings:
    """The machine charts read the store the demo's gateway writes to."""
    if influx.sink == "sqlite":
        return TelemetrySettings(kind="sqlite", sqlite_path=influx.sqlite_path)
    if influx.sink == "influx1":  # InfluxDB 1.x: the password goes with the user name
        return TelemetrySettings(
            kind="influx1",
            url=influx.url,
            timeout_s=influx.timeout_s,
            database=influx.database,
            username=influx.username,
            token=influx.password,
        )
    return TelemetrySettings(
        kind="influx2",
        url=influx.url,
        timeout_s=influx.timeout_s,
        bucket=influx.bucket,
        org=influx.org,
        token=influx.token,
    )


def gateway(influx: InfluxSettings, mqtt: MqttSettings, data: Path) -> Gateway:
    """The gateway, not started yet: its spool in the data directory."""
    return Gateway(GatewaySettings(mqtt=mqtt, influx=influx, spool_dir=data / "spool"))


def database(args: argparse.Namespace, data: Path) -> str:
    """The tracker's database URL, migrated: the demo owns it, as `shopfloor migrate` would."""
    url: str = args.database_url or f"sqlite:///{data / 'shopfloor.db'}"
    try:
        upgrade(url)
    except (SQLAlchemyError, ValueError) as exc:
        raise refuse(f"cannot use the database: {exc}") from None
    return url


def tracker(
    scenario: Scenario,
    speed: float,
    database_url: str,
    data: Path,
    api: tuple[str, int],
    mqtt: MqttSettings,
    telemetry: TelemetrySettings,
) -> Tracker:
    """The tracker of the scenario's plant, its margins compressed by the speed.

    `api` is the supervisor key and the HTTP port.
    """
    plant_file = data / "plant.yaml"
    plant_file.write_text(
        f"# written by `shopfloor demo` from scenario {scenario.name}\n"
        + yaml.safe_dump(scenario.plant_file(), sort_keys=False)
    )
    settings = scaled_settings(speed, database_url, plant_file, scenario.site, api, mqtt, telemetry)
    return Tracker(settings)


def scaled_settings(
    speed: float,
    database_url: str,
    plant_file: Path,
    site: str,
    api: tuple[str, int],
    mqtt: MqttSettings,
    telemetry: TelemetrySettings,
) -> TrackerSettings:
    """The demo tracker's settings: its margins, checks and priors in plant time / speed."""
    api_key, port = api
    return TrackerSettings(
        database_url=database_url,
        api_key=SecretStr(api_key),
        plant_file=plant_file,
        site=site,
        check_interval_s=min(30.0, max(1.0, CHECK_INTERVAL_S / speed)),
        at_risk_slack_s=AT_RISK_SLACK_S / speed,
        down_allowance_s=DOWN_ALLOWANCE_S / speed,
        demo_speed=speed,
        recovery_margin_s=RECOVERY_MARGIN_S / speed,
        offline_after_s=max(5.0, OFFLINE_AFTER_S / speed),
        downtime_min_s=DOWNTIME_MIN_S / speed,
        foresight_mtbf_s=FORESIGHT_MTBF_S / speed,
        foresight_mttr_s=FORESIGHT_MTTR_S / speed,
        api_port=port,
        mqtt=mqtt,
        telemetry=telemetry,
    )
