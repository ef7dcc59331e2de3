"""Two tracker processes on one PostgreSQL database and Mosquitto: the leader killed, the
events shared, the boards fed by LISTEN/NOTIFY, the leader cut off from the database."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.engine import make_url

from launcher.bench.tracker_pair import TcpProxy, TrackerProcess, tracker_env
from tests.databases import Databases
from tests.services import Mosquitto
from tests.waiting import wait_for
from tracker.adapters.migrations import upgrade

pytestmark = pytest.mark.e2e

TIMEOUT_S = 2.0  # SHOPFLOOR_LEADERSHIP_TIMEOUT_S of these tests


class Recorder:
    """A subscriber keeping (arrival time, topic, body, retained) of what arrives."""

    def __init__(self, broker: Mosquitto, *topics: str) -> None:
        self.messages: list[tuple[float, str, dict[str, Any], bool]] = []
        ready = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"rec-{secrets.token_hex(4)}"
        )
        self._client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in topics])
        self._client.on_subscribe = lambda *_: ready.set()
        self._client.on_message = lambda _c, _u, m: self.messages.append(
            (time.monotonic(), m.topic, json.loads(m.payload), bool(m.retain))
        )
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        assert ready.wait(10)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class Machine:
    """Publishes one machine's events at QoS 1, numbered."""

    def __init__(self, broker: Mosquitto, machine: str) -> None:
        self.topic = f"shopfloor/plant1/line1/{machine}/event"
        self.machine = machine
        self.seq = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{machine}-pub")
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()

    def send(self, body: dict[str, Any], event_id: str | None = None) -> None:
        self.seq += 1
        # the device's time: instances apply a machine's events out of order after a failover,
        # and a counter that went back is then told from a reset by its time
        at = datetime.now(UTC).isoformat()
        payload = {"event_id": event_id or f"{self.machine}-{self.seq}", "ts": at, **body}
        info = self._client.publish(self.topic, json.dumps(payload), qos=1)
        info.wait_for_publish(5)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class Pair:
    """Two tracker instances `a` and `b`, sharing the events; `proxies` by instance name when
    each reaches PostgreSQL through its own TcpProxy."""

    def __init__(
        self, a: TrackerProcess, b: TrackerProcess, key: str, proxies: dict[str, TcpProxy]
    ) -> None:
        self.a, self.b, self.key, self.proxies = a, b, key, proxies

    def roles(self) -> tuple[TrackerProcess, TrackerProcess]:
        """(the leader, the follower)."""
        return (self.a, self.b) if self.a.role() == "leader" else (self.b, self.a)

    def post_order(self, via: TrackerProcess, order_id: str, qty: int, due: datetime) -> str:
        body = {
            "order_id": order_id,
            "customer": "ACME",
            "product": "bracket",
            "quantity": qty,
            "due_at": due.isoformat(),
            "operations": [
                {"seq": 10, "name": "cut", "machine": "saw-1", "setup_s": 0, "cycle_s": 0.1},
            ],
        }
        headers = {"X-API-Key": self.key}
        response = httpx.post(f"{via.api}/api/v1/orders", json=body, headers=headers, timeout=10)
        assert response.status_code == 201, response.text
        return str(response.json()["access_token"])

    def get(self, via: TrackerProcess, path: str) -> Any:
        response = httpx.get(f"{via.api}{path}", headers={"X-API-Key": self.key}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def pair_of(
    mosquitto: Mosquitto, tmp_path: Path, databases: Databases
) -> Iterator[Callable[..., Pair]]:
    """Two trackers on a fresh PostgreSQL database, started together (start-up is the slow
    part); with `proxied=True` each reaches PostgreSQL through a TcpProxy of its own."""
    started: list[TrackerProcess] = []
    proxies: list[TcpProxy] = []

    with databases.postgres(migrated=True) as url:

        def make(proxied: bool = False) -> Pair:
            key, run = secrets.token_urlsafe(24), secrets.token_hex(3)
            settings = {
                "leadership_timeout_s": str(TIMEOUT_S),
                "check_interval_s": "0.5",
                "at_risk_slack_s": "1",
                "recovery_margin_s": "0",
                "replan_debounce_s": "0.2",
                # the broker outlives a test: an earlier pair's sessions stay in their group
                "tracker_share_group": f"trackers-{run}",
            }
            made: dict[str, TrackerProcess] = {}
            by_name: dict[str, TcpProxy] = {}
            for name in ("a", "b"):
                database_url = url
                if proxied:
                    parsed = make_url(url)
                    proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
                    proxies.append(proxy)
                    by_name[name] = proxy
                    database_url = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(
                        hide_password=False
                    )
                env = tracker_env(
                    database_url,
                    mosquitto.host,
                    mosquitto.port,
                    key,
                    f"ha-{name}-{run}",
                    **settings,
                )
                made[name] = TrackerProcess(name, env, tmp_path)
                started.append(made[name])
            # together: start-up is the slow part
            threads = [threading.Thread(target=p.start_until_up) for p in made.values()]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wait_for(
                lambda: {p.role() for p in made.values()} == {"leader", "follower"},
                timeout_s=90,
                what=lambda: "one leader and one follower:\n" + made["a"].log()[-2000:],
                interval_s=0.2,
            )
            return Pair(made["a"], made["b"], key, by_name)

        try:
            yield make
        finally:
            for proxy in proxies:
                proxy.heal()
            for process in started:
                process.stop()
            for proxy in proxies:
                proxy.close()


def _alert_keys(pair: Pair, via: TrackerProcess) -> set[tuple[int, int]]:
    """(alert_id, version) of every alert version the database says went out on MQTT."""
    return {
        (alert["id"], d["version"])
        for alert in pair.get(via, "/api/v1/alerts")
        for d in alert["deliveries"]
        if d["channel"] == "mqtt" and d["delivered_at"] is not None
    }


def _first_part(pair: Pair, saw: Machine, order_id: str) -> int:
    """Counter 1, applied before anything is killed: a machine's first counter counts one part
    only when it is the first applied (a plant's counters exist long before a failover). The
    job's start is applied first: with two instances sharing the events, a cycle applied before
    its job's start (sent just before it) stays unassigned (docs/high-availability.md)."""
    operation = lambda: pair.get(pair.a, f"/api/v1/orders/{order_id}")["operations"][0]  # noqa: E731
    wait_for(lambda: operation()["started_at"], timeout_s=15, what="the job's start")
    saw.send({"type": "cycle", "counter": 1, "cycle_time_s": 0.1})
    good = lambda: operation()["good_qty"]  # noqa: E731
    wait_for(lambda: good() == 1, timeout_s=15, what="the first part")
    return 1


def _stamps(log: str, text: str) -> list[datetime]:
    """When each log line holding `text` was written (the logs' UTC timestamps)."""
    return [
        datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))
        for line in log.splitlines()
        if text in line and line[:4].isdigit()
    ]


