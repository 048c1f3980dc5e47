"""python manage.py seed_demo: build the demo network (idempotent) and print its logins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from affiliates import demo


class Command(BaseCommand):
    help = "Create the demo network: advertisers, offers, publishers, accesses and logins. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        network = demo.seed()
        verb = f"created {network.created} rows" if network.created else "already complete, nothing changed"
        self.stdout.write(f"Demo network {verb}.")
        self.stdout.write(demo.credentials_text(network))
