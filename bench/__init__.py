"""Benchmarks: one command each, run against the sandbox Drive over real HTTP."""
