"""`python -m shopfloor` is the `shopfloor` command."""

from shopfloor.cli import main

main()
