"""The gateway as a Sparkplug B host application: births, aliases, seq, rebirths, events."""
