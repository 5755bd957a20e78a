# The README's two commands are `make run` and `make test`; both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BITDUST_HOME ?= $(HOME)/.bitdust
SANDBOX_DIR ?= $(HOME)/.bitdust-sandbox
# the network of `make run`: two identity servers, three DHT seeds, four suppliers and your node, a
# customer that hires all four before "ready"; another one with e.g.
# SANDBOX_ARGS="--nodes 1 --id-servers 1 --dht-seeds 1 --suppliers 2"
SANDBOX_ARGS ?= --id-servers 2 --dht-seeds 3 --suppliers 4 --suppliers-number 4 --nodes 1
# `make install-user`: a venv of its own under USER_PREFIX/share/bitdust and the command linked as
# USER_PREFIX/bin/bitdust, where deploy/bitdust.service runs it. USER_SOURCE may also be a wheel.
USER_PREFIX ?= $(HOME)/.local
USER_VENV = $(USER_PREFIX)/share/bitdust/venv
USER_SOURCE ?= .
USER_PIP_FLAGS ?=

.PHONY: install install-user run engine test lint unit e2e automats automats-coverage openapi bench clean

install: $(STAMP)

$(STAMP): setup.cfg setup.py pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet --config-settings editable_mode=compat -e '.[test]'
	touch $(STAMP)

# Not editable and outside the checkout: what the systemd unit and a user's PATH use.
install-user:
	test -x "$(USER_VENV)/bin/python" || $(PYTHON) -m venv "$(USER_VENV)"
	"$(USER_VENV)/bin/python" -m pip install --quiet $(USER_PIP_FLAGS) "$(USER_SOURCE)"
	mkdir -p "$(USER_PREFIX)/bin"
	ln -sfn "$(USER_VENV)/bin/bitdust" "$(USER_PREFIX)/bin/bitdust"
	@echo "installed $(USER_PREFIX)/bin/bitdust"

# A local network on loopback (identity servers, DHT seeds, three nodes); Ctrl-C or SIGTERM stops it.
# `exec`: the runner replaces the shell, so a SIGTERM that make passes on reaches the runner itself.
run: install
	exec $(PY) -m bitdust sandbox run --dir "$(SANDBOX_DIR)" $(SANDBOX_ARGS)

# One engine alone in the foreground on $(BITDUST_HOME).
engine: install
	$(PY) -m bitdust run --basedir "$(BITDUST_HOME)"

# ruff, then mypy over the whole package (pyproject.toml's [tool.mypy]), then every test.
test: install openapi
	$(PY) -m ruff check bitdust tests twisted
	$(PY) -m mypy
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check bitdust tests twisted
	$(PY) -m mypy

unit: install
	$(PY) -m pytest -m "not e2e"

e2e: install
	$(PY) -m pytest -m e2e

automats: install
	$(PY) -m bitdust.automats.generator --sources automats --root .

# Per machine: the edges of automats/*.md the unit tests take, and the untaken ones named.
automats-coverage: install
	$(PY) -m pytest -m "not e2e" -q -p no:cacheprovider --automats-coverage

openapi: install
	$(PY) -m bitdust.interface.openapi --output docs/openapi.json

bench: install
	$(PY) -m bitdust.bench all

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
