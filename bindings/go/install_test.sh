#!/bin/sh
# Checks the documented way to build a Go program on DocDB: `make install` into a prefix,
# then cgo finds libdocdb through nothing but PKG_CONFIG_PATH (the binding's
# `#cgo pkg-config: docdb`), the program is linked against the installed SONAME and runs.
# Go's caches come from the caller's environment (mk/go.mk keeps them in target/go).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GO=${GO:-go}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/docdb-go-install-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PREFIX="$WORK/prefix"

make -s -C "$ROOT" install PREFIX="$PREFIX" >/dev/null
cd "$ROOT/examples/go"
PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" CGO_LDFLAGS="-Wl,-rpath,$PREFIX/lib" \
    "$GO" build -o "$WORK/todo" .
readelf -d "$WORK/todo" | grep -q 'Shared library: \[libdocdb.so.0\]' \
    || { echo "go install test: program does not depend on libdocdb.so.0"; exit 1; }
readelf -d "$WORK/todo" | grep -q "$PREFIX/lib" \
    || { echo "go install test: no rpath to the installed library"; exit 1; }
"$WORK/todo" "$WORK/data" add "installed" >/dev/null
test "$("$WORK/todo" "$WORK/data" list | tail -1 | tr -s ' ')" = " [ ] 1 installed" \
    || { echo "go install test: unexpected list output"; exit 1; }
echo "go install test: a Go program builds against the installed docdb.pc and runs"
