# The README's two commands are `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# affnet runs on Python 3.11 (requires-python in pyproject.toml; the README says so too).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# uv installs exactly what uv.lock pins; it is bootstrapped with pip, pinned, outside the venv
# (`uv sync` removes from the venv whatever the lock does not list).
UV_VERSION := 0.13.9
UV_DIR ?= .uv
UV := $(UV_DIR)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
# The tests' PostgreSQL and Redis (.ci/services starts throwaway ones when these do not answer).
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/affnet
REDIS_TEST_URL ?= redis://127.0.0.1:6379/1
export PG_TEST_URL REDIS_TEST_URL
# The demo (`make run`) has DEBUG on and published passwords: loopback only unless told otherwise.
HOST ?= 127.0.0.1
PORT ?= 8000
# The app server's one entry point (tracking/clickpath/edge.py behind config/asgi.py): clicks,
# impressions and postbacks on its event loop, everything else to Django in WEB_THREADS threads.
# `make run` and `make serve` both run it on granian's RSGI interface on uvloop; tests drive its
# ASGI interface in-process (conftest.py's `edge`).
GRANIAN := $(VENV)/bin/granian --interface rsgi --loop uvloop --port $(PORT)
VAR_DIR ?= var
# Python keeps compiled modules (.pyc): without them every process (each pytest-xdist worker, each
# server, worker or manage.py a test starts) compiles Django and the project again, about 1-2 s of
# CPU each; the venv's packages are compiled once, at install (UV_COMPILE_BYTECODE). Some
# machines set PYTHONDONTWRITEBYTECODE for everything: not for what this Makefile runs.
unexport PYTHONDONTWRITEBYTECODE
export UV_COMPILE_BYTECODE := 1

.PHONY: install lock lock-upgrade run test test-sqlite test-postgres services lint serve worker bench fuzz fuzz-ci clean

UV_STAMP := $(UV_DIR)/.uv-$(UV_VERSION)
$(UV_STAMP):
	@$(PYTHON) -m pip --version >/dev/null 2>&1 || { echo "make install needs pip for $(PYTHON)" >&2; exit 1; }
	rm -rf $(UV_DIR)
	$(PYTHON) -m pip install -q --target $(UV_DIR) uv==$(UV_VERSION) || { rm -rf $(UV_DIR); exit 1; }
	touch $@

# The Python is checked before anything is installed, and a failed install removes the venv, so
# no later run reuses a half-built one (or one built by another Python).
$(VENV)/.installed: pyproject.toml uv.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	  echo "affnet needs Python 3.11; PYTHON=$(PYTHON) is $$($(PYTHON) -V 2>&1)." >&2; \
	  echo "Install python3.11, or point PYTHON= at one: make install PYTHON=/path/to/python3.11" >&2; \
	  rm -rf $(VENV); exit 1; }
	@$(MAKE) --no-print-directory $(UV_STAMP) || { rm -rf $(VENV); exit 1; }
	$(UV) sync --locked --extra dev --python $(PYTHON) || { rm -rf $(VENV); exit 1; }
	touch $@

install: $(VENV)/.installed

# After editing pyproject.toml's dependencies: pins what changed, keeps every other pin.
lock: | $(UV_STAMP)
	$(UV) lock --python $(PYTHON)

# Every dependency to its newest allowed release (then run make test and make lint).
lock-upgrade: | $(UV_STAMP)
	$(UV) lock --upgrade --python $(PYTHON)

# Embedded default: SQLite, a Celery worker with beat on kombu's filesystem transport, and the
# same app server and edge as `make serve`, reloading on code changes, on $(HOST) (127.0.0.1:
# the demo has DEBUG on and published passwords; HOST=0.0.0.0 to expose it).
# Tracking links point at the served port unless SITE_URL says otherwise.
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@trap 'kill 0' EXIT; \
	$(VENV)/bin/celery -A config worker --beat --pool=solo --loglevel=WARNING & \
	DJANGO_SETTINGS_MODULE=config.settings.base $(GRANIAN) --host $(HOST) --workers 1 \
	  --reload --reload-paths affiliates --reload-paths tracking --reload-paths payouts \
	  --reload-paths config config.asgi:application

