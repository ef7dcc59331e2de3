"""Built-in scenario files (YAML), loaded by name: `shopfloor demo --scenario demo`."""
