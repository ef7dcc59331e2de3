"""docs/connect.md shows the example plant files as they are, and they load in both services."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.mapping.plant import load_sources
from tracker.plant import load_plant

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "connect").glob("*.yaml"))


def test_there_are_examples_for_each_kind_of_bridge() -> None:
    assert {p.stem for p in EXAMPLES} >= {"packml", "kepware", "sparkplug"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_connect_page_shows_each_example_verbatim(path: Path) -> None:
    page = (ROOT / "docs" / "connect.md").read_text()
    assert f"```yaml\n{path.read_text()}```" in page, f"docs/connect.md differs from {path}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_each_example_loads_in_the_gateway_and_the_tracker(path: Path) -> None:
    sources = load_sources(path)
    plant = load_plant(path)
    assert sources and {s.id for s in sources} <= set(plant.machines)
