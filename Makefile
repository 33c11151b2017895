# Two commands for a newcomer: `make demo` and `make test`. Every install step lives here.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CSS := src/mutualise/core/static/mutualise/govuk.css
PYTEST_WORKERS ?= 2
# Tests that touch no database run once; everything else runs on SQLite and on PostgreSQL.
DB_FREE_TESTS := tests/pipeline tests/synth tests/security/test_fuzz_parsers.py \
  tests/security/test_hostile_files.py tests/core/test_csvsafe.py
# The browser journeys run once too (on SQLite): what they add to the client tests is the
# browser side (markup, axe, CSP, scripts), which no database changes; every view they cross is
# also driven by the test client on PostgreSQL. This keeps `make test` inside 15 minutes.
PG_SKIPPED_TESTS := $(DB_FREE_TESTS) tests/e2e

.PHONY: help demo test install assets chromium audit lint typecheck test-sqlite test-postgres bench clean

help:
	@echo "make demo   set everything up on SQLite + DuckDB and serve http://127.0.0.1:8000"
	@echo "make test   install what the tests need and run the whole suite on SQLite and PostgreSQL"

$(PY_STAMP): pyproject.toml requirements.lock src/mutualise/pipeline/_native.c
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test,spark]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CSS): $(NODE_STAMP) src/mutualise/core/scss/app.scss
	npx sass --quiet --load-path=node_modules --style=compressed --no-source-map \
	  src/mutualise/core/scss/app.scss $(CSS)

install: $(PY_STAMP)

assets: $(CSS)

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@command -v java >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

demo: install assets
	$(BIN)/mutualise demo

audit: install
	$(BIN)/python scripts/audit-dependencies.py

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src/mutualise

test-sqlite: install assets chromium
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not slow" -p no:cacheprovider tests

test-postgres: install assets chromium
	scripts/with-postgres.sh $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not slow and not spark" \
	  -p no:cacheprovider $(addprefix --ignore=,$(PG_SKIPPED_TESTS)) tests

test: lint audit test-sqlite test-postgres

bench: install
	@for script in bench/*.py; do \
	  case $$script in \
	    bench/webload.py) continue ;; \
	    bench/web.py|bench/load.py) runner=scripts/with-postgres.sh ;; \
	    *) runner= ;; \
	  esac; \
	  echo "== $$script"; $$runner $(BIN)/python $$script || exit 1; \
	done

clean:
	rm -rf var $(VENV) node_modules $(CSS) src/mutualise/pipeline/_native.*.so