# PostgreSQL and Redis for the tests: the ones at PG_TEST_URL / REDIS_TEST_URL when they answer,
# throwaway ones on spare ports otherwise (`bash .ci/services stop` stops those).
services:
	bash .ci/services

# pytest exits 5 when a selection (PYTEST_ARGS) collects no tests: not a failure here.
# The order is shuffled (pytest-randomly): PYTEST_SEED=<n> repeats a run's order.
# --dist loadgroup keeps a module that shares seeded data (xdist_group) on one worker.
PYTEST := $(PY) -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS) || test $$? -eq 5

test-sqlite: install
	env -u DATABASE_URL -u REDIS_URL $(PYTEST)

test-postgres: install
	@set -euo pipefail; services=$$(bash .ci/services); eval "$$services"; \
	echo "PostgreSQL leg: $$PG_TEST_URL, $$REDIS_TEST_URL"; \
	DATABASE_URL=$$PG_TEST_URL REDIS_URL=$$REDIS_TEST_URL $(PYTEST)

# Both legs run even when the first fails; the exit status says whether either did.
test: install
	@rc=0; \
	AFFNET_ONCE_ON_POSTGRES=1 $(MAKE) --no-print-directory test-sqlite || rc=1; \
	$(MAKE) --no-print-directory test-postgres || rc=1; \
	exit $$rc

# Schemathesis against /api/schema/ as staff, advertiser and publisher (tests/fuzz): no 5xx, no
# answer outside the schema, every error documented. fuzz-ci is .ci/run's bounded leg (a few random
# examples per operation, on PostgreSQL + Redis); make fuzz the full run: 100 examples per
# operation per role, the coverage and stateful phases too, on the full demo network (SQLite
# unless DATABASE_URL is set). Both print each role's operations, requests and failures.
# One test per role: fuzz runs them side by side (-n 3, a test database each); fuzz-ci, whose
# requests are few, one after the other on one database (three migrations would cost more),
# seeded once and copied for each later role (PostgreSQL's CREATE DATABASE ... TEMPLATE: three
# seedings took most of the leg).
FUZZ_PYTEST := $(PY) -m pytest -q -rP --show-capture=stdout -p no:randomly tests/fuzz

fuzz-ci: install
	@set -euo pipefail; services=$$(bash .ci/services); eval "$$services"; \
	DATABASE_URL=$$PG_TEST_URL REDIS_URL=$$REDIS_TEST_URL FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-2} FUZZ_DAYS=2 \
	  FUZZ_PHASES=examples,fuzzing $(FUZZ_PYTEST) -n 0

# The full run reports as it goes in FUZZ_LOG (each failure when found, counts every 500 requests).
fuzz: install
	@mkdir -p $(VAR_DIR); echo "make fuzz: progress in $${FUZZ_LOG:-$(VAR_DIR)/fuzz.log}"
	FUZZ_LOG=$${FUZZ_LOG:-$(VAR_DIR)/fuzz.log} FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} \
	  FUZZ_PHASES=$${FUZZ_PHASES:-examples,coverage,fuzzing,stateful} $(FUZZ_PYTEST) -n 3

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py makemigrations --check --dry-run

