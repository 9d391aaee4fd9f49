# ytmaker — the two commands that matter on a fresh machine:
#   make demo   install what is missing, build, render the sample article offline, print the paths
#   make test   everything CI runs
#   make demo-cloud   the same with the five cloud clients, against the fake cloud (no key, no network)
SHELL := /bin/bash
CARGO ?= cargo
DEMO_DATA ?= $(CURDIR)/.data/demo
BIN := target/release/ytmaker

.PHONY: deps build web demo demo-cloud test test-rust web-test api-contract mcp-test lint bench soak clean

deps:
	@bash scripts/install-system-deps.sh

build: deps
	$(CARGO) build --release --locked -p ytmaker-cli

# The web UI (web/dist), which `ytmaker serve` serves at / when started from the repository.
web: deps
	cd web && npm ci && npm run build

demo: build web
	@mkdir -p $(DEMO_DATA)
	YTMAKER_DATA_DIR=$(DEMO_DATA) $(BIN) doctor
	YTMAKER_DATA_DIR=$(DEMO_DATA) $(BIN) generate samples/article-zh-TW.txt --offline --name "台灣茶文化"
	@echo
	@echo "Demo data directory: $(DEMO_DATA)  (YTMAKER_DATA_DIR=$(DEMO_DATA) $(BIN) projects list)"
	@echo "Web UI: YTMAKER_DATA_DIR=$(DEMO_DATA) $(BIN) serve, then open http://127.0.0.1:8000/"

demo-cloud: deps
	$(CARGO) build --release --locked -p ytmaker-cli -p ytmaker-fake-cloud
	bash scripts/demo-cloud.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	bash scripts/ensure-services.sh
	$(CARGO) test --workspace --locked --no-fail-fast

# Browser tests: Debian's Chromium (playwright-core) against the real server; screenshots in
# target/ui-artifacts/.
web-test: deps
	$(CARGO) build --locked -p ytmaker-cli -p ytmaker-fake-cloud
	cd web && npm ci && npm run build && npm run test:e2e

# The API contract on a live server: openapi-spec-validator on /api/v1/openapi.json (0 errors),
# promtool check metrics on /metrics (no lint line), and Schemathesis --checks all (no failure;
# exceptions with reasons in scripts/schemathesis.toml). Installs both Python tools, pinned, into
# target/venv-tools.
api-contract: deps
	CARGO=$(CARGO) bash scripts/check-openapi.sh

# The MCP server driven by the official Python MCP SDK, over stdio and streamable HTTP.
mcp-test: deps
	CARGO=$(CARGO) bash scripts/check-mcp.sh

test: deps lint test-rust web-test api-contract mcp-test

# The model-based test of the seams (issue 12) for 2,000 random sequences (make test runs 100,
# within a 20-minute budget); takes hours. Knobs in
# crates/ytmaker-cli/tests/seams_model.rs (YTMAKER_SEAMS_SEED, _STEPS, _SHRINK, …).
soak: deps
	YTMAKER_SEAMS_CASES=$${YTMAKER_SEAMS_CASES:-2000} YTMAKER_SEAMS_BUDGET_S=$${YTMAKER_SEAMS_BUDGET_S:-0} $(CARGO) test --locked -p ytmaker-cli --test seams_model -- --nocapture

bench: deps
	$(CARGO) build --release --locked -p ytmaker-render --example bench_render
	target/release/examples/bench_render 60
	target/release/examples/bench_render 300
	target/release/examples/bench_render 60 --logo
	$(CARGO) build --release --locked -p ytmaker-server --example bench_api
	target/release/examples/bench_api 10000

clean:
	$(CARGO) clean
	rm -rf .data bench-out
