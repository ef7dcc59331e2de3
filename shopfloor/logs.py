"""Logging setup for the command line: one line per record, UTC timestamps."""

from __future__ import annotations

import logging
import time


def configure(level: str = "INFO") -> None:
    """Log to stderr as `time level logger: message`."""
    formatter = logging.Formatter(
        "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic logs its plugin set-up and dialect at INFO on every start; `shopfloor migrate`
    # says itself what it did
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # the embedded broker's state machine, the scheduler's job bookkeeping and each request of
    # an HTTP client would drown what the plant is doing
    for noisy in ("transitions", "amqtt", "apscheduler", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
