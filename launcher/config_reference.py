"""docs/configuration.md from the settings classes: `python -m launcher.config_reference`.

Every `SHOPFLOOR_*` variable the services read comes from the pydantic-settings classes (prefix
`SHOPFLOOR_`, nested models joined with `__`), with the services that read it, its default and
the field's description (its `Field(description=...)` or the docstring under it). The committed
page must equal this output (tests/unit/test_readme.py), so a new setting needs a description.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

from gateway.settings import GatewaySettings
from shopfloor.mqtt import MqttSettings
from tracker.migrate import MigrateSettings
from tracker.settings import TrackerSettings

PREFIX = "SHOPFLOOR_"
REQUIRED = object()  # a setting without a default
UNDESCRIBED = "**no description**"
# (class, prefix, the service named in the table); a variable several read is listed once
SOURCES: list[tuple[type[BaseModel], str, str]] = [
    (MqttSettings, PREFIX + "MQTT__", ""),
    (TrackerSettings, PREFIX, "tracker"),
    (MigrateSettings, PREFIX, "`migrate`"),
    (GatewaySettings, PREFIX, "gateway"),
]


@dataclass
class Setting:
    variable: str
    services: list[str] = field(default_factory=list)
    defaults: list[Any] = field(default_factory=list)
    description: str = ""


def _fields(model: type[BaseModel], default: Any, prefix: str) -> Iterator[tuple[str, Any, str]]:
    """(variable, default, description) of every field; nested models recurse."""
    for name, info in model.model_fields.items():
        variable = prefix + name.upper()
        if default is not None:
            value = getattr(default, name)
        elif info.default is PydanticUndefined and info.default_factory is None:
            value = REQUIRED
        else:
            value = info.get_default(call_default_factory=True)
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from _fields(kind, value, variable + "__")
        else:
            yield variable, value, " ".join((info.description or "").split())


def settings() -> dict[str, Setting]:
    """Every SHOPFLOOR_* variable the services read, in the classes' order."""
    found: dict[str, Setting] = {}
    for cls, prefix, service in SOURCES:
        for variable, value, description in _fields(cls, None, prefix):
            setting = found.setdefault(variable, Setting(variable))
            if service and service not in setting.services:
                setting.services.append(service)
            setting.defaults.append(value)
            setting.description = setting.description or description
    return found


def shown(value: Any) -> str:
    """A default as the table writes it; structured ones are described in words."""
    if value is REQUIRED:
        return "**required**"
    if value is None or isinstance(value, SecretStr):
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, enum.Enum):
        return shown(value.value)
    if isinstance(value, float):
        return f"`{value!r}`"
    if isinstance(value, int | str | Path):
        return f"`{value}`" if str(value) else ""
    if isinstance(value, list | dict) and not value:
        return f"`{value!r}`"
    return "see meaning"


def _default(setting: Setting) -> str:
    # the bare MqttSettings' empty client id: each service fills in its own
    cells = [shown(value) for value in setting.defaults]
    return " / ".join(dict.fromkeys(cell for cell in cells if cell))


def _group(setting: Setting) -> str:
    name = setting.variable.removeprefix(PREFIX)
    if name.startswith("MQTT__") or name == "TOPIC_TEMPLATE":
        return "mqtt"
    for prefix, group in (("INFLUX__", "store"), ("SPARKPLUG__", "sparkplug")):
        if name.startswith(prefix):
            return group
    if name.startswith("TELEMETRY__"):
        return "charts"
    return "pipeline" if setting.services == ["gateway"] else "tracker"


INTRO = """\
# Configuration reference

Both services read environment variables with the prefix `SHOPFLOOR_`; nested settings use
`__` (e.g. `SHOPFLOOR_MQTT__HOST`). A bad value stops the service at start with status 2 and
names the variable (`shopfloor: bad setting SHOPFLOOR_BATCH_SIZE: Input should be greater
than or equal to 1`). Lists and mappings are JSON. Secrets have no defaults.

This page is generated from the settings classes (`python -m launcher.config_reference >
docs/configuration.md`): a setting's meaning is its field's description, and
`tests/unit/test_readme.py` fails when the page differs from the code.
"""
GROUPS: list[tuple[str, str]] = [
    (
        "mqtt",
        "**MQTT** (gateway and tracker; `shopfloor migrate` reads only `SHOPFLOOR_DATABASE_URL`):",
    ),
    (
        "store",
        "**Gateway: store.** `SHOPFLOOR_INFLUX__SINK` picks one; the rows after it apply to"
        " that sink.",
    ),
    ("pipeline", "**Gateway: pipeline.**"),
    ("sparkplug", "**Gateway: Sparkplug B host** (see [Sparkplug B](sparkplug.md)):"),
    ("tracker", "**Tracker.**"),
    (
        "charts",
        "**Tracker: machine charts.** Where `GET /api/v1/machines/{id}/telemetry` reads: the"
        " store the gateway writes to (point it at the same place as `SHOPFLOOR_INFLUX__*`);"
        " `shopfloor demo` sets it to its own SQLite store.",
    ),
]
# read by the command line, not by a settings class
LOG_LEVEL = (
    "| `SHOPFLOOR_LOG_LEVEL` | every command | `INFO` | log level"
    " (same as `shopfloor --log-level`) |"
)
OUTRO = """\
`shopfloor demo` sets most of these itself (see
[The demo and scenarios](getting-started.md#the-demo-and-scenarios)); it reads
`SHOPFLOOR_API_KEY` and, with `--influx-url`, `SHOPFLOOR_INFLUX__TOKEN`,
`SHOPFLOOR_INFLUX__ORG`, `SHOPFLOOR_INFLUX__BUCKET` and `SHOPFLOOR_INFLUX__DATABASE`. The
test suite reads `SHOPFLOOR_TEST_PG_URL` (see [Tests](development.md#tests)).
"""


def _row(setting: Setting) -> str:
    services = ", ".join(setting.services)
    meaning = (setting.description or UNDESCRIBED).replace("|", "\\|")
    return f"| `{setting.variable}` | {services} | {_default(setting)} | {meaning} |"


def page(found: Callable[[], dict[str, Setting]] = settings) -> str:
    """The whole of docs/configuration.md."""
    rows = list(found().values())
    parts = [INTRO]
    for group, heading in GROUPS:
        table = [_row(s) for s in rows if _group(s) == group]
        if group == "mqtt":
            table.append(LOG_LEVEL)
        header = "| variable | service | default | meaning |\n| --- | --- | --- | --- |"
        parts.append(f"{heading}\n\n{header}\n" + "\n".join(table) + "\n")
    parts.append(OUTRO)
    return "\n".join(parts)


if __name__ == "__main__":
    import sys

    sys.stdout.write(page())
