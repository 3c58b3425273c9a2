# factorytwin: `make demo` and `make test` do all their own set-up on a fresh machine.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
WEB_STAMP := web/node_modules/.installed-$(shell sha1sum web/package-lock.json 2>/dev/null | cut -c1-12)
NODERED_STAMP := nodered/node_modules/.installed-$(shell sha1sum nodered/package-lock.json 2>/dev/null | cut -c1-12)
STATIC := src/factorytwin/api/static/index.html
WEB_SOURCES := $(shell find web/src web/public web/scripts web/index.html web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)

.PHONY: install web chromium nodered lint typecheck pytest vitest contract contract-check test demo bench serve clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	rm -f web/node_modules/.installed-*
	touch $@

$(STATIC): $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run build

# The dashboard, built into the Python package's static folder (not committed).
ifneq ($(wildcard web/package.json),)
web: $(STATIC)
vitest: $(WEB_STAMP) contract-check
	cd web && npm run format:check && npm run lint && npm run typecheck && npm test
else
web vitest:
	@echo "no web/ app yet"
endif

# The typed contract: the app's OpenAPI document (REST + the stream's message unions) and the TypeScript types
# generated from it, both committed; contract-check regenerates them and fails when they differ from the commit.
CONTRACT := web/src/api/openapi.json web/src/api/schema.ts
contract: install $(WEB_STAMP)
	$(BIN)/python -m factorytwin.api.contract web/src/api/openapi.json
	cd web && npm run --silent contract

contract-check: contract
	@test -z "$$(git status --porcelain -- $(CONTRACT))" || { git diff --stat -- $(CONTRACT); \
	  echo "the generated contract differs from the committed one: run 'make contract' and commit it"; exit 1; }

# Debian's Chromium for the browser tests (never `playwright install`: browser downloads fail here).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy src tests bench

# The pinned Node-RED that the flow test (tests/integration/nodered) runs headless.
nodered: $(NODERED_STAMP)

$(NODERED_STAMP): nodered/package.json nodered/package-lock.json
	cd nodered && npm ci --no-audit --no-fund --loglevel=error
	rm -f nodered/node_modules/.installed-*
	touch $@

# With the coverage gate: fail_under in pyproject.toml ([tool.coverage.report]).
pytest: install web chromium nodered
	$(BIN)/pytest -n 2 --dist loadgroup --cov --durations=30

test: lint typecheck vitest pytest

demo: install web
	$(BIN)/factorytwin demo

serve: install web
	$(BIN)/factorytwin serve

bench: install web
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) web/node_modules nodered/node_modules src/factorytwin/api/static var
