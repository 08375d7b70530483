package docdb

/*
#include "docdb_go.h"
*/
import "C"

import (
	"runtime"
	"strings"
	"unsafe"
)

// Store is an open data directory: in this process through libdocdb (Open), or served by
// a `docdb serve` process (Connect); every method works the same on both. It is safe for
// any number of goroutines. Close it when done. The handles obtained from it follow the C
// API: they keep working while the store is open and fail with ErrClosed once it is
// closed. Release them early with DB.Close, Snapshot.Close, Txn.Commit or Rollback; the
// garbage collector releases whatever is dropped, as a safety net only.
type Store struct {
	guard
	ptr     *C.docdb_store
	path    string
	cleanup runtime.Cleanup
}

// Open opens the data directory at path, creating it if needed. opts may be nil for
// DefaultOptions(). ErrLocked if another process or open Store holds the directory.
func Open(path string, opts *Options) (*Store, error) {
	cpath, err := cString(path, ErrInvalidArgument, "path")
	if err != nil {
		return nil, err
	}
	var copts *C.docdb_options
	if opts != nil {
		o := opts.toC()
		copts = &o
	}
	var ptr *C.docdb_store
	if err := check(C.gd_store_open(cpath, copts, &ptr)); err != nil {
		return nil, err
	}
	return newStore(ptr, path), nil
}

func newStore(ptr *C.docdb_store, path string) *Store {
	s := &Store{ptr: ptr, path: path}
	// Safety net: a Store dropped unclosed is closed when collected (DBs keep it reachable).
	s.cleanup = runtime.AddCleanup(s, func(p *C.docdb_store) { C.docdb_store_free(p) }, ptr)
	return s
}

// Path is the data directory given to Open, or the URL given to Connect ("" for nil).
func (s *Store) Path() string {
	if s == nil {
		return ""
	}
	return s.path
}

// Close closes the store as docdb_store_close does (waits for background work,
// checkpoints and syncs every open database, releases the directory lock), once running
// calls are done, and frees this handle. Afterwards every call on the store and on the
// handles obtained from it returns ErrClosed. Closing again returns nil. If this process
// opened the directory again (Open returns another *Store on the same open store), Close
// ends this *Store only, and the store closes with the last one.
func (s *Store) Close() error {
	if s == nil {
		return nilHandle("Store")
	}
	if !s.shut() {
		return nil
	}
	defer s.mu.Unlock()
	err := check(C.gd_store_close(s.ptr))
	s.cleanup.Stop()
	C.docdb_store_free(s.ptr)
	return err
}

// Closed reports whether Close was called.
func (s *Store) Closed() bool {
	if !s.enter() {
		return true
	}
	defer s.leave()
	return bool(C.docdb_store_is_closed(s.ptr))
}

// enter starts a call on the store; false if it is closed or nil (see closedErr).
func (s *Store) enter() bool { return s != nil && s.guard.enter() }

func (s *Store) closedErr() error {
	if s == nil {
		return nilHandle("Store")
	}
	return newError(ErrClosed, "store '%s' is closed", s.path)
}

// openDB runs one of the three database-opening calls.
func (s *Store) openDB(name string, open func(*C.docdb_store, *C.char, **C.docdb_db) C.gd_res) (*DB, error) {
	cname, err := cString(name, ErrInvalidName, "database name")
	if err != nil {
		return nil, err
	}
	if !s.enter() {
		return nil, s.closedErr()
	}
	defer s.leave()
	var ptr *C.docdb_db
	if err := check(open(s.ptr, cname, &ptr)); err != nil {
		return nil, err
	}
	return newDB(s, ptr, name), nil
}

// CreateDB creates the database name and opens it. ErrAlreadyExists if the name is
// taken, ErrInvalidName unless it is 1 to 64 characters of [A-Za-z0-9_.-] not starting
// with '.'.
func (s *Store) CreateDB(name string) (*DB, error) {
	return s.openDB(name, func(p *C.docdb_store, n *C.char, out **C.docdb_db) C.gd_res {
		return C.gd_store_create_db(p, n, out)
	})
}