def _received(recorder: Recorder, kind: str) -> list[tuple[float, str, dict[str, Any], bool]]:
    return [m for m in recorder.messages if f"/{kind}/" in m[1]]


def test_the_standby_takes_over_when_the_leader_is_killed_and_the_late_alert_goes_out_once(
    pair_of: Callable[..., Pair], mosquitto: Mosquitto
) -> None:
    pair = pair_of()
    seen = Recorder(mosquitto, "shopfloor/plant1/alerts/#", "shopfloor/plant1/dispatch/#")
    saw = Machine(mosquitto, "saw-1")
    try:
        due = datetime.now(UTC) + timedelta(seconds=6)
        leader, standby = pair.roles()
        pair.post_order(standby, "SO-HA-1", 12, due)
        saw.send({"type": "job_start", "order_id": "SO-HA-1", "operation": 10})
        saw.send({"type": "state", "state": "RUNNING"})
        counter = _first_part(pair, saw, "SO-HA-1")
        for _ in range(4):  # parts while both run
            counter += 1
            saw.send({"type": "cycle", "counter": counter, "cycle_time_s": 0.1})
            time.sleep(0.2)
        killed_at = time.monotonic()
        leader.kill()
        took_s = standby.wait_role("leader", TIMEOUT_S + 1)
        assert took_s <= TIMEOUT_S, f"took over in {took_s:.2f}s"
        leader.start()  # back, as a follower: its persistent session's events get applied
        for _ in range(5):  # more parts, none the last: the order runs past its due date
            counter += 1
            saw.send({"type": "cycle", "counter": counter, "cycle_time_s": 0.1})
            time.sleep(0.2)
        # the order turns late on the new leader, which delivers the alert
        wait_for(lambda: _alert_keys(pair, standby), timeout_s=20, what="a late alert delivered")
        leader.wait_role("follower", 90)
        for _ in range(2):
            counter += 1
            saw.send({"type": "cycle", "counter": counter, "cycle_time_s": 0.1})
        saw.send({"type": "job_end", "order_id": "SO-HA-1", "operation": 10})
        progress = lambda: pair.get(standby, "/api/v1/orders/SO-HA-1")  # noqa: E731
        wait_for(lambda: progress()["status"] == "completed", timeout_s=30, what="completed")
        time.sleep(1.5)  # the clearing alert, and anything that would come twice
        stored = _alert_keys(pair, standby)
        alerts = _received(seen, "alerts")
        got = [(body["alert_id"], body["version"]) for _, _, body, _ in alerts]
        assert set(got) == stored and stored, (got, stored)  # each version received
        for alert_id in {a for a, _ in got}:  # in order: versions never go back
            versions = [v for a, v in got if a == alert_id]
            assert versions == sorted(versions), got
        late = [topic for _, topic, _, _ in alerts if topic.endswith("/late")]
        assert late, alerts
        after = [m for m in _received(seen, "dispatch") if m[0] > killed_at and not m[3]]
        assert after, "no dispatch list after the failover"
    finally:
        saw.close()
        seen.close()


