"""No loss: 100,000 readings reach InfluxDB, each once, through a store outage, a gateway crash,
a broker restart and two gateways sharing one subscription.

Marked e2e rather than integration: the gateway runs as `shopfloor gateway` processes configured
by environment, as an operator runs it, so a SIGKILL is a real crash and a restart a real one,
and the servers themselves are killed and restarted; each scenario takes seconds.

Every reading has its own timestamp (and value), so the store holds 100,000 distinct points and
a redelivered reading overwrites itself with the same point: `count(v)` counts each reading once
and `sum(v)` proves no point was overwritten by another.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import Process
from tests.services import InfluxDB1, Mosquitto, Restartable, free_port

pytestmark = pytest.mark.e2e
log = logging.getLogger(__name__)

MESSAGES = 10_000
READINGS_PER_MESSAGE = 10
READINGS = MESSAGES * READINGS_PER_MESSAGE
MACHINES = 10
EXPECTED_SUM = float(READINGS * (READINGS - 1) // 2)  # reading n has value n
ARRIVAL_TIMEOUT_S = 60.0

Message = tuple[str, bytes]


def _stream(base_ms: int) -> list[Message]:
    """10,000 messages of 10 readings; reading n is `v = n` at `base_ms + n` (unique times)."""
    messages = []
    for i in range(MESSAGES):
        first = i * READINGS_PER_MESSAGE
        readings = [
            {"ts": base_ms + n, "values": {"v": float(n)}}
            for n in range(first, first + READINGS_PER_MESSAGE)
        ]
        topic = f"shopfloor/p1/l1/m{i % MACHINES}/telemetry"
        messages.append((topic, json.dumps(readings).encode()))
    return messages


def _leading_acknowledged(infos: Sequence[mqtt.MQTTMessageInfo], timeout_s: float) -> int:
    """How many messages at the start of `infos` the broker acknowledged (PUBACK)."""
    for k, info in enumerate(infos):
        if info.rc != mqtt.MQTT_ERR_SUCCESS:  # not sent: no connection at the time
            return k
        info.wait_for_publish(timeout_s)
        if not info.is_published():
            return k
    return len(infos)


class Publisher:
    """An at-least-once device: QoS 1, every return code checked, at most WINDOW messages in
    flight; after a lost connection it publishes again from its first unacknowledged message."""

    WINDOW = 500

    def __init__(self, broker: Mosquitto, messages: Sequence[Message], rate: float | None) -> None:
        self._messages = messages
        self._rate = rate  # messages per second, or None for as fast as the broker takes them
        self.acked = 0  # messages [0, acked) are acknowledged by the broker
        self.republished = 0
        self.connects = 0
        self._connected = threading.Event()
        self._error: BaseException | None = None
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"noloss-pub-{secrets.token_hex(4)}"
        )
        self._client.max_inflight_messages_set(100)
        self._client.reconnect_delay_set(min_delay=1, max_delay=2)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.connect_async(broker.host, broker.port)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, name="noloss-publisher", daemon=True)
        self._thread.start()

    def _on_connect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object
    ) -> None:
        if not rc.is_failure:
            self.connects += 1
            self._connected.set()

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, _rc: ReasonCode, _p: object
    ) -> None:
        self._connected.clear()

    def _run(self) -> None:
        try:
            started = time.monotonic()
            while self.acked < len(self._messages):
                if not self._connected.wait(30):
                    raise AssertionError("publisher: no broker connection for 30 s")
                first, end = self.acked, min(self.acked + self.WINDOW, len(self._messages))
                infos = []
                for i in range(first, end):
                    if self._rate is not None and i % 20 == 0:
                        time.sleep(max(0.0, started + i / self._rate - time.monotonic()))
                    topic, payload = self._messages[i]
                    infos.append(self._client.publish(topic, payload, qos=1))
                self.acked = first + _leading_acknowledged(infos, timeout_s=10)
                if self.acked < end:
                    self.republished += end - self.acked
                    log.warning("publisher: %d messages unacknowledged", end - self.acked)
                    time.sleep(0.2)  # let paho notice the lost connection
        except BaseException as exc:  # re-raised in the test thread by wait_for/join
            self._error = exc

    def _check(self) -> None:
        if self._error is not None:
            raise AssertionError(f"publisher failed: {self._error!r}") from self._error

    def wait_for(self, acked: int, timeout_s: float = 60) -> None:
        """Block until the broker acknowledged the first `acked` messages."""
        deadline = time.monotonic() + timeout_s
        while self.acked < acked:
            self._check()
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise AssertionError(f"publisher: {self.acked} of {acked} acknowledged")
            time.sleep(0.02)

    def join(self, timeout_s: float = 120) -> None:
        """Wait until every message is acknowledged by the broker."""
        self._thread.join(timeout_s)
        self._check()
        assert not self._thread.is_alive(), f"publisher: only {self.acked} acknowledged"

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._thread.join(5)


class GatewayProcess:
    """A `shopfloor gateway` process and its Prometheus metrics."""

    def __init__(
        self, name: str, env: dict[str, str], workdir: Path, client_id: str, spool_dir: Path
    ) -> None:
        self.client_id = client_id
        self.spool_dir = spool_dir
        self.metrics_port = free_port()
        env = {
            **env,
            "SHOPFLOOR_MQTT__CLIENT_ID": client_id,
            "SHOPFLOOR_SPOOL_DIR": str(spool_dir),
            "SHOPFLOOR_METRICS_PORT": str(self.metrics_port),
            "SHOPFLOOR_METRICS_HOST": "127.0.0.1",
        }
        self.process = Process(name, ["gateway"], env, workdir)

    def metrics(self) -> dict[str, float]:
        """Every sample by name (with its labels, if any), e.g. `..._points_written_total`."""
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        values: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
        return values

    def metric(self, name: str) -> float:
        """One unlabelled sample, without the `shopfloor_gateway_` prefix."""
        return self.metrics().get(f"shopfloor_gateway_{name}", 0.0)

    def dead_letters(self) -> float:
        return sum(
            v for k, v in self.metrics().items() if k.startswith("shopfloor_gateway_dead_letters")
        )

    def kill(self) -> int:
        """SIGKILL, as a crash or an OOM kill would."""
        self.process.proc.kill()
        self.process.proc.wait()
        return self.process.stop()


class Scenario:
    """One run: a fresh database, gateway processes, a publisher; cleans up after itself."""

    def __init__(
        self, broker: Restartable[Mosquitto], influx: Restartable[InfluxDB1], workdir: Path
    ) -> None:
        for server in (broker, influx):  # a failed scenario may have left one down
            if not server.running:
                server.start()
        self.broker = broker
        self.influx = influx
        self.workdir = workdir
        self.run_id = secrets.token_hex(3)  # fresh client ids: no session is shared between runs
        self.database = f"noloss_{self.run_id}"
        influx.server.create_database(self.database)
        self.gateways: list[GatewayProcess] = []
        self.publisher: Publisher | None = None
        self.messages = _stream(int(time.time() * 1000) - 2 * READINGS)  # the last ~200 s

    def start_gateway(
        self,
        name: str,
        *,
        client_id: str | None = None,
        spool_dir: Path | None = None,
        share_group: str | None = None,
    ) -> GatewayProcess:
        broker, influx = self.broker.server, self.influx.server
        env = {
            "SHOPFLOOR_MQTT__HOST": broker.host,
            "SHOPFLOOR_MQTT__PORT": str(broker.port),
            "SHOPFLOOR_INFLUX__SINK": "influx1",
            "SHOPFLOOR_INFLUX__URL": influx.url,
            "SHOPFLOOR_INFLUX__DATABASE": self.database,
            "SHOPFLOOR_FLUSH_INTERVAL_S": "0.2",
        }
        if share_group:
            env["SHOPFLOOR_SHARE_GROUP"] = share_group
        gateway = GatewayProcess(
            name,
            env,
            self.workdir,
            client_id or f"noloss-{name}-{self.run_id}",
            spool_dir or self.workdir / f"spool-{name}",
        )
        self.gateways.append(gateway)
        gateway.process.wait_for_log("subscribed to")
        return gateway

    def wait_until_subscribed(self, gateways: Sequence[GatewayProcess]) -> int:
        """Publish probe events until each gateway has stored one; return how many were sent.

        The gateway logs "subscribed to" before the broker has the subscription; a reading
        published in between would reach nobody, so the stream starts only after this.
        """
        probe = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"noloss-probe-{self.run_id}")
        probe.connect(self.broker.server.host, self.broker.server.port)
        probe.loop_start()
        sent = 0
        deadline = time.monotonic() + 30
        try:
            while not all(g.metric("points_written_total") > 0 for g in gateways):
                assert time.monotonic() < deadline, "gateways did not subscribe:\n" + self.report()
                body = {"event_id": f"probe-{sent}", "type": "state", "state": "RUNNING"}
                info = probe.publish("shopfloor/p1/l1/probe/event", json.dumps(body), qos=1)
                info.wait_for_publish(5)
                assert info.is_published()
                sent += 1
                time.sleep(0.2)
        finally:
            probe.disconnect()
            probe.loop_stop()
        return sent

    def publish(self, rate: float | None) -> Publisher:
        self.publisher = Publisher(self.broker.server, self.messages, rate)
        return self.publisher

    def stored(self) -> tuple[int, float]:
        """`count(v)` and `sum(v)` of the readings in the store."""
        result = self.influx.server.query(self.database, "SELECT count(v), sum(v) FROM telemetry")
        series = result["results"][0].get("series")
        if not series:
            return 0, 0.0
        _, count, total = series[0]["values"][0]
        return int(count), float(total)

    def wait_for_readings(self) -> tuple[int, float]:
        """Poll the store until it holds every reading (or ARRIVAL_TIMEOUT_S passes)."""
        deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
        seen = self.stored()
        while seen[0] < READINGS and time.monotonic() < deadline:
            time.sleep(0.5)
            seen = self.stored()
        return seen

    def stop_gateways(self) -> dict[str, int]:
        """Stop the running gateways (SIGTERM); their exit codes by name."""
        return {g.process.name: g.process.stop() for g in self.gateways if g.process.alive()}

    def report(self) -> str:
        """What the store, the publisher and each gateway saw, for assertion messages."""
        lines = [f"store (count, sum): {self.stored()}"]
        if self.publisher is not None:
            pub = self.publisher
            lines.append(f"publisher: acked {pub.acked}, republished {pub.republished}")
        for g in self.gateways:
            if g.process.alive():
                lines.append(f"{g.process.name}: {_summary(g.metrics())}")
            tail = "\n".join(g.process.log().splitlines()[-40:])
            lines.append(f"--- {g.process.log_path} ---\n{tail}")
        return "\n".join(lines)

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()
        self.stop_gateways()
        for client_id in {g.client_id for g in self.gateways}:
            _forget_session(self.broker.server, client_id)


def _summary(metrics: dict[str, float]) -> str:
    """Counters and gauges without the prefix; histogram buckets left out."""
    return ", ".join(
        f"{k.removeprefix('shopfloor_gateway_')}={v:g}"
        for k, v in sorted(metrics.items())
        if not k.endswith(("_created", "_count", "_sum")) and "_bucket" not in k
    )


def _forget_session(broker: Mosquitto, client_id: str) -> None:
    """End a gateway's persistent session, so the broker stops queueing for it (and the next
    scenario's readings are not split with a member of an old share group)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    try:
        client.connect(broker.host, broker.port, clean_start=True)  # session expiry 0
        client.loop_start()
        deadline = time.monotonic() + 5
        while not client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.02)
        client.disconnect()
        client.loop_stop()
    except OSError as exc:
        log.warning("could not end the session of %s: %s", client_id, exc)


