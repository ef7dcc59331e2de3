"""Every dashboard query names what the gateway really writes and what the tracker really stores.

The vocabulary is derived from the code: measurements, tags and fields from line protocol the
real converter makes of contract payloads (telemetry of a simulated machine of every model and
one event of each type); tables, columns and enum values from the tracker's SQLAlchemy metadata.
Telemetry panels must show each channel in the unit its machine model gives it.
"""

from __future__ import annotations

import json
import random
import re
import typing
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Enum

from device_sim.machine import SimMachine
from device_sim.models import MODELS
from gateway.convert import Converter
from gateway.points import EVENT_MEASUREMENT, TELEMETRY_MEASUREMENT
from shopfloor.contract.payloads import MachineEvent, MachineState, TelemetryReading
from shopfloor.contract.topics import DEFAULT_TEMPLATE, EVENT, TELEMETRY, TopicTemplate
from tracker.adapters.orm import metadata

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
INFLUXQL_UID = "shopfloor-influxdb1"  # the InfluxDB 1.x (InfluxQL) data source's uid
NOW = datetime(2024, 5, 6, 7, 0, tzinfo=UTC)
TOPIC_TAGS = {"site": "plant1", "line": "line1", "machine": "m1"}
# Flux columns every table has, whatever was written
FLUX_COLUMNS = {"_time", "_value", "_field", "_measurement", "_start", "_stop"}

# one representative payload per event type, every optional field set
EVENT_SAMPLES: dict[str, dict[str, Any]] = {
    "state": {"state": "RUNNING"},
    "job_start": {"order_id": "o1", "operation": 1},
    "job_end": {"order_id": "o1", "operation": 1},
    "cycle": {
        "counter": 5,
        "scrap_counter": 1,
        "cycle_time_s": 12.5,
        "order_id": "o1",
        "operation": 1,
    },
    "alarm": {"code": "E42", "message": "door open"},
}

# Grafana unit ids (grafana-data valueFormats/categories.ts) for the units of the machine models;
# "suffix:" where Grafana has none, so the value is printed with our unit after it
GRAFANA_UNITS = {
    "°C": "celsius",
    "kW": "kwatt",
    "mm/s": "suffix:mm/s",
    "rpm": "rotrpm",
    "%": "percent",
    "bar": "pressurebar",
    "kN": "forcekN",
    "A": "amp",
    "V": "volt",
    "m/min": "suffix:m/min",
    "l/min": "flowlpm",
    "µm": "suffix:µm",
    "N·m": "forceNm",
    "ml/min": "flowmlpm",
}
# machine-telemetry.json has one row per machine model, with a panel per channel
MODEL_ROWS = {
    "cnc_mill": "CNC mill",
    "lathe": "Lathe",
    "press_brake": "Press brake",
    "welding_robot": "Welding robot",
    "paint_line": "Paint line",
    "assembly_qa": "Assembly/QA",
}


