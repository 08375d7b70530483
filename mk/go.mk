# The Go face: the cgo binding in bindings/go, its tests (go vet, go test -race,
# and again under GOEXPERIMENT=cgocheck2, which checks every pointer passed to C), the demo
# in examples/go and the Go rows of `make bench` (bench/go). Needs Go >= 1.24 (the
# machine's /usr/local/go) and cgo's C compiler. Modules (bbolt, for the benchmark only)
# come from the Go module proxy into target/go/mod, pinned by the committed go.sum files.

DEMOS += demo-go
TESTS += test-go

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
GO_DIR := $(ROOT)/target/go
GO_PC := $(GO_DIR)/pkgconfig/docdb.pc
GO_BENCH_BIN := $(GO_DIR)/docdb-go-bench
# Everything Go downloads or caches stays in the repository (make clean removes it;
# -modcacherw lets it). PKG_CONFIG_PATH names only the build tree's docdb.pc, so an
# installed libdocdb cannot be picked up by mistake.
GO_ENV := GOMODCACHE=$(GO_DIR)/mod GOCACHE=$(GO_DIR)/cache GOFLAGS=-modcacherw \
	GOTOOLCHAIN=local CGO_ENABLED=1 PKG_CONFIG_PATH=$(GO_DIR)/pkgconfig

.PHONY: go-pc test-go demo-go bench-go

# A docdb.pc for the build tree (what `make install` writes for PREFIX, pointing at
# include/ and target/release instead, with an rpath so test binaries find libdocdb.so.0).
go-pc: lib-c
	mkdir -p $(dir $(GO_PC))
	printf '%s\n' 'Name: docdb' 'Description: DocDB (build tree)' 'Version: $(C_VERSION)' \
		'Cflags: -I$(ROOT)/include' \
		'Libs: -L$(C_LIBDIR) -Wl,-rpath,$(C_LIBDIR) -ldocdb' > $(GO_PC)

# bench-go also vets bench/go and leaves its program for bench-smoke.
test-go: go-pc bench-go cli
	cd $(ROOT)/bindings/go && $(GO_ENV) $(GO) vet -tags conformance ./...
	cd $(ROOT)/examples/go && $(GO_ENV) $(GO) vet ./...
	cd $(ROOT)/bindings/go && $(GO_ENV) DOCDB_EXE=$(DOCDB) GODEBUG=cgocheck=1 $(GO) test -race -count=1 ./...
	cd $(ROOT)/bindings/go && $(GO_ENV) DOCDB_EXE=$(DOCDB) GOEXPERIMENT=cgocheck2 $(GO) test -count=1 ./...
	$(GO_ENV) GO=$(GO) sh $(ROOT)/bindings/go/install_test.sh

# The conformance scenarios (tests/conformance, shared by every face) through the Go
# binding, run by `make test-conformance` (mk/conformance.mk); the runner fails if it finds
# no scenarios.
.PHONY: test-conformance-go
# TestConformance (in process) and TestConformanceRemote (every store served by `docdb serve`).
test-conformance-go: go-pc cli
	cd $(ROOT)/bindings/go && $(GO_ENV) DOCDB_EXE=$(DOCDB) $(GO) test -tags conformance -count=1 -run TestConformance ./...

demo-go: go-pc
	rm -rf $(ROOT)/target/demo-go
	cd $(ROOT)/examples/go && $(GO_ENV) $(GO) build -o $(GO_DIR)/todo .
	$(GO_DIR)/todo $(ROOT)/target/demo-go add "write the Go binding" "run it under the race detector"
	$(GO_DIR)/todo $(ROOT)/target/demo-go add "measure against bbolt"
	$(GO_DIR)/todo $(ROOT)/target/demo-go done 2
	$(GO_DIR)/todo $(ROOT)/target/demo-go rm 3
	$(GO_DIR)/todo $(ROOT)/target/demo-go list
	$(GO_DIR)/todo $(ROOT)/target/demo-go stats

# The Go benchmark program (DocDB through the binding, and bbolt), run by `make bench`
# (mk/bench.mk passes --go to docdb-bench).
bench-go: go-pc
	cd $(ROOT)/bench/go && $(GO_ENV) $(GO) vet ./... && $(GO_ENV) $(GO) build -o $(GO_BENCH_BIN) .
