"""Plant-time durations in scenario files: `45s`, `10m`, `1h30m`, `2.5h` or seconds."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_duration(value: Any) -> float:
    """`90`, `90s`, `10m`, `1h30m`, `2.5h` -> seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text such as 45s, 10m, 1h30m")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip() and (m := _DURATION.match(value.strip())):
        h, mins, s = (float(g) if g else 0.0 for g in m.groups())
        seconds = h * 3600 + mins * 60 + s
    else:
        raise ValueError(f"{value!r} is not a duration (45s, 10m, 1h30m or seconds)")
    if not 0 <= seconds <= 366 * 86400:
        raise ValueError(f"duration {value!r} must be between 0 and a year")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
