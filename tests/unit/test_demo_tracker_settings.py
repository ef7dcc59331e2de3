"""The demo's tracker: every duration it judges by is plant time divided by the speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.demo_parts import FORESIGHT_MTBF_S, FORESIGHT_MTTR_S, scaled_settings
from shopfloor.mqtt import MqttSettings
from tracker.settings import TelemetrySettings


@pytest.mark.parametrize("speed", [1.0, 60.0])
def test_the_foresight_priors_are_compressed_like_the_margins(tmp_path: Path, speed: float) -> None:
    settings = scaled_settings(
        speed,
        "sqlite:///" + str(tmp_path / "x.db"),
        tmp_path / "plant.yaml",
        "plant1",
        ("k" * 32, 8000),
        MqttSettings(),
        TelemetrySettings(),
    )
    assert settings.foresight_mtbf_s == pytest.approx(FORESIGHT_MTBF_S / speed)
    assert settings.foresight_mttr_s == pytest.approx(FORESIGHT_MTTR_S / speed)
    # the same compression as the at-risk slack: a repair is as long against it at any speed
    assert settings.foresight_mttr_s / settings.at_risk_slack_s == pytest.approx(1.0)
