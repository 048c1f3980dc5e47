"""Smart links: creating and editing them, who may see them, their per-path numbers.

The click side is tracking/clickpath/smart.py; the optimiser and the rollup it reads are in
payouts/smartlinks/ (they need commissions' revenue and payout)."""
