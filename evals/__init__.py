"""Evals: grounding benchmarks, reports and performance benchmarks (a CLI plugin)."""
