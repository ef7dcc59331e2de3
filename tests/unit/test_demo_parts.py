"""The demo's parts from its flags and SHOPFLOOR_* settings (no part is started here)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from launcher.demo_parts import DemoRefused, influx, telemetry_of
from launcher.parser import build_parser


def _demo(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["demo", *argv])


def test_telemetry_goes_to_sqlite_in_the_data_directory_by_default(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("SHOPFLOOR_INFLUX__SINK", "influx2")  # the gateway's, not the demo's
    chosen = influx(_demo(), tmp_path)
    assert (chosen.sink, chosen.sqlite_path) == ("sqlite", tmp_path / "telemetry.db")


def test_influx_url_takes_token_org_bucket_and_database_from_the_settings(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("SHOPFLOOR_INFLUX__TOKEN", "t0ken")
    clean_env.setenv("SHOPFLOOR_INFLUX__ORG", "acme")
    clean_env.setenv("SHOPFLOOR_INFLUX__BUCKET", "floor")
    clean_env.setenv("SHOPFLOOR_INFLUX__DATABASE", "plant")
    v2 = influx(_demo("--influx-url", "http://influx:8086"), tmp_path)
    assert (v2.sink, v2.url, v2.org, v2.bucket) == (
        "influx2",
        "http://influx:8086",
        "acme",
        "floor",
    )
    assert v2.token is not None and v2.token.get_secret_value() == "t0ken"
    v1 = influx(_demo("--influx-url", "http://influx:8086", "--influx-v1"), tmp_path)
    assert (v1.sink, v1.database) == ("influx1", "plant")


def test_without_settings_influx_gets_the_old_defaults(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    chosen = influx(_demo("--influx-url", "http://influx:8086"), tmp_path)
    assert (chosen.token, chosen.org, chosen.bucket, chosen.database) == (
        None,
        "shopfloor",
        "shopfloor",
        "shopfloor",
    )


def test_influx_settings_are_read_only_with_influx_url(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("SHOPFLOOR_INFLUX__TIMEOUT_S", "0")  # bad, but SQLite does not need it
    assert influx(_demo(), tmp_path).sink == "sqlite"
    with pytest.raises(DemoRefused) as refused:
        influx(_demo("--influx-url", "http://influx:8086"), tmp_path)
    assert refused.value.code == 2
    assert "SHOPFLOOR_INFLUX__TIMEOUT_S" in capsys.readouterr().err


def test_the_machine_charts_read_the_store_the_demo_writes_to(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    embedded = telemetry_of(influx(_demo(), tmp_path))
    assert (embedded.kind, embedded.sqlite_path) == ("sqlite", tmp_path / "telemetry.db")
    clean_env.setenv("SHOPFLOOR_INFLUX__DATABASE", "plant")
    v1 = telemetry_of(influx(_demo("--influx-url", "http://influx:8086", "--influx-v1"), tmp_path))
    assert (v1.kind, v1.url, v1.database) == ("influx1", "http://influx:8086", "plant")
    clean_env.setenv("SHOPFLOOR_INFLUX__TOKEN", "t0ken")
    v2 = telemetry_of(influx(_demo("--influx-url", "http://influx:8086"), tmp_path))
    assert (v2.kind, v2.bucket) == ("influx2", "shopfloor")
    assert v2.token is not None and v2.token.get_secret_value() == "t0ken"
