"""Incrementality: holdout tests' reports (lift with intervals, power, the sequential stopping
rule), Impact-style modelled incrementality, and the beat job that stops tests."""