# --- what the gateway writes -----------------------------------------------------------------


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split on `sep` outside backslash escapes and double-quoted string values."""
    parts, current, quoted, i = [], "", False, 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current += text[i : i + 2]
            i += 2
            continue
        if text[i] == '"':
            quoted = not quoted
        if text[i] == sep and not quoted:
            parts.append(current)
            current = ""
        else:
            current += text[i]
        i += 1
    return [*parts, current]


def _parse_line(line: str) -> tuple[str, set[str], set[str]]:
    """Measurement, tag keys and field keys of one line-protocol line."""
    series, fields, _ts = _split_unescaped(line, " ")
    measurement, *tags = _split_unescaped(series, ",")
    return (
        measurement,
        {_split_unescaped(tag, "=")[0] for tag in tags},
        {_split_unescaped(f, "=")[0] for f in _split_unescaped(fields, ",")},
    )


def _sim_readings() -> dict[str, TelemetryReading]:
    """The first reading of a simulated machine of each model, by model kind."""
    readings = {}
    for kind, model in MODELS.items():
        machine = SimMachine(kind, random.Random(1), jobs=[], model=model)
        out = [msg for k, msg in machine.step(NOW, 1.0, lambda _: True) if k == TELEMETRY]
        assert out and isinstance(out[0], TelemetryReading), kind
        readings[kind] = out[0]
    return readings


SIM_READINGS = _sim_readings()
SENSORS = set().union(*(reading.values for reading in SIM_READINGS.values()))


def _channel_units() -> dict[str, str]:
    """Channel name -> unit over every model; a panel per field needs one unit per name."""
    units: dict[str, str] = {}
    for model in MODELS.values():
        for channel in model.channels:
            assert units.setdefault(channel.name, channel.unit) == channel.unit, channel.name
    return units


def _event_types() -> set[str]:
    union = typing.get_args(MachineEvent)[0]
    return {
        typing.get_args(cls.model_fields["type"].annotation)[0] for cls in typing.get_args(union)
    }


def _gateway_schema() -> dict[str, dict[str, set[str]]]:
    """measurement -> {"tags": ..., "fields": ...}, from lines the real converter produced."""
    template = TopicTemplate(DEFAULT_TEMPLATE)
    converter = Converter(template, max_payload_bytes=65_536)
    base = "/".join(
        TOPIC_TAGS[s.strip("{}")] if s.strip("{}") in TOPIC_TAGS else s for s in template.segments
    )
    lines = [
        line
        for reading in SIM_READINGS.values()
        for line in converter.convert(
            base.replace("{kind}", TELEMETRY), reading.model_dump_json().encode(), NOW
        )
    ]
    assert set(EVENT_SAMPLES) == _event_types(), "add a sample for each contract event type"
    for n, (kind, fields) in enumerate(EVENT_SAMPLES.items()):
        payload = {"type": kind, "event_id": f"e{n}", "ts": NOW.isoformat(), **fields}
        lines += converter.convert(base.replace("{kind}", EVENT), json.dumps(payload).encode(), NOW)
    schema: dict[str, dict[str, set[str]]] = {}
    for line in lines:
        measurement, tags, fields = _parse_line(line)
        entry = schema.setdefault(measurement, {"tags": set(), "fields": set()})
        entry["tags"] |= tags
        entry["fields"] |= fields
    return schema


GATEWAY = _gateway_schema()


# --- dashboards --------------------------------------------------------------------------------


def _dashboards() -> list[tuple[str, dict[str, Any]]]:
    return [(p.name, json.loads(p.read_text())) for p in sorted(DASHBOARDS.glob("*.json"))]


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _rows(dashboard: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Row title -> its panels: nested in a collapsed row, or following an open one."""
    rows: dict[str, list[dict[str, Any]]] = {}
    current: list[dict[str, Any]] | None = None
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            current = rows.setdefault(panel["title"], list(panel.get("panels", [])))
        elif current is not None:
            current.append(panel)
    return rows


def _telemetry_fields(panel: dict[str, Any]) -> set[str]:
    """The telemetry fields a panel's queries name (not a variable)."""
    return {
        name
        for target in panel.get("targets", [])
        if f'"{TELEMETRY_MEASUREMENT}"' in target.get("query", "")
        for name in _FIELD_EQ.findall(target["query"])
        if not _GRAFANA_VAR.fullmatch(name)
    }


def _unit(panel: dict[str, Any]) -> Any:
    return panel.get("fieldConfig", {}).get("defaults", {}).get("unit")


def _language(node: dict[str, Any], panel: dict[str, Any] | None = None) -> str:
    """flux, influxql or sql: by the data source a target (or its panel) or variable names."""
    uid = (node.get("datasource") or (panel or {}).get("datasource") or {}).get("uid")
    return {INFLUXQL_UID: "influxql", "shopfloor-postgres": "sql"}.get(uid, "flux")


def _queries(kind: str) -> Iterator[tuple[str, str]]:
    """(where, query) for every Flux or InfluxQL (`query`) or SQL (`rawSql`) text in every
    dashboard, panels and query variables."""
    key = "rawSql" if kind == "sql" else "query"
    for name, dashboard in _dashboards():
        for panel in _panels(dashboard):
            for target in panel.get("targets", []):
                text = target.get(key)
                if isinstance(text, str) and text and _language(target, panel) == kind:
                    yield f"{name}: {panel['title']}", text
        for var in dashboard["templating"]["list"]:
            query = var.get("query")
            if var.get("type") == "query" and isinstance(query, str) and _language(var) == kind:
                yield f"{name}: ${var['name']}", query


# --- Flux --------------------------------------------------------------------------------------

