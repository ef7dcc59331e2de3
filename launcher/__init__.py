"""launcher: the `shopfloor` command, the demo, the embedded broker and the benchmarks.

It sits on top of the house: it imports tracker, gateway, device_sim and shopfloor; nothing
imports it.
"""
