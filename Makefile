# The README's two commands are `make run` and `make test`; both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BITDUST_HOME ?= $(HOME)/.bitdust
SANDBOX_DIR ?= $(HOME)/.bitdust-sandbox

.PHONY: install run engine test lint unit e2e automats openapi bench clean

install: $(STAMP)

$(STAMP): setup.cfg setup.py pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet --config-settings editable_mode=compat -e '.[test]'
	touch $(STAMP)

# A local network on loopback (identity servers, DHT seeds, three nodes); Ctrl-C stops it.
run: install
	$(PY) -m bitdust sandbox run --dir "$(SANDBOX_DIR)"

# One engine alone in the foreground on $(BITDUST_HOME).
engine: install
	$(PY) -m bitdust run --basedir "$(BITDUST_HOME)"

test: install openapi
	$(PY) -m ruff check bitdust tests twisted
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check bitdust tests twisted

unit: install
	$(PY) -m pytest -m "not e2e"

e2e: install
	$(PY) -m pytest -m e2e

automats: install
	$(PY) -m bitdust.automats.generator --sources automats --root .

openapi: install
	$(PY) -m bitdust.interface.openapi --output docs/openapi.json

bench: install
	$(PY) -m bitdust.bench all

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
