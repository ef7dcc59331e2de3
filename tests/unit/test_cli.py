"""The `shopfloor` command line: its subcommands, the log level from SHOPFLOOR_LOG_LEVEL."""

from __future__ import annotations

import pytest

from launcher.cli import build_parser, main


def test_every_subcommand_is_on_the_command_line() -> None:
    for argv in (["gateway"], ["tracker"], ["migrate"], ["hash-key"], ["sim"], ["demo"]):
        assert build_parser().parse_args(argv).command == argv[0]


def test_a_benchmark_gets_the_rest_of_the_command_line() -> None:
    args = build_parser().parse_args(["bench", "api", "--orders", "10", "--connections", "2"])
    assert (args.benchmark, args.bench_args) == ("api", ["--orders", "10", "--connections", "2"])


def test_an_unknown_benchmark_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bench", "nope"])
    assert exited.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_the_log_level_defaults_to_shopfloor_log_level(clean_env: pytest.MonkeyPatch) -> None:
    assert build_parser().parse_args(["gateway"]).log_level == "INFO"
    clean_env.setenv("SHOPFLOOR_LOG_LEVEL", "DEBUG")
    assert build_parser().parse_args(["gateway"]).log_level == "DEBUG"
