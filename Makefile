# Two commands a newcomer needs: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export BENTOML_HOME ?= $(CURDIR)/.bentoml

.PHONY: setup container-tools run dev platform-up platform-down serve serve-lambda test test-fast lint-imports lint-infra bench stack-up stack-down stack-destroy clean
LAMBDA_PORT ?= 9000

# uv itself lives in its own small venv, so the project's venv holds exactly what uv.lock says.
$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(BIN)/beer-platform: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python python3.11
	@touch $@

## podman, runc, docker-registry, mmdebstrap: installed with apt-get as root on Debian/Ubuntu,
## otherwise named (the platform runs without them and says no image was built).
container-tools:
	@bash tools/container-tools.sh

setup: $(BIN)/beer-platform container-tools

## Set up, start the local stack, materialize every asset end to end, print a summary, stop.
run: setup
	$(BIN)/beer-platform run

## The local stack plus the Dagster UI at http://127.0.0.1:3000 (Ctrl-C stops both).
dev: setup
	$(BIN)/beer-platform dev

## Dagster as teams deploy it, on this machine: Postgres, the code location in its own image, the
## webserver and the daemon, every run in its own container (UI at http://127.0.0.1:3300). See docs/deploying.md.
platform-up: setup
	$(BIN)/beer-platform platform up

platform-down: setup
	$(BIN)/beer-platform platform down

## Serve the latest ibu_model at http://127.0.0.1:3001, or PORT=... (after `make run`); Ctrl-C stops it.
serve: setup
	$(BIN)/beer-platform serve $(if $(PORT),--port $(PORT))

## The deployed function (`live`) as a Function URL at http://127.0.0.1:$(LAMBDA_PORT), from its image
## in the local registry (after `make run`, with the stack up: `make stack-up`); Ctrl-C stops it.
serve-lambda: setup
	$(BIN)/beer-platform lambda serve --port $(LAMBDA_PORT)

## Set up, then pass every test (unit, integration against the local stack, import layers, infra lint).
test: setup lint-imports lint-infra
	@# The deployed platform's tests (minutes of containers and daemon polling, a platform and a stack of
	@# their own) run in a second pytest beside the rest; their report follows the rest's.
	@$(BIN)/pytest -m platform -p no:cacheprovider > .platform-tests.log 2>&1 & platform=$$!; \
	$(BIN)/pytest -m "not platform"; rest=$$?; \
	wait $$platform; status=$$?; echo; echo "== the deployed platform's tests (pytest -m platform)"; \
	cat .platform-tests.log; rm -f .platform-tests.log; exit $$(( rest || status ))

## Unit tests only (no local stack).
test-fast: setup
	$(BIN)/pytest -m "not integration"

## Each layer of the package imports only the layers below it (contract in setup.cfg).
lint-imports: setup
	$(BIN)/lint-imports

## terraform fmt -check and validate (root and every module, offline), HCL parse, checkov.
lint-infra: setup
	PYTHON=$(BIN)/python bash infra/lint.sh

## Every benchmark, side by side; figures go into docs/benchmarks.md.
bench: setup
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && apt-get install -y -qq wrk >/dev/null 2>&1; } \
		|| echo "wrk is not installed: bench_serving falls back to an httpx load generator (slower)"
	$(BIN)/python -m benchmarks

stack-up: setup
	$(BIN)/beer-platform stack up --detach

stack-down: setup
	$(BIN)/beer-platform stack down

## `terraform destroy` of what the stack's apply of infra/ created, then stop it (plain stack-down keeps it).
stack-destroy: setup
	$(BIN)/beer-platform stack down --destroy

clean:
	-$(BIN)/beer-platform platform down
	-$(BIN)/beer-platform stack down
	rm -rf $(VENV) $(TOOLS) .stack .dagster_home .bentoml .platform .pytest_cache
