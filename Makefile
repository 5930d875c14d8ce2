# The FastPix live console. Two commands on a fresh machine:
#   make demo   the console + a seeded FastPix emulator, demo logins printed
#   make test   the whole suite, lint included (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two locks: requirements.lock is what production runs (`make run`); requirements-dev.lock adds the emulator,
# the tests and the tools on top of it. One stamp per lock content says what the venv already holds, so a venv
# first made by `make run` gets the dev packages the first time a dev target needs them.
RUNTIME_STAMP := $(VENV)/.installed-runtime-$(shell cat requirements.lock 2>/dev/null | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat requirements.lock requirements-dev.lock 2>/dev/null | cksum | cut -d' ' -f1)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install chromium zbar lint test test-services test-fast run demo bench mutation clean

$(RUNTIME_STAMP): requirements.lock
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-runtime-*
	@touch $@

# The dev lock includes the runtime lock (-r), so installing it satisfies both stamps.
$(DEV_STAMP): requirements.lock requirements-dev.lock
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	@rm -f $(VENV)/.installed-*
	@touch $@ $(RUNTIME_STAMP)

# Everything a developer needs (the dev lock); `make run` installs only the runtime lock.
install: $(DEV_STAMP)

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The encoder-setup test decodes the QR code it draws with zbarimg (Debian's zbar-tools).
zbar:
	@command -v zbarimg >/dev/null 2>&1 || { \
	  echo "Installing Debian's zbar-tools for the QR code test…"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq zbar-tools >/dev/null; }

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=1 $(BIN)/python manage.py check --fail-level WARNING

test: $(DEV_STAMP) chromium zbar lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not services"

# The same suite on throwaway PostgreSQL and Redis servers (installed from Debian if missing).
test-services: $(DEV_STAMP) chromium zbar
	scripts/test_services.sh

# Without the browser journeys, for a quick loop while coding.
test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -n 2 -m "not e2e"

# Production-style: gunicorn (gunicorn.conf.py), DEBUG off, everything else from the environment, and one
# console_worker next to it, stopped with it (README "The console's memory"). Installs only the runtime lock.
run: $(RUNTIME_STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py console_worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	GUNICORN_BIND=$${GUNICORN_BIND:-$(HOST):$(PORT)} $(BIN)/gunicorn dashboard.wsgi

demo: $(DEV_STAMP)
	$(BIN)/python -m scripts.demo --host $(HOST) --port $(PORT)

# Benchmarks (bench/README.md): latency vs FastPix latency, polling fan-out, throughput, weight, memory,
# Lighthouse. They start what they need on 127.0.0.1 and print every figure against its target.
bench: $(DEV_STAMP) chromium
	@# Only what is missing: a machine whose node/npm came from elsewhere must not be asked for Debian's npm.
	@missing="$$(for tool in wrk redis-server npm; do command -v $$tool >/dev/null 2>&1 || echo $$tool; done)"; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi
	$(BIN)/python -m bench.run_all

# Mutation testing with mutmut ([tool.mutmut] in pyproject.toml; README "Mutation testing"). Not in CI: it
# takes long. Results stay in mutants/ (git-ignored): a second run only tests what changed since.
MUTATION_JOBS ?= 2
mutation: $(DEV_STAMP)
	$(BIN)/mutmut run --max-children $(MUTATION_JOBS)
	@$(BIN)/mutmut export-cicd-stats >/dev/null
	@$(BIN)/python -c "import json; s = json.load(open('mutants/mutmut-cicd-stats.json')); \
	  tested = s['total'] - s['skipped']; caught = s['killed'] + s['timeout']; \
	  print(f\"Killed {caught} of {tested} mutants ({100 * caught / max(tested, 1):.1f} %): {s['survived']} survived, \
	{s['no_tests']} had no test, {s['timeout']} timed out, {s['suspicious']} suspicious.\")"
	@echo "Mutants not killed (mutmut show <name> for the diff):"
	@$(BIN)/mutmut results

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache mutants
