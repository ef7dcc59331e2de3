"""How the `shopfloor` command reports a bad setting or a bad file: on stderr, exit code 2."""

from __future__ import annotations

import sys

from pydantic import ValidationError


def settings_error(exc: ValidationError) -> int:
    """Each bad SHOPFLOOR_* setting on stderr, named as its environment variable; exit code 2."""
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        if err["loc"] and not msg.startswith("SHOPFLOOR_"):
            name = "SHOPFLOOR_" + "__".join(str(p) for p in err["loc"]).upper()
            sys.stderr.write(f"shopfloor: bad setting {name}: {msg}\n")
        else:  # a check across settings: its message names the variables
            sys.stderr.write(f"shopfloor: bad settings: {msg}\n")
    return 2


def file_error(prefix: str, exc: Exception) -> int:
    """A YAML file's problems on stderr, one `prefix path:line: ...` a line; exit code 2."""
    for line in str(exc).splitlines():
        sys.stderr.write(f"{prefix} {line}\n")
    return 2
