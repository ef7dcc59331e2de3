"""A job for a simulated machine: good parts to make for one operation of an order."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    """Make `quantity` good parts for one operation of an order."""

    order_id: str
    seq: int
    machine: str
    quantity: int
    cycle_s: float
    setup_s: float = 0.0

    @classmethod
    def parse(cls, spec: str) -> Job:
        """`ORDER:SEQ:MACHINE:QTY:CYCLE_S[:SETUP_S]`, e.g. `SO-1001:10:cnc-1:5:2.0`."""
        parts = spec.split(":")
        if len(parts) not in (5, 6):
            raise ValueError(f"job {spec!r} must be ORDER:SEQ:MACHINE:QTY:CYCLE_S[:SETUP_S]")
        try:
            job = cls(
                parts[0],
                int(parts[1]),
                parts[2],
                int(parts[3]),
                float(parts[4]),
                float(parts[5]) if len(parts) == 6 else 0.0,
            )
        except ValueError:
            raise ValueError(f"job {spec!r}: SEQ and QTY must be integers, times numbers") from None
        if not job.order_id or not job.machine:
            raise ValueError(f"job {spec!r}: ORDER and MACHINE must not be empty")
        if job.quantity < 1 or job.seq < 0:
            raise ValueError(f"job {spec!r}: QTY must be at least 1 and SEQ not negative")
        if not (math.isfinite(job.cycle_s) and job.cycle_s > 0):
            raise ValueError(f"job {spec!r}: CYCLE_S must be a number above 0")
        if not (math.isfinite(job.setup_s) and job.setup_s >= 0):
            raise ValueError(f"job {spec!r}: SETUP_S must be a number, 0 or more")
        return job

    @property
    def key(self) -> tuple[str, int]:
        return (self.order_id, self.seq)
