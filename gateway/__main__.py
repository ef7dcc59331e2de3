"""`python -m gateway` runs the gateway (same as `shopfloor gateway`)."""

from shopfloor.cli import main

main(["gateway"])
