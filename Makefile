# The two commands of the quick start: `make run` and `make test`; `make check` is the
# developers' inner loop.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/obeya/web/static/vendor
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check install chromium lint types unit unit-postgres bench clean

$(STAMP): pyproject.toml scripts/fetch_vega.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	sh scripts/fetch_vega.sh $(VENDOR)
	touch $(STAMP)

install: $(STAMP)

# The Spark engine's packages (PySpark, Ibis's PySpark backend), for tests/spark: `make test`
# installs them; `make run` and `make check` do without.
SPARK_STAMP := $(VENV)/.spark
$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(SPARK_STAMP)

run: $(STAMP)
	$(BIN)/obeya init
	$(BIN)/obeya sample
	$(BIN)/obeya serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(STAMP)
	$(BIN)/mypy

# tests/browser drives Debian's Chromium (Playwright downloads no browser here). Installed
# once; a no-op when it is there. As root (CI) or through sudo.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; \
	  else echo "tests/browser needs /usr/bin/chromium: apt-get install chromium as root" >&2; exit 1; fi; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium; }

# The whole suite, first on the embedded defaults (SQLite store, DuckDB engine) ...
# tests/spark share one Spark session (a JVM) in one worker: the group keeps them together.
unit: $(STAMP) $(SPARK_STAMP) chromium
	$(BIN)/python -m pytest -n 2 -q --dist loadgroup

# ... then again with PostgreSQL as the app store and as the metrics engine. The browser
# journeys run once, above: they test what Chromium does with the pages (about a minute and a
# half), and tests/web already runs every page on PostgreSQL here. tests/spark too run once,
# above: Spark reads the events whatever the store.
unit-postgres: $(STAMP)
	OBEYA_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -n 2 -q --ignore=tests/browser -m "not spark"

test: lint types unit unit-postgres

# The inner loop, under three minutes: lint, types and the tests on SQLite and DuckDB, without
# the browser journeys, PostgreSQL (even if OBEYA_TEST_DATABASE_URL is set), Spark or the tests
# marked slow (whole real logs, twin hold-outs, many replications), which `make test` runs.
check: lint types
	OBEYA_TEST_DATABASE_URL= $(BIN)/python -m pytest -n 2 -q --ignore=tests/browser -m "not slow and not spark"

bench: $(STAMP)
	$(BIN)/python bench/flow.py

clean:
	rm -rf $(VENV) $(VENDOR) .pytest_cache .mypy_cache .ruff_cache