_GRAFANA_VAR = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_]\w*")
_MEASUREMENT = re.compile(r'r\._measurement\s*==\s*"([^"]*)"|measurement:\s*"([^"]*)"')
_FIELD_EQ = re.compile(r'r\._field\s*==\s*"([^"]*)"')
_COLUMN_REF = re.compile(r"\br\.([A-Za-z_]\w*)")
_TAG_ARG = re.compile(r'\btag:\s*"([^"]*)"')
_COLUMN_LISTS = re.compile(r"\b(?:columns|rowKey|columnKey):\s*\[([^\]]*)\]")
_VALUE_EQ = re.compile(r'r\._value\s*==\s*"([^"]*)"')


def _created_columns(query: str) -> set[str]:
    """Columns a query makes itself: record literals (`{r with x: ...}`) and `columnName:`."""
    created = set(re.findall(r'\bcolumnName:\s*"(\w+)"', query))
    for body in re.findall(r"\{([^{}]*)\}", _GRAFANA_VAR.sub("", query)):
        body = re.sub(r"^\s*r\s+with\s+", "", body)
        created |= {m for m in re.findall(r"(?:^|,)\s*([A-Za-z_]\w*)\s*:", body)}
    return created


def flux_problems(query: str) -> list[str]:
    """Names in a Flux query the gateway never writes (empty when every name is real)."""
    measurements = {a or b for a, b in _MEASUREMENT.findall(query)}
    problems = [f"measurement {m!r}" for m in sorted(measurements - set(GATEWAY))]
    known = [GATEWAY[m] for m in measurements if m in GATEWAY] or list(GATEWAY.values())
    tags = set().union(*(k["tags"] for k in known))
    fields = set().union(*(k["fields"] for k in known))
    pivoted = fields if "pivot(" in query else set()
    columns = FLUX_COLUMNS | tags | pivoted | _created_columns(query)
    for name in _FIELD_EQ.findall(query):
        if not _GRAFANA_VAR.fullmatch(name) and name not in fields:
            problems.append(f"field {name!r}")
    for name in _COLUMN_REF.findall(query) + _TAG_ARG.findall(query):
        if name not in columns:
            problems.append(f"column {name!r}")
    for listed in _COLUMN_LISTS.findall(query):
        problems += [f"column {n!r}" for n in re.findall(r'"([^"]*)"', listed) if n not in columns]
    if any(f == "state" for f in _FIELD_EQ.findall(query)):
        states = {s.value for s in MachineState}
        problems += [f"state {v!r}" for v in _VALUE_EQ.findall(query) if v not in states]
    return problems


# --- SQL ---------------------------------------------------------------------------------------

_SQL_TOKEN = re.compile(
    r"\s+|--[^\n]*|'(?:[^']|'')*'|\$__\w+|\$\w+|::\s*\w+|\d+(?:\.\d+)?|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?"
    r"|<>|!=|<=|>=|[(),*=<>+\-/;.]"
)
_SQL_WORDS = set(
    """select from where group by order limit offset as and or not is null in between like
    ilike case when then else end asc desc nulls first last distinct having join left right
    inner outer on filter interval true false epoch numeric integer text date timestamp
    timestamptz over partition union all""".split()
)


