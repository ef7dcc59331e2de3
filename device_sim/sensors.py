"""A simulated machine's sensor channels: first-order lag towards each state's target, noise."""

from __future__ import annotations

import math
import random
from datetime import datetime

from shopfloor.contract.payloads import MachineState, TelemetryReading

from .models import MachineModel


def settle(
    values: dict[str, float], model: MachineModel, state: MachineState, wear: float, dt_s: float
) -> None:
    """Move each channel's value `dt_s` seconds towards its target in `state` (raised by wear)."""
    for c in model.channels:
        target = c.target(state) * (1.0 + c.wear * wear)
        value = values[c.name]
        # first-order lag towards the state's target (exact for any step length)
        gain = 1.0 if c.tau_s <= 0 else 1.0 - math.exp(-dt_s / c.tau_s)
        values[c.name] = value + (target - value) * gain


def reading(
    values: dict[str, float], model: MachineModel, rng: random.Random, now: datetime
) -> TelemetryReading:
    """The channels as a sensor reads them: with noise, rounded, never below their minimum."""
    out = {}
    for c in model.channels:
        value = values[c.name]
        # a channel at rest (spindle stopped, no current) reads a clean zero
        noisy = value + rng.gauss(0.0, c.noise) if abs(value) > 1e-6 else value
        out[c.name] = round(max(c.minimum, noisy), c.digits)
    return TelemetryReading(ts=now, values=out)
