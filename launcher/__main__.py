"""`python -m launcher` is the `shopfloor` command."""

from launcher.cli import main

main()
