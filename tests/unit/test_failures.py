"""Failures logged once per cause, with a traceback id that is the same for every repeat."""

from __future__ import annotations

import logging

import pytest

from shopfloor.failures import OnceLog, traceback_id


def _fail(kind: type[Exception]) -> Exception:
    try:
        raise kind("boom")
    except Exception as exc:
        return exc


def test_a_cause_has_one_traceback_id_whatever_its_message_and_another_cause_another() -> None:
    assert traceback_id(_fail(ValueError)) == traceback_id(_fail(ValueError))
    assert traceback_id(_fail(ValueError)) != traceback_id(_fail(KeyError))
    assert len(traceback_id(_fail(ValueError))) == 12


def test_a_repeated_failure_is_logged_in_full_once_per_key_until_the_key_works_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    once = OnceLog(logging.getLogger("test.once"))
    with caplog.at_level(logging.INFO, "test.once"):
        for _ in range(5):
            once.failed("saw-1", _fail(ValueError), "list of %s failed", "saw-1")
        once.failed("saw-2", _fail(ValueError), "list of %s failed", "saw-2")
        once.failed("saw-1", _fail(KeyError), "list of %s failed", "saw-1")
        once.ok("saw-1")
        tid = once.failed("saw-1", _fail(ValueError), "list of %s failed", "saw-1")
    logged = [r.getMessage() for r in caplog.records if r.exc_info is not None]
    assert logged == [
        f"list of saw-1 failed [traceback {tid}]",
        f"list of saw-2 failed [traceback {tid}]",
        f"list of saw-1 failed [traceback {traceback_id(_fail(KeyError))}]",
        f"list of saw-1 failed [traceback {tid}]",
    ]


def test_the_keys_remembered_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    once = OnceLog(logging.getLogger("test.once"), max_keys=2)
    with caplog.at_level(logging.ERROR, "test.once"):
        for key in ("a", "b", "c", "a"):
            once.failed(key, _fail(ValueError), "failed")
    assert len(caplog.records) == 4  # "a" was forgotten when "c" came
