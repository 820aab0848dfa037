# The project's two commands: `make run` and `make test`. Nothing else is needed on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.stamp-run
DEV_STAMP := $(VENV)/.stamp-dev

.PHONY: run test lint typecheck layers unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(RUN_STAMP)

## run: start the control plane on the embedded sandbox with a 25-tenant demo fleet
run: $(RUN_STAMP)
	$(BIN)/stockade up --sandbox --demo 25

## test: lint, type-check, check the layer contracts, then run the whole suite
test: lint typecheck layers unit

lint: $(DEV_STAMP)
	$(BIN)/ruff check stockade tests bench
	$(BIN)/ruff format --check stockade tests bench

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

layers: $(DEV_STAMP)
	$(BIN)/lint-imports

unit: $(DEV_STAMP)
	bash scripts/ensure-postgres
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: $(RUN_STAMP)
	$(BIN)/python bench/onboard.py --tenants 50

clean:
	rm -rf $(VENV) .stockade .mypy_cache .ruff_cache .pytest_cache
