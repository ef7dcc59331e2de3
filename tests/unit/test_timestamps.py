"""Device timestamps: RFC 3339 or epoch numbers in a declared precision, within a time window."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.timestamps import Clock, Precision, rfc3339_ns
from shopfloor.contract.payloads import PayloadError

T = 1_772_438_400  # 2026-03-02T08:00:00Z in epoch seconds
T_NS = T * 10**9


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("2026-03-02T08:00:00Z", T_NS),
        ("2026-03-02T08:00:00z", T_NS),
        ("2026-03-02 08:00:00Z", T_NS),
        ("2026-03-02T09:00:00+01:00", T_NS),
        ("2026-03-02T03:30:00-04:30", T_NS),
        ("2026-03-02T08:00:00.25Z", T_NS + 250_000_000),
        ("2026-03-02T08:00:00.123456Z", T_NS + 123_456_000),
        ("2026-03-02T08:00:00.123456789Z", T_NS + 123_456_789),
        ("2026-03-02T08:00:00.1234567Z", T_NS + 123_456_700),
        ("1970-01-01T00:00:00Z", 0),
    ],
)
def test_rfc3339_keeps_the_offset_and_nanoseconds(text: str, ns: int) -> None:
    assert rfc3339_ns(text) == ns


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-02T08:00:00",  # no offset: local time of which clock?
        "2026-03-02",
        "yesterday",
        "2026-13-02T08:00:00Z",
        "2026-02-30T08:00:00Z",
        "2026-03-02T24:00:00Z",
        "20260302T080000Z",
        "1772438400000",  # epoch numbers are JSON numbers, not text
        "",
    ],
)
def test_text_that_is_not_rfc3339_with_an_offset_is_a_bad_timestamp(text: str) -> None:
    with pytest.raises(PayloadError) as excinfo:
        Clock().to_ns(text)

    assert excinfo.value.reason == "bad_timestamp"


@pytest.mark.parametrize(
    ("precision", "value", "ns"),
    [
        ("ms", T * 1000, T_NS),
        ("ms", T * 1000 + 1, T_NS + 1_000_000),
        ("ms", T * 1000 + 0.5, T_NS + 500_000),
        ("s", T, T_NS),
        ("s", T + 0.25, T_NS + 250_000_000),
        ("us", T * 10**6 + 7, T_NS + 7_000),
        ("ns", T_NS + 7, T_NS + 7),  # exact: integers are never rounded through a float
        ("auto", T, T_NS),
        ("auto", T * 1000, T_NS),
        ("auto", T * 10**6, T_NS),
        ("auto", T_NS, T_NS),
    ],
)
def test_epoch_numbers_are_read_in_the_declared_precision(
    precision: Precision, value: float, ns: int
) -> None:
    assert Clock(precision).to_ns(value) == ns


def test_precision_is_never_guessed_unless_configured() -> None:
    # epoch seconds sent to a gateway expecting milliseconds land in January 1970
    assert Clock("ms").to_ns(T) == T * 10**6


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (True, "bad_timestamp"),
        ([T], "bad_timestamp"),
        ({"s": T}, "bad_timestamp"),
        (1e308, "ts_out_of_range"),
    ],
)
def test_values_that_are_not_times_are_rejected(value: Any, reason: str) -> None:
    with pytest.raises(PayloadError) as excinfo:
        Clock().to_ns(value)

    assert excinfo.value.reason == reason


def test_missing_time_is_the_arrival_time() -> None:
    assert Clock("ms", 300, 60).read(None, T_NS) == T_NS


WINDOW = Clock("ms", max_ahead_s=300, max_behind_s=7 * 86_400)


@pytest.mark.parametrize(
    ("offset_s", "accepted"),
    [
        (0, True),
        (300, True),
        (301, False),
        (-7 * 86_400, True),
        (-7 * 86_400 - 1, False),
    ],
)
def test_readings_outside_the_time_window_are_rejected(offset_s: int, accepted: bool) -> None:
    value = (T + offset_s) * 1000
    if accepted:
        assert WINDOW.read(value, T_NS) == T_NS + offset_s * 10**9
        return
    with pytest.raises(PayloadError) as excinfo:
        WINDOW.read(value, T_NS)

    assert excinfo.value.reason == "ts_out_of_range"
    assert ("ahead" if offset_s > 0 else "behind") in excinfo.value.detail


def test_zero_turns_the_window_checks_off() -> None:
    clock = Clock("ms", max_ahead_s=0, max_behind_s=0)

    assert clock.read(1000, T_NS) == 10**9
    assert clock.read(T * 1000 * 2, T_NS) == T_NS * 2


@pytest.mark.parametrize(
    "value", [-1, 2**63 // 10**6 + 1, "1969-12-31T23:59:59Z", "2263-01-01T00:00:00Z"]
)
def test_times_outside_what_line_protocol_holds_are_rejected_even_without_a_window(
    value: Any,
) -> None:
    with pytest.raises(PayloadError) as excinfo:
        Clock("ms").read(value, T_NS)

    assert excinfo.value.reason == "ts_out_of_range"
