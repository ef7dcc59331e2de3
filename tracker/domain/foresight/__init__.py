"""Foresight: how likely each open order is to finish by its due date, from the plan and what
is known of each machine's failures, repairs and cycle spread (Monte Carlo, seeded)."""
