# ytmaker — the two commands that matter on a fresh machine:
#   make demo   install what is missing, build, render the sample article offline, print the paths
#   make test   everything CI runs
#   make demo-cloud   the same with the five cloud clients, against the fake cloud (no key, no network)
SHELL := /bin/bash
CARGO ?= cargo
DEMO_DATA ?= $(CURDIR)/.data/demo
BIN := target/release/ytmaker

.PHONY: deps build demo demo-cloud test test-rust lint bench clean

deps:
	@bash scripts/install-system-deps.sh

build: deps
	$(CARGO) build --release --locked -p ytmaker-cli

demo: build
	@mkdir -p $(DEMO_DATA)
	YTMAKER_DATA_DIR=$(DEMO_DATA) $(BIN) doctor
	YTMAKER_DATA_DIR=$(DEMO_DATA) $(BIN) generate samples/article-zh-TW.txt --offline --name "台灣茶文化"
	@echo
	@echo "Demo data directory: $(DEMO_DATA)  (YTMAKER_DATA_DIR=$(DEMO_DATA) $(BIN) projects list)"

demo-cloud: deps
	$(CARGO) build --release --locked -p ytmaker-cli -p ytmaker-fake-cloud
	bash scripts/demo-cloud.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	bash scripts/ensure-services.sh
	$(CARGO) test --workspace --locked --no-fail-fast

test: deps lint test-rust

bench: deps
	$(CARGO) build --release --locked -p ytmaker-render --example bench_render
	target/release/examples/bench_render 60
	target/release/examples/bench_render 300
	$(CARGO) build --release --locked -p ytmaker-server --example bench_api
	target/release/examples/bench_api 10000

clean:
	$(CARGO) clean
	rm -rf .data bench-out
