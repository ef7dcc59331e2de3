"""The tracker's domain: orders, operations, machines; standard library only."""
