"""Holdout test pages for advertisers (their offers) and staff (every offer)."""
