# Storefront — the commands a developer types. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DYNAMODB_PORT ?= 8001
STAGE ?= dev
STAMP := $(VENV)/.installed
export AWS_XRAY_SDK_ENABLED ?= false

.PHONY: install browser run test check lint format typecheck unit integration e2e bench bench-restart load reset package \
	package-venv clean routes openapi client swagger-ui events-doc ministack-venv deploy-local deploy-local-stop \
	scanners-venv scan

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check 'pip<26.3' 'setuptools<81' wheel
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@# The SAM translator (template checks only, never shipped) pins pydantic~=2.13; its other
	@# dependencies are all in requirements-dev.txt, so it goes in without the pin (docs/deployment.md).
	$(PY) -m pip install -q --disable-pip-version-check --no-deps aws-sam-translator==1.110.0
	touch $(STAMP)

install: $(STAMP)

# Debian's chromium for the /docs browser test (tests/e2e/test_docs_browser.py). Installed only
# where it is missing and apt can run (as root); elsewhere that one test skips, saying why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    { apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium >/dev/null; } \
	      || echo "make browser: chromium could not be installed; the browser test will skip" >&2; \
	  else echo "make browser: no chromium and no root apt; the browser test will skip" >&2; fi; }

run: install ## serve the API (127.0.0.1:$(PORT)) on the embedded engine (127.0.0.1:$(DYNAMODB_PORT))
	$(PY) -m tools.run_local --port $(PORT) --dynamodb-port $(DYNAMODB_PORT)

# JOBS: pytest-xdist workers (default: one per core) for everything but the deployment tests;
# each worker starts its own engine (and, for e2e, its own chalice local) on free ports. The
# deployment tests (tests/deploy, tests/deployed) share what they build once per session (the
# packaging venv, both stages' packages, one emulator and its stack): they run after, in one
# process, adding to the same coverage data (the 90 % floor is checked on the whole).
JOBS ?= auto
test: install browser ministack-venv scanners-venv lint typecheck ## everything CI runs
	$(PY) -m pytest -n $(JOBS) --cov --cov-report= --cov-fail-under=0 -p no:cacheprovider \
	  --ignore=tests/deploy --ignore=tests/deployed
	$(PY) -m pytest tests/deploy tests/deployed --cov --cov-append --cov-report=term -p no:cacheprovider

check: install ## the edit loop, under a minute: ruff (lint + format) and the unit tests
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest tests/unit -q -p no:cacheprovider

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

typecheck: install
	$(PY) -m mypy

unit: install
	$(PY) -m pytest tests/unit

integration: install
	$(PY) -m pytest tests/integration

e2e: install browser
	$(PY) -m pytest tests/e2e

# Lambda runs python3.13 and chalice takes the runtime from the interpreter that packages:
# packaging runs in its own 3.13 venv (pyenv's or any python3.13; $$PYTHON313 to choose),
# made on first use and remade when requirements.txt changes. The dev venv stays on 3.11.
package-venv: install ## .venv-package313: Python 3.13 + chalice + the runtime requirements
	$(PY) -m infra.lambda_runtime packaging-venv

package: package-venv ## out/$(STAGE)/: SAM template + deployment.zip for STAGE=dev|prod, checked by cfn-lint
	$(PY) -m infra.build --stage $(STAGE)

# MiniStack, the AWS emulator (docs/deployment.md, "Deploy it locally"), in its own python3.13
# venv: it runs the functions with its own interpreter. Remade when its requirements change.
MINISTACK_VENV := .venv-ministack
MINISTACK_STAMP := $(MINISTACK_VENV)/.installed
$(MINISTACK_STAMP): requirements-ministack.txt $(STAMP)
	@# The same 3.13 interpreter the packaging venv uses (pyenv's or any python3.13; $$PYTHON313).
	test -x $(MINISTACK_VENV)/bin/python || \
	  "$$($(PY) -c 'from infra.lambda_runtime import find_python; print(find_python())')" -m venv $(MINISTACK_VENV)
	$(MINISTACK_VENV)/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 13), "python3.13 is required"'
	$(MINISTACK_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-ministack.txt
	touch $(MINISTACK_STAMP)

ministack-venv: $(MINISTACK_STAMP)

# The infrastructure scanners (infra/scanners.py) in their own venv: checkov pins a boto3 the
# dev venv cannot share. cfn-guard ships inside the cdklabs wheel, installed without its CDK
# dependencies (never imported: only the binary and the Control Tower rules are used).
SCANNERS_VENV := .venv-scanners
SCANNERS_STAMP := $(SCANNERS_VENV)/.installed
$(SCANNERS_STAMP): requirements-scanners.txt
	test -x $(SCANNERS_VENV)/bin/python || $(PYTHON) -m venv $(SCANNERS_VENV)
	$(SCANNERS_VENV)/bin/python -m pip install -q --disable-pip-version-check 'pip<26.3'
	$(SCANNERS_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-scanners.txt
	$(SCANNERS_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps \
	  cdklabs-cdk-validator-cfnguard==0.0.62
	touch $(SCANNERS_STAMP)

scanners-venv: $(SCANNERS_STAMP)

scan: scanners-venv package ## cfn-lint (+ serverless rules), checkov, cfn-guard (Control Tower) on out/$(STAGE)
	$(PY) -m infra.scanners out/$(STAGE)

deploy-local: ministack-venv package ## the dev stack on MiniStack (127.0.0.1, $$MINISTACK_PORT or a free port): URL + admin
	$(PY) -m infra.deploy_local up $(if $(MINISTACK_PORT),--port $(MINISTACK_PORT))

deploy-local-stop: install ## delete the local stack and stop MiniStack
	$(PY) -m infra.deploy_local down

# Engine restart sizes (a comma inside $(or ...) would split its arguments: hence variables).
BENCH_SIZES := 1000,10000
RESTART_SIZES := 1000,10000,100000

bench: install ## Storefront vs a plain boto3 handler: cold start, warm overhead (bench/results.md); engine restart
	$(PY) -m bench.run
	$(PY) -m bench.engine_restart --sizes $(or $(SIZES),$(BENCH_SIZES))

bench-restart: install ## engine restart-to-ready after kill -9 for 1k/10k/100k items (SIZES=1000,10000 to choose)
	$(PY) -m bench.engine_restart --sizes $(or $(SIZES),$(RESTART_SIZES))

load: install ## Locust on a stack of its own (free ports, temp data), engine killed mid-run; report in out/load/
	$(PY) -m tools.load_test --duration $(or $(DURATION),60) --users $(or $(USERS),10)

events-doc: install ## docs/events.schema.json and the catalogue in docs/events.md, from the models
	$(PY) -m tools.event_docs

routes: install ## chalicelib/api/route_table.py: the table app.py registers lazily, from the route declarations
	$(PY) -m tools.route_table

openapi: routes ## docs/openapi.json from the app (refuses an unrecorded breaking change)
	$(PY) -m tools.openapi_release document

client: openapi ## clients/python/: the typed client, generated from docs/openapi.json
	$(PY) -m tools.openapi_release client

swagger-ui: ## re-vendor Swagger UI (npm swagger-ui-dist, version + checksum pinned in the script)
	$(PY) -m tools.vendor_swagger_ui

reset: ## delete local data (.local/)
	rm -rf .local

clean: reset
	rm -rf $(VENV) .venv-package313 $(MINISTACK_VENV) $(SCANNERS_VENV) .cache out .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
