# ocpi-hub: `make` prints this menu.
.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt types bench clean redis-server

export UV_PYTHON_DOWNLOADS := never
PYTHON ?= python3
# uv from PATH, or the one pip installs (run as a module, wherever pip put its script).
UV ?= $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
HOST ?= 127.0.0.1
PORT ?= 8080

help: ## show this menu
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --locked
	@touch $@

install: .venv/.synced ## create the environment from uv.lock

run: install ## run the hub on the embedded default (SQLite under ./var, no broker)
	$(UV) run --locked python -m hub serve --host $(HOST) --port $(PORT)

# The worker tests start their own redis-server on a free port; install it if the machine lacks it.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || test -x /usr/sbin/redis-server || test -x /usr/bin/redis-server || \
		{ echo "installing redis-server (Debian package)"; apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

test: install redis-server ## run the whole test suite
	PYTHONASYNCIODEBUG=1 $(UV) run --locked pytest

lint: install ## ruff (lint + format check) and mypy (strict)
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .
	$(UV) run --locked mypy

fmt: install ## format the code
	$(UV) run --locked ruff format .
	$(UV) run --locked ruff check --fix .

bench: install redis-server ## print the benchmark figures
	$(UV) run --locked python -m bench

clean: ## remove the environment and caches (keeps ./var)
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
