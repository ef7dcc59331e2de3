"""docker-compose.yml, Grafana provisioning and dashboards agree with the code and each other.

Docker is not needed: the files are parsed and checked against the services' settings classes.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings

from device_sim.scenario import load_scenario
from gateway.settings import GatewaySettings
from launcher.parser import build_parser
from tracker.migrate import MigrateSettings
from tracker.plant import load_plant
from tracker.settings import TrackerSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
GRAFANA = ROOT / "deploy" / "grafana" / "provisioning"
DATASOURCES = GRAFANA / "datasources" / "datasources.yml"
DASHBOARD_PROVIDERS = GRAFANA / "dashboards" / "dashboards.yml"
DASHBOARDS = ROOT / "dashboards"
MOSQUITTO_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
MOSQUITTO_ACL = ROOT / "deploy" / "mosquitto" / "acl"
MOSQUITTO_ENTRYPOINT = ROOT / "deploy" / "mosquitto" / "entrypoint.sh"
# the app services that talk MQTT, each with an account of its own on the broker
MQTT_CLIENTS = ("gateway", "tracker", "sim")

PREFIX = "SHOPFLOOR_"
DELIMITER = "__"
APP_SETTINGS: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "tracker": TrackerSettings,
    "tracker-2": TrackerSettings,
    "migrate": MigrateSettings,
}
BIND_ALL = {"0.0.0.0", "::", "[::]"}

# Compose interpolation: $$ (literal $), ${VAR}, ${VAR:-default}, ${VAR-default},
# ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt}, $VAR.
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)
# Grafana provisioning interpolation: $VAR or ${VAR} from Grafana's own environment.
_GRAFANA_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_SECRET_NAME = re.compile(r"PASSWORD|TOKEN|API_KEY|SECRET")


# --- helpers -------------------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _environment(service: str) -> dict[str, str]:
    """A service's `environment:` as name -> raw (uninterpolated) value."""
    env = _services()[service].get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {name: value for name, value in pairs}
    return {name: "" if value is None else str(value) for name, value in env.items()}


def _dummy(name: str) -> str:
    # URL-safe (it lands in the database URL) and long enough for the API key's 16-char minimum
    return f"dummy-{name.lower().replace('_', '-')}-0123456789"


def _interpolate(text: str) -> str:
    """Resolve compose interpolation: defaults where given, dummy values for the rest."""

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("named")
        op, arg = match.group("op"), match.group("arg")
        if op in (":-", "-"):
            return str(arg)
        return _dummy(name)

    return _INTERPOLATION.sub(replace, text)


def _strings(node: Any) -> Iterator[str]:
    """Every string value in parsed YAML (comments are gone, so `$VAR` in them is not counted)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _compose_variables() -> dict[str, list[str | None]]:
    """Every variable compose interpolates, with the operator of each use (None for plain)."""
    found: dict[str, list[str | None]] = {}
    matches = (m for text in _strings(_compose()) for m in _INTERPOLATION.finditer(text))
    for match in matches:
        if match.group("escaped"):
            continue
        name = match.group("braced") or match.group("named")
        found.setdefault(name, []).append(match.group("op"))
    return found


def _env_example() -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f".env.example line {line!r} is not NAME=value"
        entries[name.strip()] = value.strip()
    return entries


def _model_class(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as `MqttSettings` or `MqttSettings | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [m for arg in typing.get_args(annotation) if (m := _model_class(arg))]
        return models[0] if len(models) == 1 else None
    return None


def _settings_variables(model: type[BaseModel], prefix: str = PREFIX) -> Iterator[str]:
    """Every environment variable name a settings class reads, nested models via `__`."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}".upper()
        yield key  # a nested model may also be given whole, as JSON
        nested = _model_class(field.annotation)
        if nested is not None:
            yield from _settings_variables(nested, key + DELIMITER)


def _attribute(settings: BaseModel, variable: str) -> Any:
    """The settings value that an environment variable name sets."""
    value: Any = settings
    for part in variable[len(PREFIX) :].lower().split(DELIMITER):
        value = getattr(value, part)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _app_environment(service: str) -> dict[str, str]:
    """The service's SHOPFLOOR_* values; a path compose mounts a repo file at is that file."""
    mounts = {
        parts[1]: str(ROOT / parts[0])
        for volume in _services()[service].get("volumes", [])
        if isinstance(volume, str) and (parts := volume.split(":"))[0].startswith("./")
    }
    return {
        name: mounts.get(_interpolate(value), _interpolate(value))
        for name, value in _environment(service).items()
        if name.upper().startswith(PREFIX)
    }


