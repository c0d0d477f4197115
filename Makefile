# Every target creates or reuses the virtual environment first, so a fresh clone needs only `make demo`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export RENDERFARM_DATA_DIR ?= $(CURDIR)/renderfarm-data

.PHONY: venv demo dev test lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# An empty dagster.yaml: the defaults (SQLite under DAGSTER_HOME), without Dagster's warning.
$(DAGSTER_HOME):
	mkdir -p $(DAGSTER_HOME)
	touch $(DAGSTER_HOME)/dagster.yaml

demo: venv $(DAGSTER_HOME)
	$(BIN)/renderfarm demo

dev: venv $(DAGSTER_HOME)
	$(BIN)/dagster dev -w workspace.yaml

test: venv lint
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .dagster_home renderfarm-data .pytest_cache .ruff_cache
