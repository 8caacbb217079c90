# Single entry point. `make demo` and `make test` each install everything on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
HOME_DIR ?= $(CURDIR)/.numerai_assets
export NUMERAI_ASSETS_HOME ?= $(HOME_DIR)
export DAGSTER_HOME ?= $(HOME_DIR)/dagster_home
export GX_ANALYTICS_ENABLED := false
export WANDB_SILENT := true
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: install debian-packages demo lint test ui tournament validate benchmark-contracts clean

$(VENV)/.installed: setup.py pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## The main job on the embedded default (local tournament, no credentials, no network).
demo: install
	$(PY) -m numerai_assets demo

LINTED := numerai_assets numerai_assets_tests benchmarks

## ruff (lint, then format check) and mypy (paths and strictness in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy

## PostgreSQL, Redis and iproute2 for the deployment tests (Debian packages, installed where missing).
debian-packages:
	bash .ci/debian-packages.sh

## The lint checks, then the test suite.
test: lint debian-packages
	$(PY) -m pytest numerai_assets_tests

## Dagster UI + daemon on 127.0.0.1:3000 with the local tournament on 127.0.0.1:8765.
ui: install
	$(PY) -m numerai_assets ui

validate: install
	$(VENV)/bin/dagster definitions validate -m numerai_assets.definitions

benchmark-contracts: install
	$(PY) benchmarks/contracts_benchmark.py --scale full --naive-columns 400

clean:
	rm -rf $(HOME_DIR)
