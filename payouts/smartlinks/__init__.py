"""Smart links' optimiser: the per-path rollup it reads (rollup.py), the bandit (optimiser.py),
the run that applies it and stores its inputs (services.py), and the beat task (tasks.py)."""