@pytest.fixture
def scenario(
    restartable_mosquitto: Restartable[Mosquitto],
    restartable_influxdb1: Restartable[InfluxDB1],
    tmp_path: Path,
) -> Iterator[Scenario]:
    run = Scenario(restartable_mosquitto, restartable_influxdb1, tmp_path)
    try:
        yield run
    finally:
        run.close()


def _assert_every_reading_once(run: Scenario) -> None:
    count, total = run.wait_for_readings()
    log.info("%s: store holds %d readings, sum %.0f", run.database, count, total)
    assert (count, total) == (READINGS, EXPECTED_SUM), run.report()


def test_every_reading_arrives_when_the_store_is_killed_for_10_s_mid_stream(
    scenario: Scenario, restartable_influxdb1: Restartable[InfluxDB1]
) -> None:
    gateway = scenario.start_gateway("gw")
    scenario.wait_until_subscribed([gateway])
    publisher = scenario.publish(rate=650)  # ~15 s, so the stream outlasts the outage

    publisher.wait_for(2_000)
    restartable_influxdb1.kill()
    outage_started = time.monotonic()
    acked_at_kill = publisher.acked
    time.sleep(10)
    spooled_in_outage = gateway.metric("batches_spooled_total")
    restartable_influxdb1.start()
    log.info(
        "store down %.1f s; publisher acked %d -> %d; %g batches spooled meanwhile",
        time.monotonic() - outage_started,
        acked_at_kill,
        publisher.acked,
        spooled_in_outage,
    )
    publisher.join()

    _assert_every_reading_once(scenario)
    metrics = gateway.metrics()
    log.info("gateway: %s", _summary(metrics))
    spooled = metrics["shopfloor_gateway_batches_spooled_total"]
    assert spooled_in_outage > 0, scenario.report()
    assert metrics["shopfloor_gateway_batches_replayed_total"] == spooled, scenario.report()
    assert metrics["shopfloor_gateway_spool_batches"] == 0, scenario.report()
    assert not list(gateway.spool_dir.glob("*.lp")), scenario.report()
    assert metrics["shopfloor_gateway_write_retries_total"] > 0
    assert gateway.dead_letters() == 0, scenario.report()
    text = gateway.process.log()
    assert "store unavailable" in text and "spool replayed; writing directly again" in text
    assert scenario.stop_gateways() == {"gw": 0}


