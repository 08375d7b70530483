#!/bin/sh
# Checks `make install`: installs into a temporary prefix, then builds a program with
# nothing but `pkg-config --cflags --libs docdb` (shared library, found through the
# installed SONAME) and with `pkg-config --static` (libdocdb.a plus Libs.private).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-cc}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/docdb-install-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PREFIX="$WORK/prefix"

make -s -C "$ROOT" install PREFIX="$PREFIX" >/dev/null
for f in lib/libdocdb.so lib/libdocdb.so.0 lib/libdocdb.a include/docdb.h lib/pkgconfig/docdb.pc; do
    test -e "$PREFIX/$f" || { echo "install: missing $f"; exit 1; }
done
soname=$(readelf -d "$PREFIX/lib/libdocdb.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
test "$soname" = "libdocdb.so.0" || { echo "install: SONAME is '$soname'"; exit 1; }

export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
pkg-config --exists docdb
test "$(pkg-config --modversion docdb)" = "$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)"

cat > "$WORK/prog.c" <<'C'
#include <docdb.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    docdb_store *store = NULL;
    docdb_db *db = NULL;
    docdb_buf buf = {NULL, 0, 0};
    if (argc < 2 || docdb_store_open(argv[1], NULL, &store) != DOCDB_OK) return 1;
    if (docdb_store_open_or_create_db(store, "t", &db) != DOCDB_OK) return 2;
    if (docdb_db_put(db, 1, (const uint8_t *)"hi", 2) != DOCDB_OK) return 3;
    if (docdb_db_read(db, 1, &buf) != DOCDB_OK || buf.len != 2 || memcmp(buf.data, "hi", 2)) return 4;
    docdb_buf_free(&buf);
    docdb_db_free(db);
    if (docdb_store_close(store) != DOCDB_OK) return 5;
    docdb_store_free(store);
    printf("linked against docdb %s: ok\n", docdb_version());
    return 0;
}
C

# Shared: the program records the SONAME and finds it through the rpath.
# shellcheck disable=SC2046
$CC -std=c99 -Wall -Wextra -Werror -o "$WORK/prog" "$WORK/prog.c" \
    $(pkg-config --cflags --libs docdb) -Wl,-rpath,"$PREFIX/lib"
readelf -d "$WORK/prog" | grep -q 'Shared library: \[libdocdb.so.0\]' \
    || { echo "install: program does not depend on libdocdb.so.0"; exit 1; }
"$WORK/prog" "$WORK/data-shared"

# Static: only libdocdb.a is present, so the linker must take it with Libs.private.
mkdir -p "$WORK/static"
cp -R "$PREFIX/." "$WORK/static/"
rm -f "$WORK/static/lib/libdocdb.so" "$WORK/static/lib/libdocdb.so.0" "$WORK/static/lib"/libdocdb.so.*
sed -i "s|^prefix=.*|prefix=$WORK/static|" "$WORK/static/lib/pkgconfig/docdb.pc"
# shellcheck disable=SC2046
PKG_CONFIG_PATH="$WORK/static/lib/pkgconfig" $CC -std=c99 -Wall -Wextra -Werror \
    -o "$WORK/prog-static" "$WORK/prog.c" \
    $(PKG_CONFIG_PATH="$WORK/static/lib/pkgconfig" pkg-config --static --cflags --libs docdb)
if readelf -d "$WORK/prog-static" | grep -q 'libdocdb'; then
    echo "install: static program still needs libdocdb.so"; exit 1
fi
"$WORK/prog-static" "$WORK/data-static"
echo "install: shared and static pkg-config builds work"
