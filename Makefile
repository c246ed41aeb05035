# The two commands: `make run` starts the app, `make test` runs every test.
# Each installs what it needs first (scripts/setup.sh) and is safe to rerun.

SHELL := /bin/bash
PROFILE ?= debug
CARGO_FLAGS := $(if $(filter release,$(PROFILE)),--release,)
BIN := target/$(PROFILE)/gatehouse
# Runs under a private session bus with an unlocked, throwaway keyring.
KEYRING_SESSION := dbus-run-session -- scripts/with-keyring.sh

.PHONY: run serve test setup-run setup-test ui app lint test-rust test-ui test-clients e2e bench check-windows clean

## Build everything and start the tray app (headless machines: `make serve`).
run: setup-run ui
	cargo build $(CARGO_FLAGS) --locked
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "No display here, so the tray app cannot start."; \
	  echo "Run the headless core instead:  make serve   (or: $(BIN) serve)"; \
	  exit 1; \
	fi
	$(BIN)

## The headless core: servers supervised, no GUI.
serve: setup-run ui
	cargo build $(CARGO_FLAGS) --locked
	$(BIN) serve

## Every test: formatting, lints, Rust tests, UI checks and tests, end-to-end.
test: setup-test lint test-ui test-rust test-clients e2e

setup-run:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test

ui:
	cd ui && npm run build

lint: ui
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	@# The core crates must build and test without Tauri or WebKit.
	@for crate in gatehouse-config gatehouse-secrets gatehouse-supervisor gatehouse-demo gatehouse-gateway gatehouse-bridge gatehouse-store gatehouse-approvals gatehouse-core; do \
	  if cargo tree --locked -p $$crate -e normal,build,dev --prefix none | grep -qiE '^(tauri|wry|webkit)'; then \
	    echo "$$crate depends on Tauri or WebKit"; exit 1; fi; \
	done

test-ui:
	cd ui && npm run check && npm test

test-rust: ui
	$(KEYRING_SESSION) cargo test --workspace --locked

## Real MCP clients (the official Python SDK, the Inspector CLI) against the
## real binary: the servers, the gateway and the bridge.
test-clients: ui
	cargo build --locked
	$(KEYRING_SESSION) .tools/venv/bin/pytest -q -p no:cacheprovider tests/clients

e2e: ui
	cargo build --locked
	xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" dbus-run-session -- tests/e2e/run.sh
	@echo "Screenshots: target/e2e/*.png"

## The Windows build, checked from Linux (not part of `make test`: it needs
## the Windows target and MinGW, which `rustup target add x86_64-pc-windows-gnu`
## and `apt-get install gcc-mingw-w64-x86-64` provide).
check-windows: ui
	CARGO_TARGET_DIR=target/windows-check cargo clippy --workspace --locked --target x86_64-pc-windows-gnu -- -D warnings

## Gatehouse against the other gateways and bridges (release builds, same
## backend, same load); rewrites docs/BENCHMARKS.md. Not part of `make test`.
bench: setup-run ui
	@tests/bench/setup.sh
	cargo build --release --locked -p gatehouse -p gatehouse-loadgen
	cargo build --release --locked -p gatehouse-approvals -p gatehouse-store --example gate_cost --example measure
	python3 tests/bench/bench.py

clean:
	cargo clean
	rm -rf ui/dist ui/node_modules tests/e2e/node_modules tests/peers/node_modules tests/bench/node_modules .tools
