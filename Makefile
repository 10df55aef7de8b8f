# Deckhand. Newcomers need two commands: `make demo` and `make test`; both install what they need.
SHELL := /bin/bash
VENV := .venv
# cargo-lambda, moto_server and cfn-lint come from the project's virtualenv.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
ARCH ?= arm64

.PHONY: demo test lint template build bench clean

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## demo: run image-pushed on the local AWS with the samples in events/ and print what happened
demo: $(VENV)/.installed
	cargo build --locked -p image-pushed
	$(VENV)/bin/python scripts/demo.py

## test: lint, template check, the fault matrices' sizes, unit tests and integration tests against moto server
test: $(VENV)/.installed lint template
	@set -o pipefail; cargo test --locked -q -p deckhand --lib --features fakes fault_matrix -- --nocapture --test-threads=1 | grep -o 'fault matrix .*'
	cargo test --locked --workspace

lint:
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings

template: $(VENV)/.installed
	cfn-lint template.yaml

## build: release zips for Lambda (ARCH=arm64|x86_64); cross-building needs zig on the machine
build: $(VENV)/.installed
	cargo lambda build --locked --release $(if $(filter arm64,$(ARCH)),--arm64,--x86-64) --output-format zip

$(VENV)/.bench-installed: $(VENV)/.installed requirements-bench.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $@

## bench: release binaries measured (cold start, latency, API calls, memory, size) beside ecs-deploy
bench: $(VENV)/.bench-installed
	cargo build --locked --release --workspace
	$(VENV)/bin/python scripts/bench.py

clean:
	cargo clean
	rm -rf $(VENV)
