"""JSON objects that name a key once: the `object_pairs_hook` every JSON reader of ours uses."""

from __future__ import annotations

from typing import Any


class DuplicateKey(ValueError):
    """A JSON object names one key twice: which value is meant depends on the parser."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members as a dict (`object_pairs_hook`); raises DuplicateKey.

    RFC 8259 leaves an object with a name given twice to each parser: Python keeps the last
    value, other readers the first. Such a message is refused rather than read one way.
    """
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(f"duplicate key {key[:100]!r}")
            seen.add(key)
    return out
