"""What every app needs and nothing above it owns: money, domain errors, admin and database helpers.

It sits at the bottom of the import graph (see the README's architecture section), so it imports
Django and the standard library only, never an app.
"""
