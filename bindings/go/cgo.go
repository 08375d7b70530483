package docdb

// libdocdb is found through pkg-config (docdb.pc, installed by `make install`); `make
// test-go` points PKG_CONFIG_PATH at a docdb.pc describing the build tree instead. The C
// wrappers every file calls are in docdb_go.h.

/*
#cgo pkg-config: docdb
*/
import "C"