def _sql_tokens(sql: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(sql):
        m = _SQL_TOKEN.match(sql, pos)
        if m is None:
            raise ValueError(f"cannot read SQL at {sql[pos : pos + 20]!r}")
        pos = m.end()
        if not m.group().isspace() and not m.group().startswith("--"):
            tokens.append(m.group())
    return tokens


def sql_problems(sql: str) -> list[str]:
    """Tables, columns and enum values in a query the tracker's schema does not have."""
    tokens = _sql_tokens(sql)
    lower = [t.lower() for t in tokens]
    tables: dict[str, str] = {}  # name or alias -> table
    problems: list[str] = []
    for i, tok in enumerate(lower[:-1]):
        # `extract(epoch FROM least(...))`: a function after FROM is not a table
        function = lower[i + 2 : i + 3] == ["("]
        if tok in ("from", "join") and re.fullmatch(r"[a-z_]\w*", lower[i + 1]) and not function:
            if lower[i + 1] not in metadata.tables:
                problems.append(f"table {tokens[i + 1]!r}")
                continue
            tables[lower[i + 1]] = lower[i + 1]
            alias = lower[i + 2] if i + 2 < len(lower) else ""
            if re.fullmatch(r"[a-z_]\w*", alias) and alias not in _SQL_WORDS:
                tables[alias] = lower[i + 1]
    aliases = {lower[i + 1] for i, t in enumerate(lower[:-1]) if t == "as"}
    columns = {c.name: c for t in set(tables.values()) for c in metadata.tables[t].columns}
    for i, tok in enumerate(lower):
        if not re.fullmatch(r"[a-z_]\w*(?:\.[a-z_]\w*)?", tok) or tok in _SQL_WORDS:
            continue
        nxt = lower[i + 1] if i + 1 < len(lower) else ""
        if (
            nxt == "("
            or tok in tables
            or tok in aliases
            or (i and lower[i - 1] in ("from", "join"))
        ):
            continue  # a function call, a table or alias, an output name
        if "." in tok:
            qualifier, name = tok.split(".", 1)
            table = metadata.tables.get(tables.get(qualifier, ""))
            if table is None or name not in table.columns:
                problems.append(f"column {tokens[i]!r}")
            continue
        if tok not in columns:
            problems.append(f"column {tokens[i]!r}")
            continue
        problems += _enum_value_problems(columns[tok], lower, i)
    return problems


def _enum_value_problems(column: Any, lower: list[str], i: int) -> list[str]:
    """`col = 'x'`, `col <> 'x'`, `col IN ('x', ...)`: each 'x' must be one of the enum's values."""
    if not isinstance(column.type, Enum):
        return []
    allowed = set(column.type.enums)
    rest = lower[i + 1 :]
    literals: list[str] = []
    if rest[:1] and rest[0] in ("=", "<>", "!="):
        literals = rest[1:2]
    elif rest[:2] == ["in", "("] or rest[:3] == ["not", "in", "("]:
        start = rest.index("(") + 1
        literals = rest[start : rest.index(")", start)]
    values = [t[1:-1] for t in literals if t.startswith("'")]
    return [f"{column.name} value {v!r}" for v in values if v not in allowed]


# --- tests -------------------------------------------------------------------------------------


def test_gateway_vocabulary_comes_from_the_converter() -> None:
    assert set(GATEWAY) == {TELEMETRY_MEASUREMENT, EVENT_MEASUREMENT}
    assert set(TOPIC_TAGS) <= GATEWAY[TELEMETRY_MEASUREMENT]["tags"]
    assert "type" in GATEWAY[EVENT_MEASUREMENT]["tags"]
    assert SENSORS == GATEWAY[TELEMETRY_MEASUREMENT]["fields"]
    for kind, model in MODELS.items():
        assert set(SIM_READINGS[kind].values) == {c.name for c in model.channels}, kind


@pytest.mark.parametrize("where, query", list(_queries("flux")))
def test_flux_queries_name_only_what_the_gateway_writes(where: str, query: str) -> None:
    assert flux_problems(query) == [], where


@pytest.mark.parametrize("where, sql", list(_queries("sql")))
def test_sql_queries_name_only_tracker_tables_columns_and_values(where: str, sql: str) -> None:
    assert sql_problems(sql) == [], where


def test_order_progress_uses_the_postgresql_datasource_for_every_panel() -> None:
    dashboard = dict(_dashboards())["order-progress.json"]
    for panel in _panels(dashboard):
        if panel.get("targets"):
            assert panel["datasource"]["uid"] == "shopfloor-postgres", panel["title"]
            assert all(t.get("rawSql") for t in panel["targets"]), panel["title"]


def test_event_type_choices_are_the_contract_event_types() -> None:
    for name, dashboard in _dashboards():
        for var in dashboard["templating"]["list"]:
            if var["name"] == "event_type":
                assert set(var["query"].split(",")) == _event_types(), name


def test_telemetry_panels_name_only_simulator_sensors_or_a_variable() -> None:
    for where, query in _queries("flux"):
        if f'"{TELEMETRY_MEASUREMENT}"' in query:
            for name in _FIELD_EQ.findall(query):
                assert name in SENSORS or _GRAFANA_VAR.fullmatch(name), (where, name)


def test_every_model_unit_has_a_grafana_unit() -> None:
    assert set(_channel_units().values()) <= set(GRAFANA_UNITS)


def test_panels_with_a_unit_cover_every_channel_of_every_model() -> None:
    dashboard = dict(_dashboards())["machine-telemetry.json"]
    with_unit = {
        name
        for panel in _panels(dashboard)
        if _unit(panel) not in (None, "short")
        for name in _telemetry_fields(panel)
    }
    assert with_unit == SENSORS == set(_channel_units())


def test_telemetry_panels_show_the_unit_of_their_channel() -> None:
    units = _channel_units()
    for _name, dashboard in _dashboards():
        for panel in _panels(dashboard):
            for field in _telemetry_fields(panel):
                assert _unit(panel) == GRAFANA_UNITS[units[field]], (panel["title"], field)


def test_each_model_has_a_row_with_a_panel_per_channel() -> None:
    assert set(MODEL_ROWS) == set(MODELS), "give a new machine model its row in MODEL_ROWS"
    rows = _rows(dict(_dashboards())["machine-telemetry.json"])
    for kind, title in MODEL_ROWS.items():
        shown = [field for panel in rows.get(title, []) for field in _telemetry_fields(panel)]
        assert sorted(shown) == sorted(c.name for c in MODELS[kind].channels), title


def test_vibration_panels_warn_above_normal_running_and_below_failure() -> None:
    rows = _rows(dict(_dashboards())["machine-telemetry.json"])
    for kind, title in MODEL_ROWS.items():
        for channel in MODELS[kind].channels:
            if channel.wear <= 0:
                continue
            running = channel.target(MachineState.RUNNING)
            (panel,) = [p for p in rows[title] if _telemetry_fields(p) == {channel.name}]
            steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
            levels = [s["value"] for s in steps if s["value"] is not None]
            assert levels and running < min(levels), panel["title"]
            assert max(levels) <= running * (1 + channel.wear), panel["title"]
            assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] != "off"


