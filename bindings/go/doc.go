// Package docdb is the Go binding of DocDB, an embedded, crash-safe, ACID document
// database: documents are uint64 id -> bytes (up to 16 MiB by default) in named
// databases inside one data directory. It calls libdocdb in this process through cgo
// (Open), or a `docdb serve` process through it (Connect), with the same types.
//
//	store, err := docdb.Open("data", nil)      // nil: DefaultOptions()
//	users, err := store.OpenOrCreateDB("users")
//	err = users.Create(1, []byte(`{"name":"Ada"}`))
//	doc, err := users.Read(1)                  // errors.Is(err, docdb.ErrNotFound)
//	err = store.Close()
//
// Every handle (Store, DB, Txn, Snapshot) is safe for any number of goroutines. Close the
// Store when done; the handles obtained from it then fail with ErrClosed, as in the C API,
// until they are released (Close, Commit, Rollback, or the garbage collector). A nil handle
// answers ErrInvalidArgument instead of panicking. Errors are
// *Error values carrying the engine's message; compare kinds with errors.Is (ErrNotFound,
// ErrConflict, ErrLocked, ...). Building needs cgo and libdocdb found by pkg-config
// (package docdb): see README.md.
package docdb
