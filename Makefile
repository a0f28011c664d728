# Herald's commands. `make help` lists them. uv comes from PATH or is installed by scripts/ensure-uv.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV := $(shell scripts/ensure-uv)
RUN := $(UV) run --frozen
# mypy runs once per workspace member, so each member's tests form their own namespace.
MEMBERS := libs/common libs/publisher-testenv deploy/local $(wildcard services/*) tests

.PHONY: help sync up demo down status logs test test-unit test-connected test-e2e chaos lint typecheck fmt contract bench check-deploy secrets

help: ## list the commands
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

sync: ## install every Python dependency from uv.lock into .venv
	$(UV) sync --frozen

up: sync ## run Kafka, FerretDB, all seven services and the console locally (a demo on the sandbox)
	$(RUN) herald-stack up

demo: ## connect the sandbox accounts again and publish a demo post (after make up)
	$(RUN) herald-stack demo

down: ## stop everything `make up` or the tests started
	$(RUN) herald-stack down

status: ## what runs, where
	$(RUN) herald-stack status

logs: ## the services' log (make logs C=kafka|ferretdb|postgres|services)
	$(RUN) herald-stack logs $(or $(C),services) -n 100

test: sync lint typecheck check-deploy ## lint, type check, deploy checks, then every test tier (unit, connected, e2e)
	scripts/test-tiers $(RUN) pytest --ignore=tests/deploy  # check-deploy ran those

check-deploy: sync ## the chart and compose checked offline: helm lint, renders, kubeconform strict, policies, promtool
	scripts/ensure-deploy-tools >/dev/null  # helm, kubeconform, compose v2, promtool, schemas: once, in .cache
	HERALD_TEST_TIMINGS_NAME=deploy $(RUN) pytest -m unit tests/deploy

secrets: sync ## generate deploy secrets once: deploy/compose/secrets/*.env (git-ignored)
	$(RUN) python scripts/generate_secrets.py

test-unit: sync ## unit tests only (seconds, no infrastructure)
	$(RUN) pytest -m unit

test-connected: sync ## tests against real Kafka and FerretDB (started if not running)
	$(RUN) pytest -m connected

test-e2e: sync ## services as processes
	$(RUN) pytest -m e2e

chaos: sync ## the chaos runs in full: fleet 10,000 items and 20 kill steps, WhatsApp 5,000 recipients
	HERALD_FLEET_ITEMS=10000 HERALD_FLEET_KILLS=20 HERALD_FLEET_INFRA_RESTARTS=2 \
		HERALD_CHAOS_WA_RECIPIENTS=5000 $(RUN) pytest -m e2e tests/chaos -rP

lint: sync ## ruff lint and format check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: sync ## mypy --strict over every member, tests included
	@for member in $(MEMBERS); do echo "mypy $$member"; $(RUN) mypy $$member; done
	$(RUN) mypy conftest.py

fmt: sync ## format and fix what ruff can
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

contract: sync ## regenerate docs/events, docs/asyncapi, docs/metrics.md and the Grafana dashboards
	$(RUN) python -m herald.contract write
	$(RUN) python -m herald_localstack.asyncapi write
	$(RUN) python -m herald_localstack.metricsdoc write
	$(RUN) python -m herald_localstack.dashboards write

bench: sync ## every benchmark in full: figures and ratios (make test runs each --quick)
	@for bench in tests/benchmarks/bench_*.py; do echo "== $$bench"; $(RUN) python "$$bench"; done
