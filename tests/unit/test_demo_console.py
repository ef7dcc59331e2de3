"""The demo's console off a terminal: plain output, the summary printed once, a failing poll
keeping the last numbers."""

from __future__ import annotations

import pytest

from launcher.demo_console import DemoConsole
from launcher.demo_status import OrderState, Snapshot


def test_off_a_terminal_only_the_summary_is_printed_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = [
        Snapshot(60.0, (OrderState("SO-1", "in_progress", "late", False),), 1, 0, 5),
        Snapshot(120.0, (OrderState("SO-1", "completed", "late", False),), 1, 1, 9),
    ]

    def poll() -> Snapshot:
        if not answers:
            raise ConnectionError("the API stopped")
        return answers.pop(0)

    links = {"SO-1": "http://x/track/SO-1?token=t"}
    with DemoConsole(["board"], poll, lambda: links, expected=1, tty=False) as console:
        console.refresh()
        assert capsys.readouterr().out == ""  # no status line off a terminal
        console.refresh()  # SO-1 is done: the story is over
        console.refresh()  # the API stopped: the last numbers stay
    out = capsys.readouterr().out
    assert out.count("the story has ended at plant time 0:02:00") == 1
    assert "late:    SO-1 tracking page http://x/track/SO-1?token=t" in out
    assert "the demo stopped" not in out


def test_a_demo_stopped_before_the_end_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    snap = Snapshot(30.0, (OrderState("SO-1", "in_progress", "on_track", True),))
    with DemoConsole([], lambda: snap, dict, expected=1, tty=False) as console:
        console.refresh()
    assert "the demo stopped at plant time 0:00:30" in capsys.readouterr().out
