"""A real Celery worker, over Redis and PostgreSQL, delivers a fired postback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import current_app as app
from django.conf import settings as django_settings

from affiliates.models import Publisher
from payouts.callbacks.services import callbacks_fire
from payouts.models.callbacks import CallbackDelivery
from payouts.tests.callback_server import Recorder, local_server
from payouts.tests.factories_callbacks import CallbackEndpointFactory, ConversionFactory
from payouts.tests.factories_payouts import CommissionFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[bytes]]:
    db = django_settings.DATABASES["default"]
    login = f"{db['USER']}:{db['PASSWORD']}" if db.get("PASSWORD") else db["USER"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # The worker must read the test database this test writes to.
        "DATABASE_URL": f"postgres://{login}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "POSTBACK_ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/32",
    }
    celery = Path(sys.executable).with_name("celery")
    proc = subprocess.Popen(
        [str(celery), "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING", "--without-gossip"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def broker_not_eager() -> Iterator[None]:
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = True


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_fired_postback(
    settings: Any, pixelpush: Publisher, worker: Any, broker_not_eager: None
) -> None:
    settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    with local_server() as server:
        CallbackEndpointFactory(publisher=pixelpush, url=server.base_url + "/pb?c={click_id}&s={status}")
        commission = CommissionFactory(conversion=ConversionFactory(publisher=pixelpush))

        callbacks_fire(commission_ids=[commission.pk], event="created")

        _wait_for(server, worker)
        [hit] = server.hits
        assert hit.query["c"] == [commission.conversion.click_id.hex]
        assert hit.query["s"] == ["pending"]
        delivery = CallbackDelivery.objects.get()
        for _ in range(50):
            delivery.refresh_from_db()
            if delivery.status == CallbackDelivery.Status.DELIVERED:
                break
            time.sleep(0.1)
        assert delivery.status == CallbackDelivery.Status.DELIVERED
        assert delivery.attempts.get().ok


def _wait_for(server: Recorder, worker: Any) -> None:
    deadline = time.monotonic() + 60
    while not server.hits and time.monotonic() < deadline:
        assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
        time.sleep(0.2)
