"""The compose broker's accounts and ACL on a real Mosquitto: the password file written by
deploy/mosquitto/entrypoint.sh, the security lines of its mosquitto.conf, its acl file.
Machines publish only their own telemetry and events; only the tracker publishes dispatch lists."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shopfloor.mqtt import MqttSettings, connect, make_client
from tests.services import Mosquitto, run_mosquitto

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
COMPOSE = DEPLOY.parents[1] / "docker-compose.yml"
PASSWORDS = {"gateway": "gw-secret", "tracker": "tr-secret", "sim": "sim-secret"}
MACHINES = {"cnc-1": "cnc-1-secret", "cnc-2": "cnc-2-secret"}
SITE = f"acl{uuid.uuid4().hex[:6]}"


def _security(auth: Path) -> str:
    """The security lines of the compose mosquitto.conf, its container paths made local."""
    paths = {"/mosquitto/auth": str(auth), "/mosquitto/config/acl": str(DEPLOY / "acl")}
    lines = []
    for line in (DEPLOY / "mosquitto.conf").read_text().splitlines():
        if line.split(" ", 1)[0] in ("allow_anonymous", "password_file", "acl_file"):
            for container, local in paths.items():
                line = line.replace(container, local)
            lines.append(line)
    assert len(lines) == 3, lines
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The password file as the compose entrypoint writes it, plus two machine accounts."""
    auth = tmp_path_factory.mktemp("mosquitto-auth")
    env = {f"MQTT_{user.upper()}_PASSWORD": secret for user, secret in PASSWORDS.items()}
    done = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), "true"],
        env={**os.environ, **env, "MOSQUITTO_AUTH_DIR": str(auth)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    for machine, secret in MACHINES.items():  # as docs/production.md says to add a machine
        subprocess.run(
            ["mosquitto_passwd", "-b", str(auth / "passwd"), machine, secret],
            check=True,
            timeout=30,
        )
    return auth


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, auth: Path) -> Iterator[Mosquitto]:
    with run_mosquitto(tmp_path_factory.mktemp("mosquitto-acl"), _security(auth)) as server:
        yield server