// OpenDB opens the existing database name; ErrNotFound if there is none.
func (s *Store) OpenDB(name string) (*DB, error) {
	return s.openDB(name, func(p *C.docdb_store, n *C.char, out **C.docdb_db) C.gd_res {
		return C.gd_store_open_db(p, n, out)
	})
}

// OpenOrCreateDB opens the database name, creating it first if it does not exist.
func (s *Store) OpenOrCreateDB(name string) (*DB, error) {
	return s.openDB(name, func(p *C.docdb_store, n *C.char, out **C.docdb_db) C.gd_res {
		return C.gd_store_open_or_create_db(p, n, out)
	})
}

// DropDB removes the database name (durably) and deletes its files; its open DB
// handles fail with ErrClosed from then on. ErrNotFound if absent.
func (s *Store) DropDB(name string) error {
	cname, err := cString(name, ErrInvalidName, "database name")
	if err != nil {
		return err
	}
	if !s.enter() {
		return s.closedErr()
	}
	defer s.leave()
	return check(C.gd_store_drop_db(s.ptr, cname))
}

// DBInfo names one database of a store.
type DBInfo struct {
	ID   uint64 // catalog id, never reused
	Name string // its name
}

// ListDBs lists the store's databases by id.
func (s *Store) ListDBs() ([]DBInfo, error) {
	if !s.enter() {
		return nil, s.closedErr()
	}
	defer s.leave()
	var list C.docdb_db_list
	if err := check(C.gd_store_list_dbs(s.ptr, &list)); err != nil {
		return nil, err
	}
	defer C.docdb_db_list_free(&list)
	infos := make([]DBInfo, 0, int(list.len))
	for _, it := range unsafe.Slice(list.items, int(list.len)) {
		infos = append(infos, DBInfo{ID: uint64(it.id), Name: C.GoString(it.name)})
	}
	return infos, nil
}

// Stats returns the store's statistics (sums over the open databases).
func (s *Store) Stats() (StoreStats, error) {
	if !s.enter() {
		return StoreStats{}, s.closedErr()
	}
	defer s.leave()
	var st C.docdb_store_stats
	if err := check(C.gd_store_get_stats(s.ptr, &st)); err != nil {
		return StoreStats{}, err
	}
	return storeStatsFromC(&st), nil
}

// Checkpoint writes a checkpoint of every open database (the next open replays only
// what follows).
func (s *Store) Checkpoint() error {
	if !s.enter() {
		return s.closedErr()
	}
	defer s.leave()
	return check(C.gd_store_checkpoint(s.ptr))
}

// Sync fsyncs every open database's log: every commit so far becomes durable (useful
// with SyncNormal).
func (s *Store) Sync() error {
	if !s.enter() {
		return s.closedErr()
	}
	defer s.leave()
	return check(C.gd_store_sync(s.ptr))
}

// Backup writes a consistent copy of the store into dest (absent, or an empty directory
// outside the store) while other goroutines keep reading and writing. The copy holds, for
// every database, exactly the commits made before one instant; it is fsynced and verified
// by opening it before Backup returns, and opens with Open like any store.
// ErrAlreadyExists if dest is not empty, ErrInvalidArgument if it is inside the store;
// on failure nothing of the copy is left. A store from Connect answers
// ErrInvalidArgument: back up on the server's host (`docdb backup`).
func (s *Store) Backup(dest string) error {
	cdest, err := cString(dest, ErrInvalidArgument, "dest")
	if err != nil {
		return err
	}
	if !s.enter() {
		return s.closedErr()
	}
	defer s.leave()
	return check(C.gd_store_backup(s.ptr, cdest))
}

// cString returns s NUL-terminated in Go memory, which C only reads during the call. A
// NUL inside s would silently cut it short in C, so it is refused with code.
func cString(s string, code Code, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, newError(code, "%s %q contains a NUL byte", what, s)
	}
	b := make([]byte, len(s)+1)
	copy(b, s)
	return (*C.char)(unsafe.Pointer(&b[0])), nil
}
