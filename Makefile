# The two commands: `make up` deploys the stack, `make test` tests everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

STACK ?= dev
VENV ?= .venv
PY := $(VENV)/bin/python
# Without Pulumi Cloud, secrets (the database passwords) are encrypted with a
# passphrase. Unless you provide one, the first `make up` makes one here: keep it.
PASSPHRASE_FILE ?= .pulumi-passphrase
ifeq ($(origin PULUMI_CONFIG_PASSPHRASE),undefined)
export PULUMI_CONFIG_PASSPHRASE_FILE ?= $(abspath $(PASSPHRASE_FILE))
endif
PULUMI := pulumi --non-interactive
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: help up down preview outputs test lint venv preflight stack backup restore logs status psql bench bench-lifecycle

help:
	@echo "make up       deploy the stack (creates .venv, a local Pulumi backend, stack '$(STACK)' and its password), then the verdict on every container"
	@echo "make down     pulumi destroy: containers and network go, the volume dados_postgres and its data stay"
	@echo "make outputs  pulumi stack output"
	@echo "make stack    only the Pulumi side of make up: backend, stack '$(STACK)', its password; deploys nothing"
	@echo "make test     all tests (program, API, reader, and the stack on Docker when an engine answers)"
	@echo "make lint     ruff, hadolint and shellcheck"
	@echo "make backup   pg_dump of the running database to backups/ (prints size and row counts)"
	@echo "make restore FILE=backups/....dump [YES=1]   restore a backup into the running stack"
	@echo "make logs     follow the logs of the four containers"
	@echo "make status   stack outputs, and the state and health of each container (the causes of what is wrong)"
	@echo "make psql     psql on the running database"
	@echo "make bench    the performance benchmark, by hand (bench/README.md): bench/results.md and .png"
	@echo "make bench-lifecycle   make up/down timed beside docker compose (bench/README.md)"

$(VENV)/.installed: requirements.txt requirements-dev.txt app/requirements.txt bench/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# Before anything is made: the engine and the CLI, each said in one line if missing.
preflight:
	@$(STACK_ENV) scripts/preflight.sh

$(PASSPHRASE_FILE): | venv
	@umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(32))' > $@
	@echo "Made $@: it decrypts this stack's secrets. Keep it, never commit it."

# A local state backend unless you are already logged in somewhere; the stack
# selected or created; its two database passwords (the owner's, dbPassword, and
# the API role's, dbApiPassword) generated once and kept, as secrets, in the
# stack's config (the retained volume needs the same ones). Nothing is made
# before the checks pass, even under make -j. Once the stack's config file holds
# both, all of that is done: the Pulumi CLI is not asked again (each call costs a
# fraction of a second; `make up` names the stack).
STACK_FILE := Pulumi.$(STACK).yaml
SECRET_KEYS := dbPassword dbApiPassword
stack: preflight
	@$(MAKE) --no-print-directory venv $(if $(PULUMI_CONFIG_PASSPHRASE),,$(PASSPHRASE_FILE))
	@{ $(foreach key,$(SECRET_KEYS),grep -qs '^  desafio2:$(key):' $(STACK_FILE) &&) true; } || { \
	  { pulumi whoami >/dev/null 2>&1 || pulumi login --local; } \
	  && $(PULUMI) stack select --create $(STACK) \
	  && for key in $(SECRET_KEYS); do \
	    $(PULUMI) config get "$$key" >/dev/null 2>&1 || { \
	      $(PY) -c 'import secrets; print(secrets.token_urlsafe(32), end="")' \
	        | $(PULUMI) config set --secret "$$key" \
	        && echo "Generated $$key (a secret in $(STACK_FILE))."; } || exit 1; \
	  done; }

# --refresh (also `options: refresh: always` in Pulumi.yaml, for plain `pulumi
# up`): read the stack back from Docker first, so that what was removed or
# stopped by hand comes back, as with `docker compose up`. --skip-preview: with
# --yes nobody reads the preview, and it would run the program twice. Then,
# whatever the outcome, what this up did to the schema and the verdict on every
# container (scripts/after-up.sh); make up fails if Pulumi did, or if a
# container is not running and healthy.
up: stack
	@started="$$($(PY) -c 'import time; print(f"{time.time():.3f}")')"; status=0; \
	  $(PULUMI) up --yes --skip-preview --refresh --stack $(STACK) || status=$$?; \
	  UP_STARTED="$$started" $(STACK_ENV) scripts/after-up.sh || { ((status)) || status=1; }; \
	  exit $$status

preview: stack
	$(PULUMI) preview --stack $(STACK)

# Straight to Pulumi: a down has nothing to set up, and if it fails, preflight says
# whether a tool is missing. No preview and no refresh: the provider's Delete of what
# is already gone succeeds, and a refresh would read everything back only to delete it.
down:
	@$(PULUMI) destroy --yes --skip-preview --refresh=false --stack $(STACK) \
	  || { $(STACK_ENV) scripts/preflight.sh; exit 1; }

outputs: stack
	$(PULUMI) stack output --stack $(STACK)

test: venv
	$(PY) -m pytest

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/hadolint app/Dockerfile .ci/images/*/Dockerfile
	shellcheck $$(git ls-files '*.sh')

# Run by hand, not by `make test`: about 10 minutes with the defaults, on its
# own PostgreSQL. BENCH_ARGS="--sizes 1000 --seconds 3" for a quick look;
# `$(PY) -m bench --help` lists the options.
bench: venv
	$(PY) -m bench $(BENCH_ARGS)

# By hand too, a few minutes: cold up, a no-change up, down and up on the kept volume,
# beside docker compose running the same containers (bench/README.md). Through make
# and the real Pulumi CLI when it is installed, else through the e2e harness.
bench-lifecycle: venv
	$(PY) -m bench.lifecycle $(BENCH_ARGS)

# Everyday commands on the running stack. The scripts find its containers from
# DB_CONTAINER=... (etc.), else `pulumi stack output`, else the default names.
STACK_ENV := STACK=$(STACK)

backup:
	@$(STACK_ENV) scripts/backup.sh

restore:
	@$(STACK_ENV) scripts/restore.sh $(if $(filter 1 yes true,$(YES)),--yes) $(if $(FILE),"$(FILE)")

logs:
	@$(STACK_ENV) scripts/logs.sh

status:
	@$(STACK_ENV) scripts/status.sh

psql:
	@$(STACK_ENV) scripts/psql.sh
