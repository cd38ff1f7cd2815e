"""Benchmarks and the SWE-bench-style harness (imported as `mimo_agent.evals`)."""
