package docdb

/*
#cgo noescape gd_db_read_into
#cgo nocallback gd_db_read_into
#cgo noescape gd_db_put
#cgo nocallback gd_db_put
#cgo noescape gd_db_contains
#cgo nocallback gd_db_contains
#cgo noescape docdb_buf_free
#cgo nocallback docdb_buf_free
#include "docdb_go.h"
*/
import "C"

import (
	"runtime"
	"slices"
	"sync/atomic"
	"unsafe"
)

// DB is one database of a Store: documents are uint64 id -> bytes. Each plain
// operation (Create, Update, Put, Delete, Batch) is its own durable transaction. Safe for
// any number of goroutines. Like a C docdb_db, it fails with ErrClosed once its store is
// closed or the database dropped. Close releases it; so does the garbage collector once
// it is unreachable (a DB keeps its Store reachable).
type DB struct {
	owned
	ptr      *C.docdb_db
	name     string
	store    *Store       // kept reachable: the store must not be collected while its DB is used
	readHint atomic.Int64 // length of the last document read (see Read)
}

func newDB(s *Store, ptr *C.docdb_db, name string) *DB {
	d := &DB{ptr: ptr, name: name, store: s}
	adopt(&d.owned, d, unsafe.Pointer(ptr), freeDB)
	return d
}

func freeDB(p unsafe.Pointer) { C.docdb_db_free((*C.docdb_db)(p)) }

// Close releases this handle (docdb_db_free) once running calls are done; further calls
// on it return ErrClosed. The database and its other handles are not affected. Closing
// again returns nil.
func (d *DB) Close() error {
	if d == nil {
		return nil
	}
	d.release(unsafe.Pointer(d.ptr), freeDB)
	return nil
}

// enter starts a call on the handle; false if it is closed or nil (see closedErr).
func (d *DB) enter() bool { return d != nil && d.guard.enter() }

func (d *DB) closedErr() error {
	if d == nil {
		return nilHandle("DB")
	}
	return newError(ErrClosed, "database handle '%s' is closed", d.name)
}

// Name is the database's name ("" for nil).
func (d *DB) Name() string {
	if d == nil {
		return ""
	}
	return d.name
}

// ID is the database's catalog id (never reused, even after a drop).
func (d *DB) ID() (uint64, error) {
	var id C.uint64_t
	err := d.call(func(p *C.docdb_db) C.gd_res { return C.gd_db_id(p, &id) })
	return uint64(id), err
}

// call runs f with the live C handle, or returns ErrClosed.
func (d *DB) call(f func(*C.docdb_db) C.gd_res) error {
	if !d.enter() {
		return d.closedErr()
	}
	defer d.leave()
	return check(f(d.ptr))
}

// Create inserts document id. ErrAlreadyExists if the id is taken, ErrPayloadTooLarge
// above Options.MaxDocumentSize, ErrMemoryLimit if a memory cap would be exceeded. The
// bytes are copied.
func (d *DB) Create(id uint64, data []byte) error {
	if !d.enter() {
		return d.closedErr()
	}
	defer d.leave()
	return check(C.gd_db_create(d.ptr, C.uint64_t(id), bytesPtr(data), C.size_t(len(data))))
}

// Update replaces the whole of document id; ErrNotFound if it does not exist.
func (d *DB) Update(id uint64, data []byte) error {
	if !d.enter() {
		return d.closedErr()
	}
	defer d.leave()
	return check(C.gd_db_update(d.ptr, C.uint64_t(id), bytesPtr(data), C.size_t(len(data))))
}

// Put inserts or replaces document id.
func (d *DB) Put(id uint64, data []byte) error {
	if !d.enter() {
		return d.closedErr()
	}
	defer d.leave()
	return check(C.gd_db_put(d.ptr, C.uint64_t(id), bytesPtr(data), C.size_t(len(data))))
}

