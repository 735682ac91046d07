# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench migrate seed clean axe

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# axe-core, for the browser tests' accessibility checks only (never served), pinned in
# package-lock.json; installed when missing or when the lock file changes.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package-lock.json
	npm ci --no-audit --no-fund
	touch $(AXE)

axe: $(AXE)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

# Code sets load once (about a minute on SQLite); later runs find them loaded and skip.
seed: migrate
	$(BIN)/python manage.py load_codesets
	$(BIN)/python manage.py seed_demo

run: seed
	$(BIN)/python manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) $(AXE)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest

# girth is installed for the calibration comparison only; the app never imports it.
# The database benchmarks run on the local PostgreSQL unless DATABASE_URL says otherwise
# (each creates and drops its own throwaway database).
BENCH_DB ?= postgres://postgres@127.0.0.1:5432/ccs_bench
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps "girth==0.8.0"
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DB)} $(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache node_modules