def test_every_reading_arrives_when_the_gateway_is_sigkilled_mid_stream(
    scenario: Scenario,
) -> None:
    spool_dir = scenario.workdir / "spool"
    client_id = f"noloss-gw-{scenario.run_id}"
    first = scenario.start_gateway("gw-1", client_id=client_id, spool_dir=spool_dir)
    probes = scenario.wait_until_subscribed([first])
    publisher = scenario.publish(rate=2000)

    publisher.wait_for(3_000)
    before_kill = first.metrics()
    assert first.kill() == -9
    acked_at_kill = publisher.acked
    time.sleep(1)  # the broker queues for the session while no gateway is connected
    second = scenario.start_gateway("gw-2", client_id=client_id, spool_dir=spool_dir)
    log.info(
        "gateway SIGKILLed at %d messages acked, restarted at %d", acked_at_kill, publisher.acked
    )
    publisher.join()

    _assert_every_reading_once(scenario)
    written_before_kill = before_kill["shopfloor_gateway_points_written_total"] - probes
    written_after = second.metric("points_written_total")
    log.info(
        "readings written: >= %g by gw-1 (which held %g unacknowledged messages just before "
        "the SIGKILL), %g by gw-2; >= %g written twice",
        written_before_kill,
        before_kill["shopfloor_gateway_unacked_messages"],
        written_after,
        written_before_kill + written_after - READINGS,
    )
    assert written_before_kill > 0 and written_after > 0, scenario.report()
    assert second.dead_letters() == 0, scenario.report()
    assert scenario.stop_gateways() == {"gw-2": 0}


