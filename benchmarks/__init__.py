"""Benchmarks for newswatch: run them with ``python -m benchmarks.match_bench``."""
