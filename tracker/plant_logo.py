"""The plant's logo file (SHOPFLOOR_PLANT_LOGO): an image of a known type and bounded size."""

from __future__ import annotations

from pathlib import Path

# the logo's file types (by suffix) and their media types, and its largest size
LOGO_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
LOGO_MAX_BYTES = 256 * 1024


def checked_logo(value: Path | None) -> Path | None:
    """The path, when it is a logo file the tracker may serve; ValueError naming it if not."""
    if value is None:
        return None
    if value.suffix.lower() not in LOGO_TYPES:
        raise ValueError(f"{value}: a logo is {', '.join(LOGO_TYPES)}")
    if not value.is_file():
        raise ValueError(f"{value}: no such file")
    if value.stat().st_size > LOGO_MAX_BYTES:
        raise ValueError(f"{value}: larger than {LOGO_MAX_BYTES // 1024} KiB")
    return value
