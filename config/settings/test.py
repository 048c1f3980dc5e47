"""Test settings: base, with fast hashing and Celery run in-process.

Without DATABASE_URL the suite runs on SQLite; with DATABASE_URL and REDIS_URL it runs on
real PostgreSQL and Redis (make test does both).
"""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, REDIS_URL, VAR_DIR, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks enqueued on commit run in-process; one integration test starts a real worker instead.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "test-celerybeat-schedule")
# Each pytest-xdist worker, and the real Celery workers its tests start (they inherit
# PYTEST_XDIST_WORKER), sends to and reads from its own queue: two real workers on one Redis
# would otherwise take each other's tasks, against the other test database.
CELERY_TASK_DEFAULT_QUEUE = f"celery-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
# Tests create events at the instant they refresh the rollups: no lag before they count.
REPORTS_TRAFFIC_LAG_SECONDS = 0
if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="affnet-test")
LOGGING = {"version": 1, "disable_existing_loggers": False}
