"""Holdout incrementality tests: setting one up, stopping it, and the per-arm counts its
report reads (tracking/models/holdouts.py explains the design)."""
