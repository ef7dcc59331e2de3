"""Capacity-aware planning: shift calendars, the forward scheduler and its dispatching rules."""
