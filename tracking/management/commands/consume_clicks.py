"""``python manage.py consume_clicks``: write clicks and impressions from Redis to the database.

Run one or more (``make worker`` runs one). ``--once`` drains what is there and exits;
``--spool-only`` replays the local spool without Redis (embedded mode, or after an outage).
``--spool-only --drained-host NAME`` replays a spool copied from a host that is gone
(CLICK_SPOOL_DIR pointed at the copy) and, once it is empty, clears that host's entry in Redis
(postbacks answer 503 rather than unknown_click while any host's spool waits).
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracking.clickpath import redis_conn, spool, writer
from tracking.clickpath.consumer import Consumer
from tracking.clickpath.store import spooled_key


class Command(BaseCommand):
    help = "Batch-write clicks and impressions from the Redis stream (and the spool) to the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Drain what is queued, then exit.")
        parser.add_argument("--spool-only", action="store_true", help="Replay the local spool only.")
        parser.add_argument("--name", default=None, help="Consumer name (default host-pid).")
        parser.add_argument("--batch", type=int, default=None, help="About this many clicks per transaction.")
        parser.add_argument(
            "--drained-host", default=None, help="With --spool-only: the gone host whose spool this is."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("tracking").setLevel(logging.INFO)
        if options["spool_only"]:
            self.stdout.write(f"replayed {writer.spool_replay()} spooled records")
            host = options["drained_host"]
            if host and settings.REDIS_URL and not spool.pending():
                redis_conn.client_always().hdel(spooled_key(), host)
                self.stdout.write(f"the spool of {host} is drained")
            return
        if not settings.REDIS_URL:
            raise CommandError("No REDIS_URL: clicks are written directly; use --spool-only to replay.")
        # SIGTERM ends the loop between batches; anything unacknowledged is claimed again.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        consumer = Consumer(name=options["name"], batch=options["batch"])
        consumer.run(once=options["once"])
        self.stdout.write(f"wrote {consumer.written} records")
