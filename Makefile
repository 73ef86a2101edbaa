# Two commands matter:  `make run` (server on SQLite with demo data) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install lint bench bench-peer schema clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install  ## Start the server on SQLite (.mutual/mutual.db) with demo data.
	$(BIN)/mutual serve --demo

test: install  ## The whole suite: lint, types of imports, tests on SQLite and PostgreSQL.
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check api schema crm tests bench
	$(BIN)/ruff format --check api schema crm tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy api schema crm

schema: install  ## Regenerate schema/schema.graphql after changing the API.
	$(BIN)/mutual schema --output schema/schema.graphql

bench: install  ## Benchmarks against PostgreSQL (see bench/README.md).
	$(BIN)/python -m bench

bench-peer: install  ## The same, side by side with PostGraphile 5 (installs it once with npm).
	$(BIN)/python -m bench --peer postgraphile

clean:
	rm -rf $(VENV) .mutual
