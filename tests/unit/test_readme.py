"""The manual's reference parts name everything the code reads: settings with defaults, CLI flags.

Settings come from the pydantic-settings classes (prefix `SHOPFLOOR_`, nested models joined
with `__`; docs/configuration.md is generated from them by launcher/config_reference.py), flags
from `launcher.cli.build_parser()`, so a new setting or flag that the manual does not mention
fails here, by name.
"""

from __future__ import annotations

import argparse
import enum
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from gateway.settings import GatewaySettings
from launcher.cli import build_parser
from launcher.config_reference import PREFIX, REQUIRED, page, settings
from tracker.migrate import MigrateSettings
from tracker.settings import TrackerSettings

DOCS = Path(__file__).resolve().parents[2] / "docs"
VARIABLE = re.compile(r"SHOPFLOOR_[A-Z0-9_]*[A-Z0-9]")


def code_settings() -> dict[str, list[Any]]:
    """Every SHOPFLOOR_* variable the services read, with its default in each service."""
    for cls in (GatewaySettings, TrackerSettings, MigrateSettings):
        assert cls.model_config.get("env_prefix") == PREFIX
    return {variable: setting.defaults for variable, setting in settings().items()}


def section(page: str, title: str | None = None) -> str:
    """A page of docs/, or its `## title` section up to the next `## ` heading."""
    text = (DOCS / page).read_text(encoding="utf-8")
    if title is None:
        return text
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def reference_rows() -> dict[str, str]:
    """Each variable of the configuration reference's tables -> the default cell of its row."""
    rows: dict[str, str] = {}
    for line in section("configuration.md").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and (m := VARIABLE.fullmatch(cells[0].strip("`"))):
            rows[m.group(0)] = cells[2]
    return rows


def _shown(value: Any) -> list[str]:
    """Ways the reference may write a default (any one is enough)."""
    if value is REQUIRED:
        return ["required"]
    if value is None or isinstance(value, SecretStr):
        return ["none", "off"]
    if isinstance(value, bool):
        return [str(value).lower()]
    if isinstance(value, enum.Enum):
        return _shown(value.value)
    if isinstance(value, int | float):
        return [f"`{value}`", f"`{value:g}`", f"`{value:,}`"]
    if isinstance(value, str | Path):
        # an empty client id is the bare MqttSettings'; each service fills in its own
        return [f"`{value}`"] if str(value) else []
    if isinstance(value, list | dict) and not value:
        return [f"`{value!r}`"]
    return []  # structured defaults (the Sparkplug profiles): described in words


def test_the_configuration_reference_is_generated_from_the_settings_classes() -> None:
    committed = section("configuration.md")
    assert committed == page(), (
        "docs/configuration.md differs from the settings classes: "
        "python -m launcher.config_reference > docs/configuration.md"
    )


def test_every_setting_has_a_description() -> None:
    bare = sorted(v for v, s in settings().items() if not s.description)
    assert not bare, f"give these a Field description (or a docstring under the field): {bare}"


def test_the_configuration_reference_names_every_setting() -> None:
    documented = reference_rows()
    missing = sorted(set(code_settings()) - set(documented))
    assert not missing, f"docs/configuration.md does not list: {', '.join(missing)}"


def test_the_configuration_reference_lists_only_real_settings() -> None:
    extra = sorted(set(reference_rows()) - set(code_settings()) - {"SHOPFLOOR_LOG_LEVEL"})
    assert not extra, f"docs/configuration.md lists unknown settings: {extra}"


def test_each_setting_row_gives_its_default() -> None:
    rows = reference_rows()
    wrong = []
    for variable, defaults in sorted(code_settings().items()):
        cell = rows.get(variable, "")
        for value in {repr(v): v for v in defaults}.values():
            ways = _shown(value)
            if not cell or ways and not any(way.lower() in cell.lower() for way in ways):
                wrong.append(f"{variable}: default {value!r} (row says {cell!r})")
    assert not wrong, "docs/configuration.md disagrees with the code:\n" + "\n".join(wrong)


def _subparser(parser: argparse.ArgumentParser, *path: str) -> argparse.ArgumentParser:
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {
        flag
        for action in parser._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help"
    }


@pytest.mark.parametrize(
    ("command", "title"),
    [
        (("demo",), ("getting-started.md", "The demo and scenarios")),
        (("sim",), ("simulator.md", None)),
        (("sim", "load"), ("simulator.md", None)),
    ],
    ids=["demo", "sim", "sim load"],
)
def test_every_flag_of_the_demo_and_the_simulator_is_documented(
    command: tuple[str, ...], title: tuple[str, str | None]
) -> None:
    text = section(*title)
    flags = _flags(_subparser(build_parser(), *command))
    missing = sorted(f for f in flags if not re.search(re.escape(f) + r"(?![\w-])", text))
    assert not missing, (
        f"docs/{title[0]} {title[1] or ''} omits `shopfloor {' '.join(command)}` {missing}"
    )
