"""Tags to the contract's machine events: one declared mapping for every kind of input."""
