# The two commands of the README: `make demo` starts the bot (terminal chat with a demo case),
# `make test` runs the whole suite. Each sets up its own virtualenv on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The demo needs the bot alone: no test tools (pytest, mypy, Synapse) and no npm.
DEMO_STAMP := $(VENV)/.demo-stamp

.PHONY: demo test lint install clean chromium

NODE_STAMP := node_modules/.installed-stamp

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(DEMO_STAMP)

# The Telegram Bot API emulator the adapter tests talk to (npm, pinned in package-lock.json).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP)

# Debian's Chromium for the answer-page browser test (scripts/install-chromium; a no-op when
# it is there).
chromium:
	bash scripts/install-chromium

demo: $(DEMO_STAMP)
	$(BIN)/samverkan demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The browser test must run here: a missing browser fails it instead of skipping it.
test: lint $(NODE_STAMP) chromium
	SAMVERKAN_REQUIRE_BROWSER=1 $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
