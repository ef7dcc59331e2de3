"""Shared by the end-to-end tests: the headless browser and its driver."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

BROWSER_DIR = Path(__file__).resolve().parents[1] / "browser"


def _chromium() -> str | None:
    """Debian's chromium-headless-shell (SHOPFLOOR_CHROMIUM overrides)."""
    for candidate in (
        os.environ.get("SHOPFLOOR_CHROMIUM"),
        "/usr/lib/chromium/chromium-headless-shell",
        shutil.which("chromium-headless-shell"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture
def browser_tools() -> tuple[str, str]:
    node, chromium = shutil.which("node"), _chromium()
    if node is None:
        pytest.skip("node is not installed (scripts/test installs it)")
    if chromium is None:
        pytest.skip("chromium-headless-shell is not installed (scripts/test installs it)")
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.skip("playwright-core is not installed: npm ci --prefix tests/browser")
    return node, chromium
