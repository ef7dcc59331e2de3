"""How times and durations read in texts for people (reasons, alert and incident messages).

One rule for every text, shared with the web pages (`static/common.js`, `fmtSpan`/`fmtAt`):

- A time is shown in the plant's time zone (the plant file's `timezone:`, UTC by default) with
  the zone's abbreviation (`2026-12-07 10:17 CET`; UTC as `2026-12-07 09:17Z`). The API
  keeps UTC with offset.
- A duration is rounded half up (never to even) on its absolute value, in one unit:
  under 90 s in seconds (`45 s`), under 90 min in minutes (`12 min`), under 48 h in hours
  with one decimal (`3.5 h`), else in days with one decimal (`2.0 d`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo


def _half_up(x: float) -> int:
    return math.floor(x + 0.5)


def span(seconds: float) -> str:
    """A duration as people say it: 45 s, 12 min, 3.5 h, 2.0 d (its sign dropped)."""
    s = _half_up(abs(seconds))
    if s < 90:
        return f"{s} s"
    if s < 90 * 60:
        return f"{_half_up(s / 60)} min"
    if s < 48 * 3600:
        return f"{_half_up(s / 360) / 10:.1f} h"
    return f"{_half_up(s / 8640) / 10:.1f} d"


def at(t: datetime, tz: tzinfo = UTC) -> str:
    """A time in the plant's zone, to the minute, with the zone: `2026-12-07 10:17 CET`."""
    local = t.astimezone(tz)
    zone = local.tzname() or ""
    return f"{local:%Y-%m-%d %H:%M}" + ("Z" if zone == "UTC" else f" {zone}")
