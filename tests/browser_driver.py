"""Runs one of tests/browser/*.js in Node, answering the lines it prints as it goes."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots, kept by CI on failure


def run_driver(
    node: str,
    driver: Path,
    settings: Mapping[str, str],
    on_line: Callable[[str], None] = lambda _line: None,
    timeout_s: float = 180,
) -> str:
    """Run `driver` with `settings` in its environment (and ARTIFACTS); call `on_line` with
    each line it prints; return its output once it exited 0 with "ok" last, else fail with it.
    A hung browser is killed after `timeout_s`: it fails the test, never holds up CI."""
    ARTIFACTS.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [node, str(driver)],
        cwd=driver.parent,
        env={**os.environ, "ARTIFACTS": str(ARTIFACTS), **settings},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    timer = threading.Timer(timeout_s, process.kill)
    timer.start()
    output = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            on_line(line.strip())
        code = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
    log = "".join(output)
    assert code == 0 and log.rstrip().endswith("ok"), f"{driver.name} exit {code}:\n{log}"
    return log
