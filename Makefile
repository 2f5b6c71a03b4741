# Two commands on a fresh machine: `make run` (the whole offline stack) and `make test` (lint, types, template, tests).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck cfn-lint pytest bench fmt clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m devstack $(RUN_ARGS)

test: install lint typecheck cfn-lint pytest

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: install
	$(PY) -m mypy

cfn-lint: install
	$(VENV)/bin/cfn-lint template.yaml

pytest: install
	$(PY) -m pytest $(PYTEST_ARGS)

fmt: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: install
	$(PY) bench/bench_stack.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam .devstack
