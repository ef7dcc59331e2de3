"""Times and durations in texts for people: the plant's zone and one rounding rule (no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tracker.domain.incidents import describe
from tracker.domain.schedule import ScheduleRules, assess, completion_note
from tracker.domain.wording import at, span

# the same table the pages' fmtSpan is checked against in a real browser (track_test.js)
CASES = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "span_cases.json").read_text("utf-8")
)["cases"]
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 12, 7, 9, 17, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "english", "german"), CASES)
def test_a_duration_reads_as_the_pages_show_it(seconds: float, english: str, german: str) -> None:
    assert span(seconds) == english


def test_rounding_is_half_up_never_to_even() -> None:
    # Python's round() and format would give 2 min and 2 s here
    assert (span(150), span(2.5)) == ("3 min", "3 s")


def test_a_time_reads_in_the_plant_zone_with_its_abbreviation() -> None:
    assert at(T0) == "2026-12-07 09:17Z"
    assert at(T0, BERLIN) == "2026-12-07 10:17 CET"
    assert at(T0.replace(month=7), BERLIN) == "2026-07-07 11:17 CEST"
    assert at(T0, ZoneInfo("America/New_York")) == "2026-12-07 04:17 EST"


def test_reasons_read_in_the_plant_zone() -> None:
    rules = ScheduleRules(at_risk_slack_s=3600, tz=BERLIN)
    result = assess(T0, T0 - timedelta(minutes=5), T0 - timedelta(minutes=10), None, rules)
    assert result.reasons == (
        "projected to finish 2026-12-07 10:17 CET, 5 min after its due date 2026-12-07 10:12 CET",
    )
    risk = assess(T0, T0 + timedelta(seconds=30), T0 - timedelta(minutes=1), None, rules)
    assert risk.reasons == (
        "projected to finish 2026-12-07 10:17 CET, only 30 s before its due date "
        "2026-12-07 10:17 CET (slack 60 min)",
    )
    assert completion_note(T0, T0 - timedelta(hours=2), BERLIN) == (
        "completed 2026-12-07 10:17 CET, 2.0 h after its due date",
    )


def test_incident_texts_read_in_the_plant_zone() -> None:
    assert (
        describe("weld-1", "DOWN", T0, "WF-204", "wire feed jam", BERLIN)
        == "machine weld-1 is DOWN since 2026-12-07 10:17 CET: WF-204 wire feed jam"
    )