// Read returns the newest committed version of document id (a copy the caller owns).
// ErrNotFound if absent, ErrCorruption if its record fails verification.
func (d *DB) Read(id uint64) ([]byte, error) {
	if !d.enter() {
		return nil, d.closedErr()
	}
	defer d.leave()
	// libdocdb copies the document (straight from its record cache when there) into the
	// slice Read returns, in one cgo call when the slice has the right size. The size is
	// guessed from the previous read through this handle, which is right for a database
	// of like-sized documents; a wrong guess costs a second call (too small) or a copy
	// into an exact slice (more than 1/8 too large).
	guess := int(d.readHint.Load())
	for {
		out := make([]byte, guess)
		var n C.size_t
		if err := check(C.gd_db_read_into(d.ptr, C.uint64_t(id), bytesPtr(out), C.size_t(guess), &n)); err != nil {
			return nil, err
		}
		got := int(n)
		if got != guess {
			d.readHint.Store(int64(min(got, readHintMax)))
		}
		switch {
		case got > guess: // too small: nothing was copied
			guess = got
		case guess-got > guess/8:
			exact := make([]byte, got)
			copy(exact, out)
			return exact, nil
		default:
			return out[:got:got], nil
		}
	}
}

// AppendRead appends document id to dst and returns the extended slice, like
// strconv.AppendInt: with a reused buffer (buf, err = db.AppendRead(buf[:0], id)) a read
// allocates nothing once the buffer is large enough. One cgo call when the document fits
// in dst's spare capacity, two otherwise. Errors as Read; dst is returned unchanged then.
func (d *DB) AppendRead(dst []byte, id uint64) ([]byte, error) {
	if !d.enter() {
		return dst, d.closedErr()
	}
	defer d.leave()
	for {
		spare := dst[len(dst):cap(dst)]
		var n C.size_t
		if err := check(C.gd_db_read_into(d.ptr, C.uint64_t(id), bytesPtr(spare), C.size_t(len(spare)), &n)); err != nil {
			return dst, err
		}
		if int(n) <= len(spare) {
			return dst[:len(dst)+int(n)], nil
		}
		dst = slices.Grow(dst, int(n))
	}
}

// readHintMax bounds Read's guess, so that one large document does not make the next
// small reads allocate its size.
const readHintMax = 64 << 10

// Delete removes document id; ErrNotFound if it does not exist.
func (d *DB) Delete(id uint64) error {
	if !d.enter() {
		return d.closedErr()
	}
	defer d.leave()
	return check(C.gd_db_delete(d.ptr, C.uint64_t(id)))
}

// Contains reports whether document id exists.
func (d *DB) Contains(id uint64) (bool, error) {
	var ok C.bool
	err := d.call(func(p *C.docdb_db) C.gd_res { return C.gd_db_contains(p, C.uint64_t(id), &ok) })
	return bool(ok), err
}

// Len is the number of documents.
func (d *DB) Len() (uint64, error) {
	var n C.uint64_t
	err := d.call(func(p *C.docdb_db) C.gd_res { return C.gd_db_len(p, &n) })
	return uint64(n), err
}

// BatchKind is what a BatchOp does (docdb_batch_kind).
type BatchKind uint32

const (
	BatchCreate BatchKind = C.DOCDB_BATCH_CREATE // insert; ErrAlreadyExists if the id is taken
	BatchUpdate BatchKind = C.DOCDB_BATCH_UPDATE // replace; ErrNotFound if absent
	BatchPut    BatchKind = C.DOCDB_BATCH_PUT    // insert or replace
	BatchDelete BatchKind = C.DOCDB_BATCH_DELETE // remove; ErrNotFound if absent (Data is ignored)
)

// BatchOp is one operation of DB.Batch.
type BatchOp struct {
	Kind BatchKind // what it does
	ID   uint64    // the document
	Data []byte    // its new bytes (copied); ignored by BatchDelete
}

