# The two commands: `make up` deploys the stack, `make test` tests everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

STACK ?= dev
VENV ?= .venv
PY := $(VENV)/bin/python
# Without Pulumi Cloud, secrets (the database password) are encrypted with a
# passphrase. Unless you provide one, the first `make up` makes one here: keep it.
PASSPHRASE_FILE ?= .pulumi-passphrase
ifeq ($(origin PULUMI_CONFIG_PASSPHRASE),undefined)
export PULUMI_CONFIG_PASSPHRASE_FILE ?= $(abspath $(PASSPHRASE_FILE))
endif
PULUMI := pulumi --non-interactive
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: help up down preview outputs test lint venv preflight stack backup restore logs status psql bench

help:
	@echo "make up       deploy the stack (creates .venv, a local Pulumi backend, stack '$(STACK)' and its password)"
	@echo "make down     pulumi destroy: containers and network go, the volume dados_postgres and its data stay"
	@echo "make outputs  pulumi stack output"
	@echo "make stack    only the Pulumi side of make up: backend, stack '$(STACK)', its password; deploys nothing"
	@echo "make test     all tests (program, API, reader, and the stack on Docker when an engine answers)"
	@echo "make lint     ruff and hadolint"
	@echo "make backup   pg_dump of the running database to backups/ (prints size and row counts)"
	@echo "make restore FILE=backups/....dump [YES=1]   restore a backup into the running stack"
	@echo "make logs     follow the logs of the three containers"
	@echo "make status   stack outputs, container state and health"
	@echo "make psql     psql on the running database"
	@echo "make bench    the performance benchmark, by hand (bench/README.md): bench/results.md and .png"

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
# selected or created; its database password generated once and kept, as a
# secret, in the stack's config (the retained volume needs the same one).
# Nothing is made before the checks pass, even under make -j.
stack: preflight
	@$(MAKE) --no-print-directory venv $(if $(PULUMI_CONFIG_PASSPHRASE),,$(PASSPHRASE_FILE))
	@pulumi whoami >/dev/null 2>&1 || pulumi login --local
	@$(PULUMI) stack select --create $(STACK)
	@$(PULUMI) config get dbPassword >/dev/null 2>&1 || { \
	  $(PY) -c 'import secrets; print(secrets.token_urlsafe(32), end="")' \
	    | $(PULUMI) config set --secret dbPassword && echo "Generated dbPassword (a secret in Pulumi.$(STACK).yaml)."; }

# --refresh (also `options: refresh: always` in Pulumi.yaml, for plain `pulumi
# up`): read the stack back from Docker first, so that what was removed or
# stopped by hand comes back, as with `docker compose up`. Then, whatever the
# outcome, what the app's start did to the schema and where the backup it took
# first is (scripts/migration-report.sh); up's exit status is kept.
up: stack
	@status=0; $(PULUMI) up --yes --refresh --stack $(STACK) || status=$$?; \
	  $(STACK_ENV) scripts/migration-report.sh || true; exit $$status

preview: stack
	$(PULUMI) preview --stack $(STACK)

down: stack
	$(PULUMI) destroy --yes --stack $(STACK)

outputs: stack
	$(PULUMI) stack output --stack $(STACK)

test: venv
	$(PY) -m pytest

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/hadolint app/Dockerfile .ci/images/*/Dockerfile

# Run by hand, not by `make test`: about 10 minutes with the defaults, on its
# own PostgreSQL. BENCH_ARGS="--sizes 1000 --seconds 3" for a quick look;
# `$(PY) -m bench --help` lists the options.
bench: venv
	$(PY) -m bench $(BENCH_ARGS)

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
