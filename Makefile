# LoanDesk — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
WEB := web
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev web-deps web-build lint typecheck pytest pytest-sqlite \
	pytest-postgres vitest e2e bench load clean help test-lanes sqlite-lane \
	postgres-lane

help:
	@echo "make run    install everything and serve LoanDesk at http://$(HOST):$(PORT)"
	@echo "make test   install everything and run every check (lint, types, unit, browser)"
	@echo "make bench  run the benchmarks (SCALE=small|10k|100k|1m)"
	@echo "make load   the officer's-day load test on PostgreSQL (SCALE USERS DURATION WORKERS)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps re-run an install step only when its inputs change.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public $(WEB)/index.html $(WEB)/vite.config.ts -type f 2>/dev/null)
$(WEB)/dist/index.html: $(WEB)/node_modules/.installed $(WEB_SOURCES)
	cd $(WEB) && npm run build --silent

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
web-deps: $(WEB)/node_modules/.installed
web-build: $(WEB)/dist/index.html

run: install web-build
	$(BIN)/loandesk migrate --noinput -v 0
	$(BIN)/loandesk seed-demo --if-empty
	@echo "Open http://$(HOST):$(PORT)  (demo accounts above; Ctrl-C stops)"
	$(BIN)/loandesk serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install-dev web-deps
	$(BIN)/mypy
	cd $(WEB) && npm run typecheck --silent

# Unit and integration tests on SQLite; again on PostgreSQL when DATABASE_URL points at one.
# `make pytest` runs both passes side by side (each with its own var dir for keys and files);
# each pass's output is printed as one block when it ends. The API fuzz test (a few minutes)
# runs in the PostgreSQL pass only: the production engine, and the stricter one about data
# (docs/api.md, "Fuzzing"; run it on SQLite by hand with `pytest tests/test_fuzz_api.py`).
# The PostgreSQL pass runs only the tests that use a database (LOANDESK_DATABASE_TESTS_ONLY,
# tests/conftest.py): the engine-independent half already ran in the SQLite pass, and so did
# the per-app authorization matrices (marker decided_in_python; the sweep covers PostgreSQL).
pytest-sqlite: install-dev
	env -u DATABASE_URL LOANDESK_VAR_DIR=$(CURDIR)/var/test-sqlite \
		$(BIN)/pytest tests --ignore=tests/e2e --ignore=tests/test_fuzz_api.py -p no:randomly

pytest-postgres: install-dev
	@if [[ "$${DATABASE_URL:-}" == postgres* ]]; then \
		echo "== pytest on PostgreSQL"; \
		LOANDESK_VAR_DIR=$(CURDIR)/var/test-postgres LOANDESK_DATABASE_TESTS_ONLY=1 \
			$(BIN)/pytest tests --ignore=tests/e2e; \
	else \
		echo "== DATABASE_URL is not PostgreSQL: PostgreSQL pass skipped"; \
	fi

pytest: install-dev
	@$(MAKE) --no-print-directory -j2 --output-sync=target pytest-sqlite pytest-postgres

vitest: web-deps
	cd $(WEB) && npm run test --silent

e2e: install-dev web-build
	env -u DATABASE_URL $(BIN)/pytest tests/e2e

# In `make test` two lanes share the 2 cores: the SQLite pass, then the Playwright tests (their
# server runs on SQLite); beside it ruff, mypy and vue-tsc, Vitest, then the PostgreSQL pass.
# Each lane stops at its first failure; `make test` fails if either lane does.
test-lanes: install-dev web-deps web-build
	@$(MAKE) --no-print-directory -j2 --output-sync=target sqlite-lane postgres-lane

sqlite-lane: pytest-sqlite
	@$(MAKE) --no-print-directory e2e

postgres-lane: lint typecheck
	@$(MAKE) --no-print-directory vitest
	@$(MAKE) --no-print-directory pytest-postgres

test: test-lanes
	@echo "All checks passed."

bench: install-dev
	$(BIN)/python -m bench $(if $(SCALE),--scale $(SCALE),)

# The officer's-day load test (docs/performance.md, "Load test"): a server on the kept PostgreSQL
# data set loandesk_bench_$(SCALE) (next to DATABASE_URL's database), locust headless, a table
# per endpoint and bench/results/load-<scale>-<time>.json.
# Defaults: SCALE=1m USERS=50 DURATION=300 (seconds) WORKERS=4 TASK_WORKERS=1.
load: install-dev web-build
	$(BIN)/python -m bench.load --scale $(or $(SCALE),1m) --users $(or $(USERS),50) \
		--duration $(or $(DURATION),300) --workers $(or $(WORKERS),4) \
		--task-workers $(or $(TASK_WORKERS),1) $(if $(filter 0,$(ANALYSIS)),--no-analysis,) \
		$(if $(filter 0,$(VACUUM)),--no-vacuum,)

clean:
	rm -rf $(VENV) $(WEB)/node_modules $(WEB)/dist var/static