class Account:
    """An MQTT 5 client logged in as `user`; PUBACK reasons and messages are kept."""

    def __init__(self, broker: Mosquitto, user: str | None, password: str | None = None) -> None:
        settings = MqttSettings(
            host=broker.host, port=broker.port, username=user, password=password
        )
        self.connack: queue.Queue[str] = queue.Queue()
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.acks: dict[int, str] = {}
        self._acked = threading.Condition()
        self.client = make_client(settings, f"acl-{user}-{uuid.uuid4().hex[:6]}")
        self.client.on_connect = lambda _c, _u, _f, rc, _p: self.connack.put(str(rc))
        self.client.on_publish = self._on_publish
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, bytes(m.payload)))
        connect(self.client, settings, session_expiry_s=0)
        self.client.loop_start()

    def _on_publish(self, _c: Any, _u: Any, mid: int, rc: Any, _p: Any) -> None:
        with self._acked:
            self.acks[mid] = str(rc)
            self._acked.notify_all()

    def logged_in(self) -> bool:
        return self.connack.get(timeout=10) == "Success"

    def publish(self, topic: str, payload: bytes = b"{}", retain: bool = False) -> str:
        """The broker's answer to a QoS 1 publish: `Success`, `No matching subscribers` when
        allowed, `Not authorized` when the ACL refuses it."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with self._acked:
            assert self._acked.wait_for(lambda: info.mid in self.acks, 10)
            return self.acks[info.mid]

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_a: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def login(broker: Mosquitto) -> Iterator[Any]:
    accounts: list[Account] = []

    def make(user: str | None, password: str | None = None) -> Account:
        secret = password or PASSWORDS.get(user or "") or MACHINES.get(user or "")
        account = Account(broker, user, secret)
        accounts.append(account)
        return account

    yield make
    for account in accounts:
        account.close()


ALLOWED = ("Success", "No matching subscribers")
DENIED = "Not authorized"


def test_anonymous_clients_and_wrong_passwords_are_refused(login: Any) -> None:
    assert login(None).connack.get(timeout=10) == "Not authorized"
    assert login("cnc-1", "not-its-password").connack.get(timeout=10) == "Not authorized"
    assert login("cnc-1").logged_in()


def test_a_machine_publishes_only_its_own_telemetry_and_events(login: Any) -> None:
    machine = login("cnc-1")
    assert machine.logged_in()

    assert machine.publish(f"shopfloor/{SITE}/line1/cnc-1/telemetry") in ALLOWED
    assert machine.publish(f"shopfloor/{SITE}/line1/cnc-1/event") in ALLOWED
    assert machine.publish(f"shopfloor/{SITE}/line1/cnc-2/event") == DENIED
    assert machine.publish(f"shopfloor/{SITE}/line1/cnc-2/telemetry") == DENIED
    assert machine.publish(f"shopfloor/{SITE}/dispatch/cnc-1", retain=True) == DENIED
    assert machine.publish(f"shopfloor/{SITE}/alerts/order/SO-1/late") == DENIED
    assert machine.publish("shopfloor/_deadletter/gateway") == DENIED


def test_the_tracker_hears_only_the_events_machines_may_send(login: Any) -> None:
    tracker, cnc1 = login("tracker"), login("cnc-1")
    assert tracker.logged_in() and cnc1.logged_in()
    tracker.subscribe(f"$share/trackers/shopfloor/{SITE}/+/+/event")

    cnc1.publish(f"shopfloor/{SITE}/line1/cnc-2/event", b"forged")
    cnc1.publish(f"shopfloor/{SITE}/line1/cnc-1/event", b"own")

    # one publisher, QoS 1: had the forged event passed, it would have arrived first
    assert tracker.messages.get(timeout=10) == (f"shopfloor/{SITE}/line1/cnc-1/event", b"own")


def test_only_the_tracker_publishes_dispatch_lists_and_alerts(login: Any) -> None:
    tracker, gateway, sim = login("tracker"), login("gateway"), login("sim")
    assert tracker.logged_in() and gateway.logged_in() and sim.logged_in()
    for other in (gateway, sim):
        assert other.publish(f"shopfloor/{SITE}/dispatch/cnc-1") == DENIED
        assert other.publish(f"shopfloor/{SITE}/alerts/order/SO-1/late") == DENIED
    assert tracker.publish(f"shopfloor/{SITE}/alerts/order/SO-1/late") in ALLOWED
    assert tracker.publish(f"shopfloor/{SITE}/line1/cnc-1/event") == DENIED


def test_a_machine_reads_its_own_dispatch_list_only(login: Any) -> None:
    tracker, machine = login("tracker"), login("cnc-1")
    assert tracker.logged_in() and machine.logged_in()
    machine.subscribe(f"shopfloor/{SITE}/dispatch/+")

    assert tracker.publish(f"shopfloor/{SITE}/dispatch/cnc-2", b"theirs") in ALLOWED
    assert tracker.publish(f"shopfloor/{SITE}/dispatch/cnc-1", b"mine") in ALLOWED

    assert machine.messages.get(timeout=10) == (f"shopfloor/{SITE}/dispatch/cnc-1", b"mine")


def test_the_gateway_reads_machine_data_and_publishes_dead_letters(login: Any) -> None:
    gateway, sim = login("gateway"), login("sim")
    assert gateway.logged_in() and sim.logged_in()
    gateway.subscribe(f"shopfloor/{SITE}/+/+/telemetry")

    assert gateway.publish("shopfloor/_deadletter/gateway") in ALLOWED
    assert gateway.publish("shopfloor/_deadletter/tracker") == DENIED
    assert gateway.publish(f"shopfloor/{SITE}/line1/cnc-1/telemetry") == DENIED
    # the simulator stands in for every machine
    assert sim.publish(f"shopfloor/{SITE}/line9/any-machine/telemetry", b"1") in ALLOWED
    assert gateway.messages.get(timeout=10)[0] == f"shopfloor/{SITE}/line9/any-machine/telemetry"


def test_the_compose_healthcheck_logs_in_with_the_password_the_entrypoint_made(
    broker: Mosquitto, auth: Path
) -> None:
    if shutil.which("mosquitto_sub") is None:
        pytest.skip("mosquitto_sub (Debian package mosquitto-clients) is not installed")
    test = yaml.safe_load(COMPOSE.read_text())["services"]["mosquitto"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    command = test[1].replace("$$", "$").replace("/mosquitto/auth", str(auth))
    command = re.sub(r"-p 1883\b", f"-p {broker.port}", command).replace("localhost", broker.host)

    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30)

    assert done.returncode == 0, done.stderr
    assert re.match(r"mosquitto version \d", done.stdout), done.stdout
