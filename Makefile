# Deckhand. Newcomers need two commands: `make demo` and `make test`; both install what they need.
SHELL := /bin/bash
VENV := .venv
CHECKOV := $(VENV)/checkov
# cargo-lambda, moto_server and cfn-lint come from the project's virtualenv.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
ARCH ?= arm64

.PHONY: demo test fuzz lint template build bench clean

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## demo: the six functions on the local AWS, wired by template.yaml's rules, through the samples in events/: good and bad pushes, a failed build, load, a regional outage; prints each step, writes target/demo/timeline.html|png
demo: $(VENV)/.installed
	cargo build --locked --workspace --bins
	$(VENV)/bin/python scripts/demo.py

## test: lint, template check, the fault matrices' sizes, unit tests, integration tests against moto server, and the stack tests (the template's rules, cargo lambda deploy, the demo)
test: $(VENV)/.installed lint template
	@set -o pipefail; cargo test --locked -q -p deckhand --lib --features fakes fault_matrix -- --nocapture --test-threads=1 | grep -o 'fault matrix .*'
	cargo test --locked --workspace
	$(VENV)/bin/python -m unittest discover -s tests/stack -t . -v

## fuzz: every decoder and parser of outside input on 1,000,000 generated inputs each (FUZZ_CASES=N to change, FUZZ_SEED=N to replay), optimised build; prints the counts, fails on any panic or property failure
fuzz:
	FUZZ_CASES=$${FUZZ_CASES:-1000000} cargo test --locked --profile fuzz -p deckhand-integration-tests --test fuzz -- --nocapture --test-threads=2

lint:
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings

## template: cfn-lint, then checkov (security findings; the kept ones are explained in template.yaml)
template: $(VENV)/.installed $(CHECKOV)/.installed
	cfn-lint template.yaml
	$(CHECKOV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml

# checkov gets a virtualenv of its own: it pins older boto3/botocore than moto server wants.
$(CHECKOV)/.installed: requirements-checkov.txt
	python3 -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

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
