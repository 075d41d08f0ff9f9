# The two commands: `make run` (the whole system) and `make test` (everything CI checks).
# Both set up the virtual environment themselves on a machine with only Python 3.11+.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test lint typecheck pytest schemathesis format record-histories bench bench-scale register-search-attributes clean migration soak reconcile

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	@touch $(STAMP)

# The sandbox re-imports workflow modules for every workflow it starts: with their bytecode
# compiled here (as pip does for installed packages) they are not compiled again each time,
# even where PYTHONDONTWRITEBYTECODE is set.
# (bench/workflow_bench.py compiles what it measures itself.)
COMPILE_WORKFLOWS = $(BIN)/python -m compileall -q workflows

run: $(STAMP)
	@$(COMPILE_WORKFLOWS)
	$(BIN)/python launcher.py

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

pytest: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

# Rewrites the code in the project's style and fixes what ruff can fix by itself.
format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Records the saved workflow histories the replay tests read (after a change to workflow code,
# keep the old ones: they are what running workflows replay).
record-histories: $(STAMP)
	$(BIN)/python scripts/record_histories.py

# The API against its own OpenAPI with every schemathesis check (also part of `make test`);
# SCHEMATHESIS_MAX_EXAMPLES and SCHEMATHESIS_SEED widen or vary the run.
schemathesis: $(STAMP)
	SCHEMATHESIS_MAX_EXAMPLES=100 $(BIN)/pytest -q -k schemathesis

# Every benchmark but the scale one, which takes about half an hour: `make bench-scale`.
bench: $(STAMP)
	@for b in bench/*_bench.py; do \
	  [ "$$b" = bench/scale_bench.py ] && continue; \
	  echo "== $$b"; $(BIN)/python $$b || exit 1; done

# A province's scale (20,000 open applications by default; docs/operations.md); SCALE_ARGS
# passes options (`make bench-scale SCALE_ARGS="--n 2000"`).
SCALE_ARGS ?=
bench-scale: $(STAMP)
	$(BIN)/python bench/scale_bench.py $(SCALE_ARGS)

# For an external cluster (TEMPORAL_ADDRESS set): the embedded server registers them itself.
register-search-attributes: $(STAMP)
	$(BIN)/python -m core.search_attributes_cli

# The chaos test (part of `make test`) for longer: more applications, more killed workers.
SOAK_APPS ?= 150
SOAK_WORKER_KILLS ?= 20
soak: $(STAMP)
	CHAOS_APPS=$(SOAK_APPS) CHAOS_WORKER_KILLS=$(SOAK_WORKER_KILLS) $(BIN)/pytest -q -s -k chaos

# The read model compared with the workflows, drifted rows repaired (docs/operations.md).
reconcile: $(STAMP)
	$(BIN)/python -m readmodel.reconcile

# A new schema revision from the models: `make migration m="what changed"` (docs/operations.md).
migration: $(STAMP)
	@test -n "$(m)" || { echo 'usage: make migration m="what changed"'; exit 2; }
	@scratch=$$(mktemp -d) && \
	  DATABASE_URL=sqlite:///$$scratch/head.db $(BIN)/alembic upgrade head && \
	  DATABASE_URL=sqlite:///$$scratch/head.db $(BIN)/alembic revision --autogenerate -m "$(m)"; \
	  status=$$?; rm -rf $$scratch; exit $$status

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
