"""Median time of the progress endpoint's answers, per case: does a 404 tell anything?

    python -m launcher.bench.progress_timing [--requests 1000]

In process (FastAPI's TestClient, a fresh SQLite database, no broker: the tracker is not
started), the cases interleaved in a shuffled order each round, so that drift and the
request before hit them alike: a missing
order, an order with a wrong token, an order its customer polled within the last 10 s (its
answer is cached) with a wrong token, and the customer's own poll of that order (200).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr

from launcher.bench.api_seed import seed_orders
from tracker.adapters.migrations import upgrade
from tracker.bootstrap import Tracker
from tracker.entrypoints.api import create_app
from tracker.settings import TrackerSettings

_KEY = "timing-admin-key-" + "k" * 16
_WRONG = {"Authorization": "Bearer wrong-token-wrong-token-wrong"}


def measure(requests: int, workdir: Path) -> dict[str, float]:
    """Median microseconds of each case over `requests` requests."""
    url = f"sqlite:///{workdir / 'timing.db'}"
    upgrade(url)
    settings = TrackerSettings(
        database_url=url,
        api_key=SecretStr(_KEY),
        progress_rate_per_ip=1e6,
        progress_burst_per_ip=1_000_000,
        progress_rate_per_token=1e6,
        progress_burst_per_token=1_000_000,
    )
    polled, other = seed_orders(url, count=2, imported=2, machines=5, seed=1)
    tracker = Tracker(settings)
    client = TestClient(create_app(tracker))  # not entered: no lifespan, no broker needed
    own = {"Authorization": f"Bearer {polled.token}"}
    cases = {
        "missing order": ("SO-missing", _WRONG, 404),
        "existing order, wrong token": (other.order_id, _WRONG, 404),
        "recently polled order, wrong token": (polled.order_id, _WRONG, 404),
        "recently polled order, its token (200)": (polled.order_id, own, 200),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    shuffle = random.Random(1).shuffle
    names = list(cases)
    for _ in range(requests + 50):  # the first 50 rounds warm up
        shuffle(names)
        for name in names:
            order_id, headers, expected = cases[name]
            start = time.perf_counter()
            response = client.get(f"/api/v1/orders/{order_id}/progress", headers=headers)
            times[name].append(time.perf_counter() - start)
            assert response.status_code == expected, (name, response.status_code)
    tracker.engine.dispose()
    return {name: statistics.median(t[50:]) * 1e6 for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="per case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        medians = measure(args.requests, Path(workdir))
    for name, median in medians.items():
        print(f"{name:40s} {median:8.0f} us")  # noqa: T201


if __name__ == "__main__":
    main()
