"""Benchmarks: each runs side by side against a baseline and prints the ratio."""
