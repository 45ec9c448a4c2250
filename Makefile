# The two commands a newcomer needs: `make demo` and `make test`. Everything else is set up on demand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Bytecode caching matters here: without it every Django start recompiles ~2k modules (+2.5 s).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup demo test lint pytest messages makemessages static stop clean bench

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python -q --no-deps -e .
	touch $@

setup: $(VENV)/.installed messages

messages: $(VENV)/.installed
	$(BIN)/python manage.py compile_catalogs

makemessages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages -l en -l pt_BR -l es --ignore='.venv/*' --ignore='node_modules/*' --no-obsolete

static: $(VENV)/.installed
	$(BIN)/python manage.py collectstatic --noinput -v0

demo: setup
	$(BIN)/python manage.py demo

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports

pytest: $(VENV)/.installed messages
	$(BIN)/pytest $(PYTEST_ARGS)

test: setup lint pytest

bench: setup
	$(BIN)/python bench/tenant_provisioning.py

stop: $(VENV)/.installed
	$(BIN)/python -m incentiva.embedded stop

clean: stop
	rm -rf .incentiva staticfiles