// Batch applies ops atomically, in order, as one commit, and returns its version: all
// take effect or none does; later operations see earlier ones on the same id. When one
// operation makes the batch fail, the *Error's BatchIndex is its index (errors.As);
// a failure of the batch as a whole has BatchIndex -1.
func (d *DB) Batch(ops []BatchOp) (uint64, error) {
	// The C array lives in Go memory and points at the documents' Go memory: allowed by
	// cgo's rules because those pointers are pinned for the call.
	var pin runtime.Pinner
	defer pin.Unpin()
	cops := make([]C.docdb_batch_op, len(ops))
	for i, op := range ops {
		cops[i].kind = C.uint32_t(op.Kind)
		cops[i].id = C.uint64_t(op.ID)
		if len(op.Data) > 0 {
			p := unsafe.SliceData(op.Data)
			pin.Pin(p)
			cops[i].data = (*C.uint8_t)(unsafe.Pointer(p))
			cops[i].len = C.size_t(len(op.Data))
		}
	}
	statuses := make([]C.docdb_status, len(ops))
	var opsPtr *C.docdb_batch_op
	var stPtr *C.docdb_status
	if len(ops) > 0 {
		opsPtr, stPtr = &cops[0], &statuses[0]
	}
	var version C.uint64_t
	err := d.call(func(p *C.docdb_db) C.gd_res {
		return C.gd_db_batch(p, opsPtr, C.size_t(len(ops)), stPtr, &version)
	})
	if e, ok := err.(*Error); ok {
		for i, st := range statuses {
			if st != C.DOCDB_OK {
				e.BatchIndex = i
				break
			}
		}
		return 0, e
	}
	return uint64(version), err
}

// Begin starts a transaction reading from a snapshot of the current state. Finish it
// with Commit or Rollback.
func (d *DB) Begin() (*Txn, error) {
	var ptr *C.docdb_txn
	if err := d.call(func(p *C.docdb_db) C.gd_res { return C.gd_db_begin(p, &ptr) }); err != nil {
		return nil, err
	}
	return newTxn(d, ptr), nil
}

// Snapshot takes a read-only view of the database as it is now. It keeps the versions
// it sees alive until Close: keep it short-lived.
func (d *DB) Snapshot() (*Snapshot, error) {
	var ptr *C.docdb_snapshot
	if err := d.call(func(p *C.docdb_db) C.gd_res { return C.gd_db_snapshot(p, &ptr) }); err != nil {
		return nil, err
	}
	return newSnapshot(d, ptr), nil
}

// Compact rewrites the live documents into new segments and deletes the old ones while
// reads and writes continue; it returns the log bytes reclaimed.
func (d *DB) Compact() (uint64, error) {
	var n C.uint64_t
	err := d.call(func(p *C.docdb_db) C.gd_res { return C.gd_db_compact(p, &n) })
	return uint64(n), err
}

// Checkpoint writes a checkpoint so that the next open replays only what follows.
func (d *DB) Checkpoint() error {
	return d.call(func(p *C.docdb_db) C.gd_res { return C.gd_db_checkpoint(p) })
}

// Sync fsyncs the database's log: every commit so far becomes durable (for SyncNormal).
func (d *DB) Sync() error {
	return d.call(func(p *C.docdb_db) C.gd_res { return C.gd_db_sync(p) })
}

// Stats returns the database's statistics.
func (d *DB) Stats() (DBStats, error) {
	var st C.docdb_db_stats
	if err := d.call(func(p *C.docdb_db) C.gd_res { return C.gd_db_get_stats(p, &st) }); err != nil {
		return DBStats{}, err
	}
	return dbStatsFromC(&st), nil
}

// bytesPtr is data's address for C, which copies the bytes during the call; NULL for
// an empty slice (C allows NULL with length 0).
func bytesPtr(data []byte) *C.uint8_t {
	if len(data) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(data)))
}

// takeBuf copies a buffer filled by libdocdb into Go memory and frees it.
func takeBuf(b *C.docdb_buf) []byte {
	out := make([]byte, int(b.len))
	copy(out, unsafe.Slice((*byte)(unsafe.Pointer(b.data)), int(b.len)))
	C.docdb_buf_free(b)
	return out
}