def test_telemetry_panels_have_unique_ids_and_do_not_overlap() -> None:
    dashboard = dict(_dashboards())["machine-telemetry.json"]
    ids = [panel["id"] for panel in _panels(dashboard)]
    assert len(ids) == len(set(ids))
    # open panels share one grid; the panels of a collapsed row share one of their own
    for group in [dashboard["panels"], *(p.get("panels", []) for p in dashboard["panels"])]:
        taken: dict[tuple[int, int], str] = {}
        for panel in group:
            g = panel["gridPos"]
            assert g["x"] + g["w"] <= 24, panel["title"]
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    other = taken.setdefault((x, y), panel["title"])
                    assert other == panel["title"], f"{panel['title']} overlaps {other}"


def test_state_timeline_shows_every_machine_state() -> None:
    dashboard = dict(_dashboards())["machine-events.json"]
    (timeline,) = [p for p in _panels(dashboard) if p["type"] == "state-timeline"]
    (mapping,) = timeline["fieldConfig"]["defaults"]["mappings"]
    assert set(mapping["options"]) == {s.value for s in MachineState}


def test_alarms_are_listed_with_code_and_message() -> None:
    dashboard = dict(_dashboards())["machine-events.json"]
    alarm_tables = [
        target["query"]
        for panel in _panels(dashboard)
        if panel["type"] == "table"
        for target in panel["targets"]
        if 'r.type == "alarm"' in target["query"]
    ]
    assert alarm_tables and all('"code"' in q and '"message"' in q for q in alarm_tables)


@pytest.mark.parametrize(
    "query, problem",
    [
        ('r._measurement == "telemetry" and r._field == "spindle_tmp_c"', "field 'spindle_tmp_c'"),
        ('r._measurement == "event"', "measurement 'event'"),
        ('r._measurement == "telemetry" and r.lnie == "a"', "column 'lnie'"),
        ('r._measurement == "events" |> group(columns: ["machien"])', "column 'machien'"),
        ('r._field == "state" and r._value == "RUN"', "state 'RUN'"),
    ],
)
def test_flux_check_catches_a_misspelt_name(query: str, problem: str) -> None:
    assert problem in flux_problems(query)


@pytest.mark.parametrize(
    "sql, problem",
    [
        ("SELECT order_id, due_att FROM orders", "column 'due_att'"),
        ("SELECT count(*) FROM order", "table 'order'"),
        ("SELECT o.eta FROM orders o WHERE o.stauts = 'late'", "column 'o.stauts'"),
        ("SELECT id FROM alerts WHERE state = 'open'", "state value 'open'"),
        ("SELECT 1 FROM orders WHERE status IN ('received', 'done')", "status value 'done'"),
        ("SELECT raised_at FROM orders", "column 'raised_at'"),
    ],
)
def test_sql_check_catches_a_misspelt_name(sql: str, problem: str) -> None:
    assert problem in sql_problems(sql)