def test_events_sent_while_either_instance_is_down_are_applied_exactly_once(
    pair_of: Callable[..., Pair], mosquitto: Mosquitto
) -> None:
    pair = pair_of()
    saw = Machine(mosquitto, "saw-1")
    try:
        pair.post_order(pair.b, "SO-HA-2", 1000, datetime.now(UTC) + timedelta(days=1))
        saw.send({"type": "job_start", "order_id": "SO-HA-2", "operation": 10})
        counter = _first_part(pair, saw, "SO-HA-2")
        # `a` killed; events; `a` starting and `b` killed; events; both back
        for down in (pair.a, pair.b):
            down.kill()
            for _ in range(30):
                counter += 1
                saw.send({"type": "cycle", "counter": counter, "cycle_time_s": 0.1})
            saw.send({"type": "cycle", "counter": counter}, event_id=f"saw-1-{saw.seq}")  # again
            down.start()
        wait_for(
            lambda: {pair.a.role(), pair.b.role()} == {"leader", "follower"},
            timeout_s=90,
            interval_s=0.2,
            what="both back",
        )
        operation = lambda: pair.get(pair.a, "/api/v1/orders/SO-HA-2")["operations"][0]  # noqa: E731
        wait_for(lambda: operation()["good_qty"] >= counter, timeout_s=30, what="all parts")
        time.sleep(1)  # a repeat would count later
        assert operation()["good_qty"] == counter == 61
    finally:
        saw.close()


