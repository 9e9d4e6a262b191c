"""Benchmarks: speed and memory, reported as ratios against a baseline in the same run."""
