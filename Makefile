# The two commands of the README: `make demo` starts the bot (terminal chat with a demo case),
# `make test` runs the whole suite. Each sets up its own virtualenv on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/samverkan demo

lint: $(STAMP)
	$(BIN)/ruff check bot flows storage tests bench
	$(BIN)/ruff format --check bot flows storage tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