def test_a_board_on_the_follower_sees_a_change_committed_on_the_leader_within_a_second(
    pair_of: Callable[..., Pair],
) -> None:
    pair = pair_of()
    leader, follower = pair.roles()
    events: list[tuple[datetime, str]] = []
    opened = threading.Event()

    def read_stream() -> None:
        headers = {"X-API-Key": pair.key}
        with httpx.stream("GET", f"{follower.api}/api/v1/events", headers=headers) as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    opened.set()
                if line.startswith("data:"):
                    events.append((datetime.now(UTC), line))
                if "SO-HA-3" in line:
                    return

    threading.Thread(target=read_stream, daemon=True).start()
    assert opened.wait(10), "the board's stream did not open"
    pair.post_order(leader, "SO-HA-3", 5, datetime.now(UTC) + timedelta(days=1))
    wait_for(lambda: any("SO-HA-3" in line for _, line in events), timeout_s=5, what="change")
    arrived = next(at for at, line in events if "SO-HA-3" in line)
    # from the order's creation on the leader (before its commit) to the follower's board; the
    # HTTP round trip of the POST itself is not counted (slow on a loaded test machine)
    created = datetime.fromisoformat(pair.get(leader, "/api/v1/orders/SO-HA-3")["created_at"])
    took_s = (arrived - created).total_seconds()
    assert 0 < took_s < 1.0, f"{took_s:.2f}s"


def test_a_leader_cut_off_from_postgresql_steps_down_and_never_publishes_beside_the_new_one(
    pair_of: Callable[..., Pair], mosquitto: Mosquitto
) -> None:
    pair = pair_of(proxied=True)
    seen = Recorder(mosquitto, "shopfloor/plant1/alerts/#", "shopfloor/plant1/dispatch/#")
    try:
        for i in range(3):  # dispatch lists from the leader `a`
            pair.post_order(pair.b, f"SO-HA-4{i}", 5, datetime.now(UTC) + timedelta(hours=i + 1))
        wait_for(lambda: _received(seen, "dispatch"), timeout_s=10, what="a dispatch list")
        old, new = pair.roles()
        pair.proxies[old.name].cut()
        cut_at = time.monotonic()
        old.wait_role("follower", TIMEOUT_S)  # steps down, alive
        took_s = new.wait_role("leader", TIMEOUT_S + 1)
        assert time.monotonic() - cut_at <= TIMEOUT_S + 0.5, took_s
        assert old.alive()
        for i in range(3):  # new lists, from `b`
            pair.post_order(new, f"SO-HA-5{i}", 5, datetime.now(UTC) + timedelta(minutes=i + 1))
        time.sleep(2)
        pair.proxies[old.name].heal()
        time.sleep(1)
        assert old.role() == "follower" and new.role() == "leader"
        lists = [
            (at, body) for at, _, body, retained in _received(seen, "dispatch") if not retained
        ]
        made = [body["plan_made_at"] for _, body in lists]
        assert made == sorted(made), "a dispatch list of an older plan came after a newer one"
        assert any(at > cut_at for at, _ in lists), "no list from the new leader"
        assert "stepped down" in old.log(), old.log()[-3000:]
        # by the instances' own clocks (one host): the old leader published nothing once the
        # new one led
        led_at = _stamps(new.log(), "this instance is now the leader")[-1]
        assert all(at < led_at for at in _stamps(old.log(), "published")), old.log()[-3000:]
    finally:
        seen.close()


def test_a_second_tracker_on_one_sqlite_database_refuses_to_start(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    upgrade(url)
    key = secrets.token_urlsafe(24)
    first, second = (
        TrackerProcess(
            name,
            tracker_env(url, mosquitto.host, mosquitto.port, key, f"{name}-{secrets.token_hex(3)}"),
            tmp_path,
        )
        for name in ("first", "second")
    )
    try:
        first.start_until_up()
        second.start()
        assert second.proc is not None and second.proc.wait(60) == 2
        assert "another tracker is running on this SQLite database" in second.log()
        assert first.role() == "leader"
    finally:
        assert first.stop() == 0, first.log()[-3000:]