# Production: needs DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS. The same edge as
# `make run` (clicks: tracking/clickpath/edge.py; postbacks: tracking/conversions/route.py), one
# worker per CPU; measured by bench/bench_clicks.py and bench/bench_postbacks.py (BENCHMARKS.md).
# A worker that dies (a crash, the OOM killer) is started again by granian
# (--respawn-failed-workers); the others keep serving meanwhile.
#
# Connections (issue 13): granian holds one backpressure slot per open connection, idle or not,
# so its default (backlog / workers = 1,024) let 1,024 held sockets lock every new client out.
# Here each worker takes up to WEB_BACKPRESSURE connections (the open-files limit is raised to
# the hard limit for them), and a connection that has not sent a whole request head within
# WEB_HEADER_TIMEOUT_MS (idle keep-alive, a slow client, a socket that never sends) is closed.
# HTTP/1 only: granian's HTTP/1-or-2 detection reads the first bytes with no timeout, so a
# socket that never sends would be held forever (TLS and HTTP/2 end at the reverse proxy in
# front: config/deploy/nginx.conf). tracking/tests/clickpath/test_served_connections.py runs
# this recipe and proves it.
SERVE_HOST ?= 0.0.0.0
WEB_BACKLOG ?= 4096
WEB_BACKPRESSURE ?= 8192
WEB_HEADER_TIMEOUT_MS ?= 5000
serve: install
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py collectstatic --noinput -v0
	ulimit -n "$$(ulimit -Hn)" 2>/dev/null || true; \
	[ "$$(ulimit -n)" = unlimited ] || [ "$$(ulimit -n)" -gt $(WEB_BACKPRESSURE) ] || echo "make serve: \
	  the open-files limit ($$(ulimit -n)) is below WEB_BACKPRESSURE ($(WEB_BACKPRESSURE))" >&2; \
	DJANGO_SETTINGS_MODULE=config.settings.production exec $(GRANIAN) --host $(SERVE_HOST) \
	  --http 1 --backlog $(WEB_BACKLOG) --backpressure $(WEB_BACKPRESSURE) \
	  --http1-header-read-timeout $(WEB_HEADER_TIMEOUT_MS) \
	  --workers $${WEB_WORKERS:-$$(nproc)} --respawn-failed-workers config.asgi:application

# `make worker` supervises its three children, the click consumer, a Celery worker and beat: each
# runs in its own restart loop, so one that exits (a crash, the OOM killer) is started again after
# WORKER_RESTART_DELAY seconds while the others keep running. Ctrl-C or SIGTERM to make stops them
# all. Beat keeps its schedule in VAR_DIR (CELERY_BEAT_SCHEDULE_FILENAME). They run at lower CPU
# priority than the app server (WORKER_NICE): their work can wait a moment, a click cannot.
# CELERY_CONCURRENCY defaults to 1 so the periodic work takes at most one core beside the app
# server on a shared machine; raise it on machines that only run workers (reconciliation scales
# with it). make bench runs this same topology (bench/harness.py, Topology). Under systemd or
# Kubernetes, run the three commands as separate units and let the supervisor restart them.
WORKER_RESTART_DELAY ?= 2
WORKER_NICE ?= 10
supervise = while :; do nice -n $(WORKER_NICE) $(2); echo "make worker: $(1) exited with status $$?; \
  restarting in $(WORKER_RESTART_DELAY) s" >&2; sleep $(WORKER_RESTART_DELAY); done

worker: export DJANGO_SETTINGS_MODULE := config.settings.production
worker: export VAR_DIR := $(VAR_DIR)
worker: install
	@trap 'kill 0' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(call supervise,consume_clicks,$(PY) manage.py consume_clicks) & \
	$(call supervise,celery worker,$(VENV)/bin/celery -A config worker \
	  --concurrency=$${CELERY_CONCURRENCY:-1} --loglevel=$${CELERY_LOG_LEVEL:-INFO}) & \
	$(call supervise,celery beat,$(VENV)/bin/celery -A config beat --loglevel=$${CELERY_LOG_LEVEL:-INFO}) & \
	wait

# The load generator comes from apt (Debian/Ubuntu) when it is missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench: install services
	command -v wrk >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk)
	$(PY) -m bench

# Resets the demo: the next `make run` migrates and seeds a fresh database. VAR_DIR as in settings.
clean:
	rm -rf $(VAR_DIR)/*.sqlite3* $(VAR_DIR)/celery $(VAR_DIR)/celerybeat-schedule* $(VAR_DIR)/spool \
	  $(VAR_DIR)/media
