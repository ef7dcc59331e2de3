"""The order-progress tracker: machine events -> order operations -> progress, ETA, alerts."""
