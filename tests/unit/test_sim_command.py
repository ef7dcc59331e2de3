"""`shopfloor sim` refuses what it cannot do with exit code 2 and a line, before any I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.parser import build_parser
from launcher.sim_command import cmd_sim


def _sim(*argv: str) -> int:
    return cmd_sim(build_parser().parse_args(["sim", *argv]))


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--tracker", "http://127.0.0.1:1"], "--tracker and --check go with --scenario"),
        (["--check"], "--tracker and --check go with --scenario"),
        (["--scenario", "demo", "--machine", "cnc-1"], "--scenario takes no --job or --machine"),
        (["--job", "not-a-job"], "shopfloor sim: "),
        (["--broker", "http://127.0.0.1:1883"], "must look like"),
    ],
)
def test_a_command_line_the_simulator_cannot_play_exits_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sim(*argv) == 2
    assert says in capsys.readouterr().err


def test_a_rehearsal_needs_a_supervisor_key(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sim("--scenario", "demo", "--tracker", "http://127.0.0.1:1") == 2
    assert "--tracker needs a supervisor key in SHOPFLOOR_API_KEY" in capsys.readouterr().err


def test_a_bad_scenario_file_is_named_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nmachines: 3\n")
    assert _sim("--scenario", str(path)) == 2
    assert f"shopfloor sim: bad scenario {path}" in capsys.readouterr().err
