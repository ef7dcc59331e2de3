"""`python -m launcher.bench.progress_timing` measures every progress case, each 404 among them."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.bench.progress_timing import measure

pytestmark = pytest.mark.integration


def test_the_timing_script_measures_each_case(tmp_path: Path) -> None:
    medians = measure(20, tmp_path)
    assert set(medians) == {
        "missing order",
        "existing order, wrong token",
        "recently polled order, wrong token",
        "recently polled order, its token (200)",
    }
    assert all(0 < us < 1_000_000 for us in medians.values())
