"""Signing in and machine access: two-factor authentication (twofactor.py, gate.py) and named
API keys (keys.py). The portal's account pages and the API call these services."""