def test_every_reading_arrives_when_the_broker_restarts_mid_stream(
    scenario: Scenario, restartable_mosquitto: Restartable[Mosquitto]
) -> None:
    gateway = scenario.start_gateway("gw")
    probes = scenario.wait_until_subscribed([gateway])
    publisher = scenario.publish(rate=2000)

    publisher.wait_for(3_000)
    acked_at_restart = publisher.acked
    restartable_mosquitto.restart()  # a clean stop saves sessions and queues to its database
    log.info("broker restarted at %d messages acked", acked_at_restart)
    publisher.join()

    _assert_every_reading_once(scenario)
    metrics = gateway.metrics()
    log.info(
        "gateway: %g messages, %g readings written (%g twice), %g reconnects; "
        "publisher: %d connects, %d republished",
        metrics["shopfloor_gateway_messages_total"] - probes,
        metrics["shopfloor_gateway_points_written_total"] - probes,
        metrics["shopfloor_gateway_points_written_total"] - probes - READINGS,
        metrics["shopfloor_gateway_reconnects_total"],
        publisher.connects,
        publisher.republished,
    )
    assert acked_at_restart < MESSAGES
    assert metrics["shopfloor_gateway_reconnects_total"] >= 1, scenario.report()
    assert publisher.connects >= 2
    assert "MQTT connection lost" in gateway.process.log()
    assert (restartable_mosquitto.log_path.parent / "persistence" / "mosquitto.db").exists()
    assert gateway.dead_letters() == 0, scenario.report()
    assert scenario.stop_gateways() == {"gw": 0}


def test_every_reading_arrives_once_through_two_gateways_in_a_share_group(
    scenario: Scenario,
) -> None:
    group = f"noloss{scenario.run_id}"
    gateways = [scenario.start_gateway(f"gw-{k}", share_group=group) for k in (1, 2)]
    probes = scenario.wait_until_subscribed(gateways)
    publisher = scenario.publish(rate=None)
    publisher.join()

    _assert_every_reading_once(scenario)
    # each gateway stored at most `probes` probe events; anything beyond is readings
    shares = [g.metric("points_written_total") for g in gateways]
    log.info("share group %s: points written %s (including %d probes)", group, shares, probes)
    assert all(share > probes for share in shares), scenario.report()
    assert sum(shares) >= READINGS
    assert all(g.dead_letters() == 0 for g in gateways), scenario.report()
    assert scenario.stop_gateways() == {"gw-1": 0, "gw-2": 0}
