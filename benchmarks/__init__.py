"""Benchmarks: our engine side by side with its peers on the same data (not timed tests)."""
