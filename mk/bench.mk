# Benchmarks against peer embedded stores: `make bench` runs the full comparison
# (about 5-10 minutes) and writes docs/performance.md; `make bench-smoke` runs the same
# program with tiny sizes in a few seconds (part of `make test`, so the benchmark cannot
# rot; its figures are meaningless). Sizes: `make bench BENCH_ARGS="--docs 50000 --reps 5"`
# or DOCDB_BENCH_<SIZE> variables (`target/release/docdb-bench --help`). The peers (redb,
# heed, sled, fjall, rusqlite) are dependencies of bench/ only, built in release.
# Server mode compares DocDB's server with Redis over Unix sockets: bench-redis installs
# Debian's redis-server and redis-tools (redis-benchmark) as root with apt-get if missing;
# without apt-get or root it says so, and the report marks the Redis rows as not run.

TESTS += bench-smoke

BENCH_BIN := $(ROOT)/target/release/docdb-bench
BENCH_ARGS ?=
BENCH_PY_STAMP := $(ROOT)/.venv/.docdb-bench-tools

.PHONY: bench bench-build bench-smoke bench-python-deps bench-node-deps bench-redis

bench-build:
	$(CARGO) build --release -p docdb-bench

# py-lmdb, the Python peer, into the project venv (the venv comes from mk/python.mk).
$(BENCH_PY_STAMP): $(ROOT)/bench/requirements.txt | python-venv
	$(ROOT)/.venv/bin/python -m pip install --quiet --disable-pip-version-check \
		-r $(ROOT)/bench/requirements.txt
	touch $@

bench-python-deps: $(BENCH_PY_STAMP)

bench-redis:
	@if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq redis-server redis-tools >/dev/null || \
		echo "bench-redis: WARNING: apt-get could not install redis-server and redis-tools; the Redis comparison will be missing"; \
	else \
		echo "bench-redis: WARNING: redis-server/redis-benchmark missing and apt-get unavailable (or not root): the Redis comparison will be missing"; \
	fi

# The bindings are built by their own fragments (python-install, node-build, bench-go); the
# Python and Node scripts in bench/ load those build products; bench/go is a Go program.
bench: bench-build python-install node-build bench-python-deps bench-node-deps bench-go bench-redis
	$(BENCH_BIN) --dir $(ROOT)/target/bench-data --out $(ROOT)/docs/performance.md \
		--analysis $(ROOT)/bench/analysis.md \
		--python $(ROOT)/.venv/bin/python --node node --go $(GO_BENCH_BIN) $(BENCH_ARGS)

# Runs the binding scripts too when their build products are already there (as after
# test-python / test-node), without building them: the smoke test stays a few seconds.
bench-smoke: bench-build bench-redis
	$(BENCH_BIN) --smoke --dir $(ROOT)/target/bench-smoke-data \
		--out $(ROOT)/target/bench-smoke.md --analysis $(ROOT)/bench/analysis.md \
		$$($(ROOT)/.venv/bin/python -c 'import docdb' 2>/dev/null && \
			echo --python $(ROOT)/.venv/bin/python) \
		$$(ls $(ROOT)/bindings/node/*.node >/dev/null 2>&1 && echo --node node) \
		$$(test -x $(GO_BENCH_BIN) && echo --go $(GO_BENCH_BIN)) \
		> /dev/null
	@echo "bench-smoke: OK (report in target/bench-smoke.md)"

# lmdb-js and better-sqlite3, the Node peers of bench/bindings.js, into bench/node_modules
# from bench/package-lock.json (lmdb-js ships a prebuilt addon as an optional package;
# better-sqlite3 is compiled by node-gyp against the system Node's headers when no prebuilt
# binary can be downloaded: a few minutes, once).
BENCH_NODE_STAMP := $(ROOT)/bench/node_modules/.docdb-installed

$(BENCH_NODE_STAMP): $(ROOT)/bench/package.json $(ROOT)/bench/package-lock.json
	cd $(ROOT)/bench && JOBS=2 npm ci --no-audit --no-fund
	touch $@

bench-node-deps: $(BENCH_NODE_STAMP)
