# The README's two commands are `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/affnet
REDIS_TEST_URL ?= redis://127.0.0.1:6379/1
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test test-sqlite test-postgres services lint serve worker bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Embedded default: SQLite, a Celery worker with beat on kombu's filesystem transport, runserver.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@trap 'kill 0' EXIT; \
	$(VENV)/bin/celery -A config worker --beat --pool=solo --loglevel=WARNING \
	  --schedule=var/celerybeat-schedule & \
	$(PY) manage.py runserver 0.0.0.0:$(PORT)

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

# Production: needs DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS.
# granian's RSGI interface on uvloop: clicks and postbacks on the event loop
# (tracking/clickpath/asgi.py, tracking/conversions/asgi.py), the rest in WEB_THREADS threads per
# worker; measured by bench/bench_clicks.py and bench/bench_postbacks.py (BENCHMARKS.md).
# config.asgi:application is a plain ASGI app too (--interface asgi, or any ASGI server).
serve: install
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py collectstatic --noinput -v0
	DJANGO_SETTINGS_MODULE=config.settings.production $(VENV)/bin/granian --interface rsgi \
	  --loop uvloop --host 0.0.0.0 --port $(PORT) --workers $${WEB_WORKERS:-$$(nproc)} \
	  config.asgi:application

# The click consumer, a Celery worker and beat, at lower CPU priority than the app server
# (WORKER_NICE): their work can wait a moment, a click cannot. CELERY_CONCURRENCY defaults to 1
# so the periodic work takes at most one core beside the app server on a shared machine; raise
# it on machines that only run workers (reconciliation scales with it). make bench runs this
# same target (bench/harness.py, Topology).
WORKER_NICE ?= 10
worker: install
	@trap 'kill 0' EXIT; \
	export DJANGO_SETTINGS_MODULE=config.settings.production; \
	nice -n $(WORKER_NICE) $(VENV)/bin/celery -A config worker \
	  --concurrency=$${CELERY_CONCURRENCY:-1} --loglevel=$${CELERY_LOG_LEVEL:-INFO} & \
	nice -n $(WORKER_NICE) $(VENV)/bin/celery -A config beat \
	  --loglevel=$${CELERY_LOG_LEVEL:-INFO} --schedule=var/celerybeat-schedule & \
	nice -n $(WORKER_NICE) $(PY) manage.py consume_clicks & \
	wait

# The load generator comes from apt (Debian/Ubuntu) when it is missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench: install services
	command -v wrk >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk)
	$(PY) -m bench

clean:
	rm -rf var/*.sqlite3* var/celery
