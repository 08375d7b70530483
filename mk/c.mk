# The C face: libdocdb.so / libdocdb.a from ffi/, the generated include/docdb.h,
# the C tests in tests/c/ (under valgrind; test_remote against `docdb serve`), the C demo in examples/c/, and `make install`.
# Needs only cc, c++, valgrind and pkg-config from the machine; cbindgen comes from
# crates.io through the docdb-ffi-header crate (pinned by Cargo.lock).

DEMOS += demo-c
TESTS += test-c

C_CC ?= cc
C_CXX ?= c++
C_LIBDIR := $(ROOT)/target/release
C_OUT := $(ROOT)/target/c
C_CFLAGS := -std=c99 -Wall -Wextra -Werror -pedantic -I$(ROOT)/include
# The rpath lets programs run from the build tree; installed programs use the SONAME.
C_LDFLAGS := -L$(C_LIBDIR) -Wl,-rpath,$(C_LIBDIR) -ldocdb -lpthread
C_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' $(ROOT)/Cargo.toml | head -1)
# Every leak kind counts (a "possibly lost" block fails the run too).
C_VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: lib-c header header-check install c-tools

# libdocdb.so carries the SONAME libdocdb.so.0 (ffi/build.rs); the symlink lets in-tree
# programs find it by that name.
lib-c:
	$(CARGO) build --release -p docdb-ffi
	ln -sf libdocdb.so $(C_LIBDIR)/libdocdb.so.0

# Regenerates include/docdb.h from ffi/src (commit the result).
header:
	$(CARGO) run --release -q -p docdb-ffi-header

# Fails when the committed header differs from a fresh generation.
header-check:
	$(CARGO) run --release -q -p docdb-ffi-header -- --verify

# valgrind and pkg-config come with this kind of machine; install them if a machine lacks
# them (as root, from Debian's packages).
c-tools:
	@command -v valgrind >/dev/null && command -v pkg-config >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq valgrind pkg-config; }

test-c: c-tools header-check lib-c cli
	mkdir -p $(C_OUT)
	$(C_CC) $(C_CFLAGS) -o $(C_OUT)/header_c $(ROOT)/tests/c/header_c.c $(C_LDFLAGS)
	$(C_CXX) -std=c++11 -Wall -Wextra -Werror -pedantic -I$(ROOT)/include \
		-o $(C_OUT)/header_cxx $(ROOT)/tests/c/header_cxx.cpp $(C_LDFLAGS)
	$(C_OUT)/header_c
	$(C_OUT)/header_cxx
	sh $(ROOT)/tests/c/install_test.sh
	$(C_CC) $(C_CFLAGS) -g -o $(C_OUT)/test_docdb $(ROOT)/tests/c/test_docdb.c $(C_LDFLAGS)
	$(C_VALGRIND) $(C_OUT)/test_docdb
	$(C_CC) $(C_CFLAGS) -g -o $(C_OUT)/test_remote $(ROOT)/tests/c/test_remote.c $(C_LDFLAGS)
	$(C_VALGRIND) $(C_OUT)/test_remote $(DOCDB)

demo-c: lib-c
	mkdir -p $(C_OUT)
	$(C_CC) $(C_CFLAGS) -o $(C_OUT)/notes $(ROOT)/examples/c/notes.c $(C_LDFLAGS)
	rm -rf $(ROOT)/target/demo-c
	$(C_OUT)/notes $(ROOT)/target/demo-c add "buy milk"
	$(C_OUT)/notes $(ROOT)/target/demo-c add "call Ada about the engine"
	$(C_OUT)/notes $(ROOT)/target/demo-c add "water the plants"
	$(C_OUT)/notes $(ROOT)/target/demo-c edit 1 "buy oat milk"
	$(C_OUT)/notes $(ROOT)/target/demo-c rm 3
	$(C_OUT)/notes $(ROOT)/target/demo-c show 2
	$(C_OUT)/notes $(ROOT)/target/demo-c list
	$(C_OUT)/notes $(ROOT)/target/demo-c stats

install: lib-c
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(C_LIBDIR)/libdocdb.so $(DESTDIR)$(PREFIX)/lib/libdocdb.so.$(C_VERSION)
	ln -sf libdocdb.so.$(C_VERSION) $(DESTDIR)$(PREFIX)/lib/libdocdb.so.0
	ln -sf libdocdb.so.0 $(DESTDIR)$(PREFIX)/lib/libdocdb.so
	install -m 644 $(C_LIBDIR)/libdocdb.a $(DESTDIR)$(PREFIX)/lib/libdocdb.a
	install -m 644 $(ROOT)/include/docdb.h $(DESTDIR)$(PREFIX)/include/docdb.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(C_VERSION)|' $(ROOT)/ffi/docdb.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/docdb.pc
