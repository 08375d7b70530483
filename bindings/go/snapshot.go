package docdb

/*
#include "docdb_go.h"
*/
import "C"

import (
	"iter"
	"sync"
	"unsafe"
)

// Snapshot is a read-only view of a database at one commit version. Writers never wait
// for it, but it keeps the versions it sees alive until Close: keep it short-lived. Safe
// for any number of goroutines.
type Snapshot struct {
	owned
	ptr *C.docdb_snapshot
	db  *DB // kept reachable, with its store, while the snapshot is used

	errMu sync.Mutex
	err   error
}

func newSnapshot(d *DB, ptr *C.docdb_snapshot) *Snapshot {
	s := &Snapshot{ptr: ptr, db: d}
	adopt(&s.owned, s, unsafe.Pointer(ptr), freeSnapshot)
	return s
}

func freeSnapshot(p unsafe.Pointer) { C.docdb_snapshot_free((*C.docdb_snapshot)(p)) }

// Close releases the snapshot (its versions can then be reclaimed) once running calls
// are done. Closing again returns nil.
func (s *Snapshot) Close() error {
	if s == nil {
		return nil
	}
	s.release(unsafe.Pointer(s.ptr), freeSnapshot)
	return nil
}

// enter starts a call on the snapshot; false if it is closed or nil (see closedErr).
func (s *Snapshot) enter() bool { return s != nil && s.guard.enter() }

func (s *Snapshot) closedErr() error {
	if s == nil {
		return nilHandle("Snapshot")
	}
	return newError(ErrClosed, "snapshot is closed")
}

func (s *Snapshot) call(f func(*C.docdb_snapshot) C.gd_res) error {
	if !s.enter() {
		return s.closedErr()
	}
	defer s.leave()
	return check(f(s.ptr))
}

// Read returns document id as of the snapshot; ErrNotFound if it did not exist then.
func (s *Snapshot) Read(id uint64) ([]byte, error) {
	var b C.docdb_buf
	if err := s.call(func(p *C.docdb_snapshot) C.gd_res { return C.gd_snapshot_read(p, C.uint64_t(id), &b) }); err != nil {
		return nil, err
	}
	return takeBuf(&b), nil
}

// Contains reports whether document id existed as of the snapshot.
func (s *Snapshot) Contains(id uint64) (bool, error) {
	var ok C.bool
	err := s.call(func(p *C.docdb_snapshot) C.gd_res { return C.gd_snapshot_contains(p, C.uint64_t(id), &ok) })
	return bool(ok), err
}

// Len is the number of documents in the snapshot.
func (s *Snapshot) Len() (uint64, error) {
	var n C.uint64_t
	err := s.call(func(p *C.docdb_snapshot) C.gd_res { return C.gd_snapshot_len(p, &n) })
	return uint64(n), err
}

// Version is the commit version the snapshot reads at.
func (s *Snapshot) Version() (uint64, error) {
	var v C.uint64_t
	err := s.call(func(p *C.docdb_snapshot) C.gd_res { return C.gd_snapshot_version(p, &v) })
	return uint64(v), err
}

// IDs returns the ids of every document in the snapshot, ascending, without reading
// the documents.
func (s *Snapshot) IDs() ([]uint64, error) {
	var list C.docdb_id_list
	if err := s.call(func(p *C.docdb_snapshot) C.gd_res { return C.gd_snapshot_ids(p, &list) }); err != nil {
		return nil, err
	}
	defer C.docdb_id_list_free(&list)
	ids := make([]uint64, int(list.len))
	for i, id := range unsafe.Slice(list.ids, int(list.len)) {
		ids[i] = uint64(id)
	}
	return ids, nil
}

// All iterates over the snapshot's documents in ascending id order, each read and
// verified when reached:
//
//	for id, doc := range snap.All() { ... }
//	if err := snap.Err(); err != nil { ... }
//
// The loop stops at the first error (ErrCorruption for a damaged document, ErrClosed if
// the store closes), which Err then returns, as with bufio.Scanner. Breaking out of the
// loop early is fine; the iteration's C resources are released either way.
func (s *Snapshot) All() iter.Seq2[uint64, []byte] {
	return func(yield func(uint64, []byte) bool) {
		if s == nil {
			return // Err says why
		}
		var scan *C.docdb_snapshot_scan
		err := s.call(func(p *C.docdb_snapshot) C.gd_res { return C.gd_snapshot_scan_new(p, &scan) })
		s.setErr(err)
		if err != nil {
			return
		}
		// The scan keeps the snapshot's view alive by itself, so the snapshot may even
		// be closed while the loop runs.
		defer C.docdb_snapshot_scan_free(scan)
		for {
			var id C.uint64_t
			var b C.docdb_buf
			var done C.bool
			if err := check(C.gd_snapshot_scan_next(scan, &id, &b, &done)); err != nil {
				s.setErr(err)
				return
			}
			if done {
				return
			}
			if !yield(uint64(id), takeBuf(&b)) {
				return
			}
		}
	}
}

// Err is the error that ended the latest All loop over this snapshot, nil if it ended
// normally.
func (s *Snapshot) Err() error {
	if s == nil {
		return nilHandle("Snapshot")
	}
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

func (s *Snapshot) setErr(err error) {
	s.errMu.Lock()
	s.err = err
	s.errMu.Unlock()
}
