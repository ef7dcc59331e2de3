"""The plant file's downtime reasons: the catalogue, alarm mappings, problems on their lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.domain.downtime import Category
from tracker.plant import PlantFileError, load_plant

REASONS = """\
machines:
  - saw-1
  - {id: weld-1, alarm_reasons: {WF-204: jam}}
reasons:
  spindle: {name: Spindle fault, category: mechanical}
  jam: {name: Material jammed, category: material}
alarm_reasons:
  SP-301: spindle
  WF-204: spindle
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plant.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reasons_and_alarm_mappings_load(tmp_path: Path) -> None:
    reasons = load_plant(_write(tmp_path, REASONS)).reasons
    assert reasons.reasons["jam"].category is Category.MATERIAL
    assert reasons.reason_for_alarm("saw-1", "WF-204") == reasons.reasons["spindle"]
    assert reasons.reason_for_alarm("weld-1", "WF-204") == reasons.reasons["jam"]


def test_an_alarm_mapped_to_an_unknown_reason_is_reported_on_its_line(tmp_path: Path) -> None:
    text = REASONS.replace("WF-204: jam", "WF-204: jammed").replace("SP-301: spindle", "SP-301: x")
    with pytest.raises(PlantFileError) as info:
        load_plant(_write(tmp_path, text))
    message = str(info.value)
    assert (
        "plant.yaml:8: alarm_reasons.SP-301: unknown reason 'x' (reasons: spindle, jam)" in message
    )
    assert "plant.yaml:3: machines.1.alarm_reasons.WF-204: unknown reason 'jammed'" in message


def test_an_unknown_category_is_refused_on_its_line(tmp_path: Path) -> None:
    text = REASONS.replace("category: material", "category: gremlins")
    with pytest.raises(PlantFileError) as info:
        load_plant(_write(tmp_path, text))
    assert "plant.yaml:6: reasons.jam.category" in str(info.value)
