"""`shopfloor orders import` against a real tracker served over HTTP with the example plant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from launcher.orders_command import cmd_orders
from launcher.parser import build_parser
from tests.integration.served import Running
from tracker.bootstrap import Tracker

pytestmark = pytest.mark.integration

KEY = "supervisor-key-" + "o" * 16
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def running(make_tracker: Callable[..., Tracker]) -> Iterator[Running]:
    server = Running(make_tracker(KEY, plant_file=EXAMPLES / "plant.yaml"))
    yield server
    if server.thread.is_alive():
        server.stop()


def _run(running: Running, monkeypatch: pytest.MonkeyPatch, *argv: str, key: str = KEY) -> int:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", key)
    args = build_parser().parse_args(["orders", "import", *argv, "--tracker", running.url])
    return cmd_orders(args)


def _placed(running: Running) -> list[str]:
    answer = httpx.get(f"{running.url}/api/v1/orders", headers={"X-API-Key": KEY}, timeout=10)
    return [o["order_id"] for o in answer.json()["orders"]]


def test_the_example_file_passes_a_dry_run_and_places_nothing(
    running: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(running, monkeypatch, str(EXAMPLES / "orders.csv"), "--dry-run") == 0
    assert "4 rows checked, all good; nothing was placed" in capsys.readouterr().out
    assert _placed(running) == []


def test_the_example_file_is_placed_once_and_refused_the_second_time(
    running: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(running, monkeypatch, str(EXAMPLES / "orders.csv")) == 0
    out = capsys.readouterr().out
    assert f"placed SO-1001  {running.url}/track/SO-1001?token=" in out
    assert sorted(_placed(running)) == ["SO-1001", "SO-1002", "SO-1003", "SO-1004"]
    assert _run(running, monkeypatch, str(EXAMPLES / "orders.csv")) == 1
    out = capsys.readouterr().out
    assert "row 2 (SO-1001), column Order Reference: order SO-1001 already exists" in out
    assert "4 of 4 rows refused; nothing was placed" in out


def test_a_dry_run_reports_every_bad_row_in_the_files_words(
    running: Running,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "\ufeffReference;Partner;Product;Qty;Deadline;Options\r\n"
        "SO-1;ACME;bracket;4;01.03.2027 10:00;paint=powder\r\n"
        "SO-2;ACME;bracket;0;01.03.2027;\r\n"
        "SO-3;ACME;widget;1;01.03.2027;\r\n"
        "SO-4;ACME;bracket;1;soon;\r\n"
        "SO-5;ACME;bracket;1;2027-03-01;paint=gloss\r\n"
        "SO-1;ACME;bracket;1;2027-03-01;\r\n",
        encoding="utf-8",
    )
    assert _run(running, monkeypatch, str(orders), "--timezone", "Europe/Berlin") == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "row 3 (SO-2), column Qty",
        "row 4 (SO-3), column Product",
        "row 5 (SO-4), column Deadline",
        "row 6 (SO-5), column options.paint",
        "row 7 (SO-1), column Reference",
    ]
    assert lines[-2].endswith("order SO-1 repeats row 2")  # the file's row, not the JSON item's
    assert lines[-1] == "5 of 6 rows refused; nothing was placed"
    assert _placed(running) == []


def test_bad_usage_files_and_keys_exit_2(
    running: Running,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    example = str(EXAMPLES / "orders.csv")
    assert _run(running, monkeypatch, example, key="wrong-key-" + "w" * 16) == 2
    assert "refuses the key in SHOPFLOOR_API_KEY" in capsys.readouterr().err
    assert _run(running, monkeypatch, str(tmp_path / "missing.csv")) == 2
    header = tmp_path / "header.csv"
    header.write_text("order,customer,colour\nSO-1,ACME,red\n")
    assert _run(running, monkeypatch, str(header)) == 2
    assert "unknown columns: colour" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_code:
        _run(running, monkeypatch, example, "--timezone", "Mars/Olympus")
    assert exit_code.value.code == 2
    assert _placed(running) == []
