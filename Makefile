# Two commands matter: `make demo` and `make test`. Both build .venv from requirements.lock first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit dashboard up lock clean bench bench-guard

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# Python 3.11's bundled pip (23.x) rejects the lock: it takes prefect's `sqlalchemy[asyncio]` for an
	# unpinned requirement. A pinned newer pip reads it as one resolution.
	$(BIN)/python -m pip install --quiet "pip==25.3"
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/overdue demo

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/overdue templates lint

typecheck: $(STAMP)
	$(BIN)/mypy

dashboard: $(STAMP)
	$(BIN)/overdue dashboard

# The whole stack on loopback: Prefect server + UI, the served deployments, the dashboard. Ctrl-C stops it.
up: $(STAMP)
	$(BIN)/overdue up

bench: $(STAMP)
	$(BIN)/python -m benchmarks demo --runs 3

bench-guard: $(STAMP)
	$(BIN)/python -m benchmarks guard --runs 5

# Re-resolve the lock after editing pyproject.toml (needs uv: `pip install uv`).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
