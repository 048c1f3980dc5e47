# The README's two commands are `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/affnet
REDIS_TEST_URL ?= redis://127.0.0.1:6379/1
PORT ?= 8000
HOST ?= 127.0.0.1
# The app server's one entry point (tracking/clickpath/edge.py behind config/asgi.py): clicks,
# impressions and postbacks on its event loop, everything else to Django in WEB_THREADS threads.
# `make run` and `make serve` both run it on granian's RSGI interface on uvloop; tests drive its
# ASGI interface in-process (conftest.py's `edge`).
GRANIAN := $(VENV)/bin/granian --interface rsgi --loop uvloop --port $(PORT)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test test-sqlite test-postgres services lint serve worker bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Embedded default: SQLite, a Celery worker with beat on kombu's filesystem transport, and the
# same app server and edge as `make serve`, reloading on code changes, on $(HOST) (127.0.0.1:
# the demo has DEBUG on and published passwords; HOST=0.0.0.0 to expose it).
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@trap 'kill 0' EXIT; \
	$(VENV)/bin/celery -A config worker --beat --pool=solo --loglevel=WARNING \
	  --schedule=var/celerybeat-schedule & \
	DJANGO_SETTINGS_MODULE=config.settings.base $(GRANIAN) --host $(HOST) --workers 1 \
	  --reload --reload-paths affiliates --reload-paths tracking --reload-paths payouts \
	  --reload-paths config config.asgi:application

services:
	bash .ci/services

# pytest exits 5 when a selection (PYTEST_ARGS) collects no tests: not a failure here.
PYTEST := $(PY) -m pytest -q -n 2 $(PYTEST_ARGS) || test $$? -eq 5

test-sqlite: install
	env -u DATABASE_URL -u REDIS_URL $(PYTEST)

test-postgres: install services
	DATABASE_URL=$(PG_TEST_URL) REDIS_URL=$(REDIS_TEST_URL) $(PYTEST)

test: test-sqlite test-postgres

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py makemigrations --check --dry-run

# Production: needs DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS. The same edge as
# `make run` (clicks: tracking/clickpath/edge.py; postbacks: tracking/conversions/route.py), one
# worker per CPU; measured by bench/bench_clicks.py and bench/bench_postbacks.py (BENCHMARKS.md).
serve: install
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py collectstatic --noinput -v0
	DJANGO_SETTINGS_MODULE=config.settings.production $(GRANIAN) --host 0.0.0.0 \
	  --workers $${WEB_WORKERS:-$$(nproc)} config.asgi:application

worker: install
	@trap 'kill 0' EXIT; \
	DJANGO_SETTINGS_MODULE=config.settings.production $(VENV)/bin/celery -A config worker \
	  --concurrency=$${CELERY_CONCURRENCY:-$$(nproc)} --loglevel=INFO & \
	DJANGO_SETTINGS_MODULE=config.settings.production $(VENV)/bin/celery -A config beat \
	  --loglevel=INFO --schedule=var/celerybeat-schedule & \
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py consume_clicks & \
	wait

bench: install services
	$(PY) -m bench

clean:
	rm -rf var/*.sqlite3* var/celery
