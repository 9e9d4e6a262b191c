"""Deterministic sample returns of Thanh Hóa (2023-2025) for tests, demos and benchmarks."""
