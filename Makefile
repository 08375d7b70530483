# DocDB: the two commands are `make demo` (build everything, run the examples) and
# `make test` (every test suite: Rust, C, Python, Node). Each face adds its own targets in
# mk/*.mk by appending to DEMOS and TESTS.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
ROOT := $(abspath .)

DEMOS := demo-rust
TESTS := lint test-rust

-include mk/*.mk

.PHONY: all demo test lint test-rust demo-rust fmt clean $(DEMOS) $(TESTS)

all: demo

demo: $(DEMOS)
	@echo "demo: all examples ran"

test: $(TESTS)
	@echo "test: all suites passed"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust:
	$(CARGO) test --workspace --release

demo-rust:
	$(CARGO) run --release -p docdb-example-notes -- $(ROOT)/target/demo-rust

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf .venv target/demo-*