def _host_of(value: str) -> str | None:
    return urlsplit(value).hostname if "://" in value else value


def _datasources() -> list[dict[str, Any]]:
    data = yaml.safe_load(DATASOURCES.read_text())
    assert data["apiVersion"] == 1
    return list(data["datasources"])


def _dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def _datasource_refs(node: Any) -> Iterator[dict[str, Any]]:
    """Every `"datasource": {...}` object anywhere in a dashboard model."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource" and isinstance(value, dict):
                yield value
            yield from _datasource_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _datasource_refs(item)


def _mount_target(service: str, source: str) -> str | None:
    for volume in _services()[service].get("volumes", []):
        parts = volume.split(":") if isinstance(volume, str) else []
        if len(parts) >= 2 and parts[0].rstrip("/") == source:
            return parts[1]
    return None


# --- compose and settings ------------------------------------------------------------------


def test_compose_has_no_obsolete_version_key() -> None:
    assert "version" not in _compose()


@pytest.mark.parametrize("service", sorted(APP_SETTINGS))
def test_every_shopfloor_variable_in_compose_names_a_settings_field(service: str) -> None:
    known = set(_settings_variables(APP_SETTINGS[service]))
    given = {name.upper() for name in _environment(service) if name.upper().startswith(PREFIX)}

    assert given, f"{service} gets no {PREFIX}* variables"
    unknown = sorted(given - known)
    assert not unknown, (
        f"{service}: {unknown} match no field of {APP_SETTINGS[service].__name__} "
        f"(settings ignore unknown variables, so a typo would be silently dropped)"
    )


@pytest.mark.parametrize("service", sorted(APP_SETTINGS))
def test_settings_build_from_the_compose_environment_with_every_value_applied(
    service: str, clean_env: pytest.MonkeyPatch
) -> None:
    env = _app_environment(service)
    for name, value in env.items():
        clean_env.setenv(name, value)

    settings = APP_SETTINGS[service]()

    for name, value in env.items():
        actual = _attribute(settings, name.upper())
        assert str(actual) == value or actual == type(actual)(value), (
            f"{service}: {name}={value!r} ended up as {actual!r}"
        )


def test_gateway_writes_to_influxdb_2_and_tracker_serves_the_published_port(
    clean_env: pytest.MonkeyPatch,
) -> None:
    for service in APP_SETTINGS:
        for name, value in _app_environment(service).items():
            clean_env.setenv(name, value)
    gateway, tracker = GatewaySettings(), TrackerSettings()  # type: ignore[call-arg]

    assert gateway.influx.sink == "influx2"
    assert tracker.api_host in BIND_ALL, "inside a container the API must listen on all interfaces"
    published = [str(p) for p in _services()["tracker"].get("ports", [])]
    assert any(p.endswith(f":{tracker.api_port}") for p in published), published


def test_hosts_in_service_urls_are_compose_services() -> None:
    services = set(_services())
    checked = 0
    for service in APP_SETTINGS:
        for name, value in _app_environment(service).items():
            if not name.upper().endswith(("HOST", "URL")):
                continue
            host = _host_of(value)
            if host in BIND_ALL:
                continue
            assert host in services, f"{service}: {name}={value!r} points at unknown host {host!r}"
            checked += 1
    assert checked >= 3  # broker for both, InfluxDB for the gateway, PostgreSQL for the tracker


def test_simulator_runs_under_its_profile_against_the_compose_broker() -> None:
    sim = _services()["sim"]
    command = [str(part) for part in sim["command"]]

    assert sim.get("profiles") == ["sim"]
    assert command[0] == "sim"
    broker = command[command.index("--broker") + 1]
    assert _host_of(broker) in _services()


def test_the_simulators_machines_are_the_plant_files_on_the_same_lines_and_counters() -> None:
    command = [str(part) for part in _services()["sim"]["command"]]
    scenario = load_scenario(command[command.index("--scenario") + 1])
    plant = load_plant(ROOT / "examples" / "plant.yaml")  # what the compose tracker reads
    for machine in scenario.machines:
        assert machine.id in plant.machines, f"{machine.id} is not in examples/plant.yaml"
        assert plant.lines.get(machine.id) == machine.line, machine.id
        assert plant.counter_wraps.get(machine.id) == machine.wrap, machine.id


@pytest.mark.parametrize("service", ["tracker", "gateway"])
def test_the_example_plant_file_is_mounted_where_the_setting_points(service: str) -> None:
    plant_file = _environment(service)["SHOPFLOOR_PLANT_FILE"]
    assert _mount_target(service, "./examples/plant.yaml") == plant_file
    load_plant(ROOT / "examples" / "plant.yaml")  # raises on a plant file the tracker refuses


def test_the_sim_profile_plays_the_demo_scenario_against_the_tracker(
    clean_env: pytest.MonkeyPatch,
) -> None:
    sim = _services()["sim"]
    command = [str(part) for part in sim["command"]]
    assert command[command.index("--scenario") + 1] == "demo"
    # the tracker's margins are in real time: a faster story would show every order at risk
    assert command[command.index("--speed") + 1] == "1"
    build_parser().parse_args(command)  # the command line the image's entrypoint gets
    tracker_url = urlsplit(command[command.index("--tracker") + 1])
    for name, value in _app_environment("tracker").items():
        clean_env.setenv(name, value)
    assert (tracker_url.hostname, tracker_url.port) == ("tracker", TrackerSettings().api_port)  # type: ignore[call-arg]
    assert "SHOPFLOOR_API_KEY" in _environment("sim"), "the orders are placed with a supervisor key"
    assert sim["depends_on"]["tracker"] == {"condition": "service_healthy"}
    assert sim.get("restart") == "no", "a restart would place the orders again"


def test_app_services_wait_for_healthy_backing_services() -> None:
    services = _services()
    for name in [*APP_SETTINGS, "sim", "grafana"]:
        for dependency, condition in services[name]["depends_on"].items():
            assert dependency in services
            if services[dependency].get("restart") == "no":  # a one-shot job: wait for its end
                assert condition == {"condition": "service_completed_successfully"}
                continue
            assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
            assert condition == {"condition": "service_healthy"}, (name, dependency)


def test_the_ha_profile_runs_two_trackers_in_one_share_group_each_with_its_own_session() -> None:
    services = _services()
    first, second = _environment("tracker"), _environment("tracker-2")
    assert services["tracker-2"]["profiles"] == services["tracker-lb"]["profiles"] == ["ha"]
    group = "SHOPFLOOR_TRACKER_SHARE_GROUP"
    assert first[group] == second[group] != ""
    client_id = "SHOPFLOOR_MQTT__CLIENT_ID"
    assert first.get(client_id, "shopfloor-tracker") != second[client_id]
    same = {k: v for k, v in second.items() if k != client_id}
    assert same == {k: v for k, v in first.items() if k != client_id}
    conf = (ROOT / "deploy" / "nginx" / "trackers.conf").read_text()
    assert "server tracker:8000" in conf and "server tracker-2:8000" in conf


def test_tracker_starts_only_after_migrating_its_own_database() -> None:
    services = _services()
    migrate, tracker = services["migrate"], services["tracker"]

    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no", "a one-shot job must not be restarted once it exits 0"
    assert tracker["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    url = "SHOPFLOOR_DATABASE_URL"
    assert _environment("migrate")[url] == _environment("tracker")[url]


def test_broker_listens_on_the_port_the_services_use(clean_env: pytest.MonkeyPatch) -> None:
    lines = [line.split() for line in MOSQUITTO_CONF.read_text().splitlines()]
    listeners = {int(words[1]) for words in lines if words and words[0] == "listener"}
    for service in APP_SETTINGS:
        env = _app_environment(service)
        port = int(env.get(f"{PREFIX}MQTT{DELIMITER}PORT", "1883"))
        assert port in listeners, f"{service} uses MQTT port {port}, broker listens on {listeners}"


# --- broker accounts and ACL -------------------------------------------------------------


def _mosquitto_conf() -> dict[str, str]:
    words = (line.split(None, 1) for line in MOSQUITTO_CONF.read_text().splitlines())
    return {w[0]: w[1].strip() for w in words if len(w) == 2 and not w[0].startswith("#")}


def _acl() -> tuple[list[tuple[str, str]], dict[str | None, list[tuple[str, str]]]]:
    """The ACL file as (patterns, {user: [(access, topic)]}); None is the anonymous section."""
    patterns: list[tuple[str, str]] = []
    users: dict[str | None, list[tuple[str, str]]] = {}
    user: str | None = None
    for line in MOSQUITTO_ACL.read_text().splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "user":
            user = words[1]
            users.setdefault(user, [])
        elif words[0] in ("topic", "pattern"):
            access, topic = (words[1], words[2]) if len(words) == 3 else ("readwrite", words[1])
            target = patterns if words[0] == "pattern" else users.setdefault(user, [])
            target.append((access, topic))
        else:
            raise AssertionError(f"acl: unexpected line {line!r}")
    return patterns, users


def _entrypoint_accounts() -> dict[str, str]:
    """user -> the environment variable the entrypoint takes its password from."""
    found = re.findall(r"^account (\S+) (\S+)$", MOSQUITTO_ENTRYPOINT.read_text(), re.M)
    return dict(found)


def test_broker_refuses_anonymous_clients_and_reads_mounted_password_and_acl_files() -> None:
    conf = _mosquitto_conf()
    mosquitto = _services()["mosquitto"]

    assert conf["allow_anonymous"] == "false"
    assert conf["acl_file"] == _mount_target("mosquitto", "./deploy/mosquitto/acl")
    auth_dir = _mount_target("mosquitto", "mosquitto-auth")
    assert auth_dir is not None and conf["password_file"] == f"{auth_dir}/passwd"
    assert "mosquitto-auth" in _compose()["volumes"]
    entrypoint = _mount_target("mosquitto", "./deploy/mosquitto/entrypoint.sh")
    assert mosquitto["entrypoint"] == ["/bin/sh", entrypoint]
    config = _mount_target("mosquitto", "./deploy/mosquitto/mosquitto.conf")
    assert mosquitto["command"][-2:] == ["-c", config]


@pytest.mark.parametrize("service", MQTT_CLIENTS)
def test_each_service_logs_in_to_the_broker_with_an_account_of_its_own(service: str) -> None:
    env = _environment(service)
    user = env[f"{PREFIX}MQTT{DELIMITER}USERNAME"]
    variable = f"MQTT_{user.upper()}_PASSWORD"

    assert user == service
    assert env[f"{PREFIX}MQTT{DELIMITER}PASSWORD"].startswith(f"${{{variable}:?")
    assert _environment("mosquitto")[variable] == env[f"{PREFIX}MQTT{DELIMITER}PASSWORD"]
    assert _entrypoint_accounts()[user] == variable


def test_every_account_the_entrypoint_makes_has_its_own_acl_section() -> None:
    _patterns, users = _acl()
    accounts = set(_entrypoint_accounts()) | {"healthcheck"}

    assert set(_entrypoint_accounts()) == set(MQTT_CLIENTS)
    assert None not in users, "topic lines before the first `user` would grant anonymous access"
    assert set(users) == accounts
    everything = {"#", "shopfloor/#", "+/#"}
    for user, grants in users.items():
        assert not [g for g in grants if g[1] in everything], f"{user} may use every topic"


def test_machines_may_write_only_topics_named_after_their_own_account() -> None:
    patterns, _users = _acl()
    writes = [topic for access, topic in patterns if access != "read"]

    assert "shopfloor/+/+/%u/telemetry" in writes and "shopfloor/+/+/%u/event" in writes
    assert all("%u" in topic for topic in writes), writes
    assert ("read", "shopfloor/+/dispatch/%u") in patterns


def test_only_the_tracker_may_write_dispatch_lists_and_alerts() -> None:
    patterns, users = _acl()
    for user, grants in users.items():
        written = [topic for access, topic in grants if access != "read"]
        touches = [t for t in written if "/dispatch/" in t or "/alerts/" in t]
        assert (user == "tracker") == bool(touches), (user, touches)
    assert users["tracker"].count(("write", "shopfloor/+/dispatch/+")) == 1
    assert ("write", "shopfloor/_deadletter/gateway") in users["gateway"]


def test_the_healthcheck_logs_in_with_an_account_that_reads_one_topic() -> None:
    test = " ".join(_services()["mosquitto"]["healthcheck"]["test"])
    _patterns, users = _acl()

    assert "-u healthcheck" in test and "-P " in test
    assert users["healthcheck"] == [("read", "$SYS/broker/version")]
    assert "$$SYS/broker/version" in test


# --- secrets and .env.example --------------------------------------------------------------


def test_env_example_lists_every_variable_compose_interpolates() -> None:
    needed = set(_compose_variables())
    listed = set(_env_example())

    assert not needed - listed, f"missing from .env.example: {sorted(needed - listed)}"
    assert not listed - needed, f".env.example has unused entries: {sorted(listed - needed)}"


def test_secrets_are_required_in_compose_and_left_blank_in_the_example() -> None:
    example = _env_example()
    secrets = {name: ops for name, ops in _compose_variables().items() if _SECRET_NAME.search(name)}

    assert secrets, "expected at least the API key, tokens and passwords"
    for name, ops in secrets.items():
        assert set(ops) == {":?"}, f"{name} must be written ${{{name}:?message}} everywhere"
        assert example[name] == "", f".env.example must not suggest a value for {name}"


# --- Grafana -------------------------------------------------------------------------------


def test_datasource_provisioning_parses_with_unique_uids() -> None:
    uids = [ds["uid"] for ds in _datasources()]

    assert len(uids) == len(set(uids))
    assert {ds["type"] for ds in _datasources()} >= {"influxdb", "grafana-postgresql-datasource"}


def test_influxdb_datasource_uses_flux_with_token_org_and_bucket() -> None:
    influx = next(ds for ds in _datasources() if ds["type"] == "influxdb")

    assert influx["jsonData"]["version"] == "Flux"
    assert influx["jsonData"]["organization"]
    assert influx["jsonData"]["defaultBucket"]
    assert influx["secureJsonData"]["token"]


def test_datasources_point_at_compose_services() -> None:
    services = set(_services())
    for ds in _datasources():
        url = ds["url"]
        host = urlsplit(url if "://" in url else f"tcp://{url}").hostname
        assert host in services, f"data source {ds['name']} points at {url}"


def test_grafana_gets_every_variable_its_provisioning_files_use() -> None:
    grafana_env = set(_environment("grafana"))
    for path in (DATASOURCES, DASHBOARD_PROVIDERS):
        values = _strings(yaml.safe_load(path.read_text()))
        used = {name for text in values for name in _GRAFANA_VAR.findall(text)}
        assert not used - grafana_env, f"{path.name} uses {sorted(used - grafana_env)}"


def test_dashboard_provider_reads_the_mounted_dashboards_folder() -> None:
    providers = yaml.safe_load(DASHBOARD_PROVIDERS.read_text())["providers"]
    mounted = _mount_target("grafana", "./dashboards")
    provisioning = _mount_target("grafana", "./deploy/grafana/provisioning")

    assert provisioning == "/etc/grafana/provisioning"
    assert mounted is not None
    assert [p["options"]["path"] for p in providers] == [mounted]


def test_every_dashboard_parses_and_uses_only_provisioned_datasources() -> None:
    provisioned = {ds["uid"]: ds["type"] for ds in _datasources()}
    files = _dashboard_files()
    assert {f.name for f in files} >= {
        "machine-telemetry.json",
        "machine-events.json",
        "order-progress.json",
        "oee-downtime.json",
        "machine-telemetry-influxql.json",
        "machine-events-influxql.json",
    }

    uids = []
    for path in files:
        dashboard = json.loads(path.read_text())
        uids.append(dashboard["uid"])
        assert dashboard["title"] and dashboard["panels"], path.name
        assert dashboard["schemaVersion"] >= 36, path.name
        refs = [
            ref
            for ref in _datasource_refs(dashboard)
            if ref.get("type") != "grafana"  # built-in annotations
        ]
        assert refs, f"{path.name} queries no data source"
        for ref in refs:
            assert ref["uid"] in provisioned, f"{path.name}: unknown data source uid {ref['uid']}"
            assert ref["type"] == provisioned[ref["uid"]], f"{path.name}: {ref}"
    assert len(uids) == len(set(uids)), "dashboard uids must be unique"


def test_dashboard_panels_have_unique_ids_and_a_query_per_target() -> None:
    for path in _dashboard_files():
        panels = json.loads(path.read_text())["panels"]
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids)), path.name
        for panel in panels:
            for target in panel.get("targets", []):
                assert target.get("query") or target.get("rawSql"), (path.name, panel["title"])


def test_dashboard_template_variables_are_defined_where_used() -> None:
    builtin = {"__all", "__field", "__timeFilter", "__timeFrom", "__timeTo", "__interval"}
    builtin |= {"timeFilter"}  # InfluxQL's time range
    for path in _dashboard_files():
        text = path.read_text()
        dashboard = json.loads(text)
        defined = {v["name"] for v in dashboard["templating"]["list"]}
        used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text)) - builtin
        assert not used - defined, f"{path.name} uses undefined variables {sorted(used - defined)}"
