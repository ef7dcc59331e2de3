"""Every dashboard query runs on a real server: InfluxQL against influxd 1.6.7 with what the
gateway's converter and v1 sink wrote, SQL against a migrated PostgreSQL tracker database
(Grafana's macros and variables put in by `grafana_sql`)."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, text

from device_sim.machine import SimMachine
from device_sim.models import MODELS
from gateway.convert import Converter
from gateway.settings import InfluxSettings
from gateway.sinks import InfluxV1Sink
from launcher.services.influx import InfluxDB1
from launcher.services.postgres import fresh_postgres_database
from shopfloor.contract.payloads import TelemetryReading
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate
from tests.unit.test_dashboards import EVENT_SAMPLES, _queries
from tracker.adapters import orm
from tracker.adapters.migrations import upgrade

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
FROM, TO = NOW - timedelta(hours=2), NOW


def _gateway_lines() -> list[str]:
    """An hour of every model's telemetry (a machine each) and a run of each event type, as
    the gateway's converter makes them of the contract's payloads."""
    converter = Converter(TopicTemplate(DEFAULT_TEMPLATE), max_payload_bytes=65_536)
    lines: list[str] = []
    for n, (kind, model) in enumerate(MODELS.items()):
        machine = SimMachine(f"{kind}-1", random.Random(n), jobs=[], model=model)
        topic = f"shopfloor/plant1/line{n % 2}/{kind}-1/"
        for minute in range(60):
            at = NOW - timedelta(minutes=60 - minute)
            for _kind, msg in machine.step(at, 60.0, lambda _: True):
                if isinstance(msg, TelemetryReading):
                    lines += converter.convert(
                        topic + "telemetry", msg.model_dump_json().encode(), at
                    )
            for i, (etype, fields) in enumerate(EVENT_SAMPLES.items()):
                body = {"type": etype, "event_id": f"{kind}-{minute}-{i}", **fields}
                if etype == "cycle":
                    body["counter"] = minute
                body["ts"] = (at + timedelta(seconds=i)).isoformat()
                lines += converter.convert(topic + "event", json.dumps(body).encode(), at)
    return lines


def influxql(query: str) -> str:
    """A dashboard's InfluxQL with Grafana's variables put in: every site, line and machine."""
    query = query.replace("$timeFilter", "time > now() - 2h").replace("$__interval", "1m")
    query = query.replace("$sensor", "spindle_temp_c")
    return re.sub(r"\$(site|line|machine)\b", ".*", query)


@pytest.fixture(scope="module")
def influx_db(influxdb1: InfluxDB1) -> str:
    database = "dashboards"
    influxdb1.create_database(database)
    sink = InfluxV1Sink(InfluxSettings(sink="influx1", url=influxdb1.url, database=database))
    sink.connect()
    sink.write(_gateway_lines())
    sink.close()
    return database


@pytest.mark.parametrize("where, query", list(_queries("influxql")))
def test_influxql_queries_run_on_influxdb_1_and_find_the_gateways_data(
    influxdb1: InfluxDB1, influx_db: str, where: str, query: str
) -> None:
    (result,) = influxdb1.query(influx_db, influxql(query))["results"]
    assert "error" not in result, (where, result)
    assert result.get("series"), (where, influxql(query))


# --- SQL ------------------------------------------------------------------------------------


def grafana_sql(sql: str, machines: list[str]) -> str:
    """A dashboard's SQL as Grafana sends it: time macros over [FROM, TO), `$machine` all."""
    a, b = (f"'{t.isoformat()}'::timestamptz" for t in (FROM, TO))
    sql = re.sub(r"\$__timeFilter\(([^)]*)\)", rf"\1 BETWEEN {a} AND {b}", sql)
    sql = sql.replace("$__timeFrom()", a).replace("$__timeTo()", b)
    return sql.replace("$machine", ", ".join(f"'{m}'" for m in machines))


# machine, state, from and to (minutes ago; None: still in it) of the rows written
STATES = [("cnc-1", "SETUP", 90, 60), ("cnc-1", "DOWN", 60, 30), ("lathe-1", "RUNNING", 70, 10)]
CURRENT = [("cnc-1", "RUNNING", 30), ("lathe-1", "DOWN", 10)]
STOPS = [("cnc-1", 60, 30, "spindle"), ("lathe-1", 10, None, None)]


def _ago(minutes: float | None) -> datetime | None:
    return None if minutes is None else NOW - timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def tracker_db() -> Iterator[Any]:
    """A migrated tracker database: two machines, their states and downtime records."""
    with fresh_postgres_database() as url:
        upgrade(url)
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as c:
            for machine, state, since in CURRENT:
                row = {"machine_id": machine, "state": state, "state_since": _ago(since)}
                c.execute(insert(orm.machines).values(row))
            for machine, state, a, b in STATES:
                row = {"machine_id": machine, "state": state}
                row |= {"started_at": _ago(a), "ended_at": _ago(b)}
                c.execute(insert(orm.machine_states).values(row))
            for machine, a, b, reason in STOPS:
                row = {"machine_id": machine, "state": "DOWN", "reason": reason}
                row |= {"started_at": _ago(a), "ended_at": _ago(b)}
                c.execute(insert(orm.downtime).values(row))
        yield engine
        engine.dispose()


@pytest.mark.parametrize("where, sql", list(_queries("sql")))
def test_sql_queries_run_on_a_migrated_postgresql_tracker_database(
    tracker_db: Any, where: str, sql: str
) -> None:
    with tracker_db.connect() as c:
        c.execute(text(grafana_sql(sql, ["cnc-1", "lathe-1"]).replace(":", r"\:"))).all()


def _panel_sql(title: str) -> str:
    (sql,) = [q for where, q in _queries("sql") if where == f"oee-downtime.json: {title}"]
    return grafana_sql(sql, ["cnc-1", "lathe-1"]).replace(":", r"\:")


def test_lost_minutes_and_availability_are_what_the_rows_say(tracker_db: Any) -> None:
    with tracker_db.connect() as c:
        by_reason = dict(c.execute(text(_panel_sql("Lost minutes by reason"))).all())
        availability_sql = _panel_sql("Availability per machine (approximate)")
        availability = dict(c.execute(text(availability_sql)).all())
    # cnc-1's spindle fault: 30 min; lathe-1 down for the last 10 min, no reason yet
    assert {k: round(float(v)) for k, v in by_reason.items()} == {"spindle": 30, "unclassified": 10}
    # cnc-1: 30 min down, 30 running (not the 30 of setup); lathe-1: 60 running, 10 down
    assert round(float(availability["cnc-1"]), 2) == 0.5
    assert round(float(availability["lathe-1"]), 2) == round(60 / 70, 2)
