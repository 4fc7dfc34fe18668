# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/obeya/web/static/vendor
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint types unit unit-postgres bench clean

$(STAMP): pyproject.toml scripts/fetch_vega.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	sh scripts/fetch_vega.sh $(VENDOR)
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/obeya init
	$(BIN)/obeya sample
	$(BIN)/obeya serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(STAMP)
	$(BIN)/mypy

# The whole suite, first on the embedded defaults (SQLite store, DuckDB engine) ...
unit: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# ... then again with PostgreSQL as the app store and as the metrics engine.
unit-postgres: $(STAMP)
	OBEYA_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -n 2 -q

test: lint types unit unit-postgres

bench: $(STAMP)
	$(BIN)/python bench/flow.py

clean:
	rm -rf $(VENV) $(VENDOR) .pytest_cache .mypy_cache .ruff_cache
