package docdb

/*
#include "docdb_go.h"
*/
import "C"

import "unsafe"

// Txn is a transaction: it reads from the snapshot taken at Begin plus its own writes,
// and buffers its writes until Commit applies them atomically. Commit (whatever its
// result) and Rollback finish it; afterwards every call returns ErrClosed. Calls from
// several goroutines are serialised, but a transaction is one unit of work.
type Txn struct {
	owned
	ptr *C.docdb_txn
	db  *DB // kept reachable, with its store, while the transaction is used
}

// newTxn wraps a begun transaction; one dropped unfinished is rolled back when collected.
func newTxn(d *DB, ptr *C.docdb_txn) *Txn {
	t := &Txn{ptr: ptr, db: d}
	adopt(&t.owned, t, unsafe.Pointer(ptr), freeTxn)
	return t
}

func freeTxn(p unsafe.Pointer) { C.docdb_txn_free((*C.docdb_txn)(p)) }

// finish runs the C call that ends the transaction (commit or rollback) once running
// calls are done, then frees the handle.
func (t *Txn) finish(f func(*C.docdb_txn) C.gd_res) error {
	if t == nil {
		return nilHandle("Txn")
	}
	if !t.shut() {
		return t.closedErr()
	}
	defer t.mu.Unlock()
	err := check(f(t.ptr))
	t.cleanup.Stop()
	freeTxn(unsafe.Pointer(t.ptr))
	return err
}

// enter starts a call on the transaction; false if it is finished or nil (see closedErr).
func (t *Txn) enter() bool { return t != nil && t.guard.enter() }

func (t *Txn) closedErr() error {
	if t == nil {
		return nilHandle("Txn")
	}
	return newError(ErrClosed, "transaction is finished (committed, rolled back or its store closed)")
}

func (t *Txn) call(f func(*C.docdb_txn) C.gd_res) error {
	if !t.enter() {
		return t.closedErr()
	}
	defer t.leave()
	return check(f(t.ptr))
}

// Read returns document id as this transaction sees it (its own writes included).
func (t *Txn) Read(id uint64) ([]byte, error) {
	var b C.docdb_buf
	if err := t.call(func(p *C.docdb_txn) C.gd_res { return C.gd_txn_read(p, C.uint64_t(id), &b) }); err != nil {
		return nil, err
	}
	return takeBuf(&b), nil
}

// Contains reports whether document id exists as this transaction sees it.
func (t *Txn) Contains(id uint64) (bool, error) {
	var ok C.bool
	err := t.call(func(p *C.docdb_txn) C.gd_res { return C.gd_txn_contains(p, C.uint64_t(id), &ok) })
	return bool(ok), err
}

// Create stages the creation of document id; ErrAlreadyExists if it exists as seen here.
func (t *Txn) Create(id uint64, data []byte) error {
	return t.call(func(p *C.docdb_txn) C.gd_res {
		return C.gd_txn_create(p, C.uint64_t(id), bytesPtr(data), C.size_t(len(data)))
	})
}

// Update stages a replacement of document id; ErrNotFound if it does not exist as seen here.
func (t *Txn) Update(id uint64, data []byte) error {
	return t.call(func(p *C.docdb_txn) C.gd_res {
		return C.gd_txn_update(p, C.uint64_t(id), bytesPtr(data), C.size_t(len(data)))
	})
}

// Put stages an insert-or-replace of document id.
func (t *Txn) Put(id uint64, data []byte) error {
	return t.call(func(p *C.docdb_txn) C.gd_res {
		return C.gd_txn_put(p, C.uint64_t(id), bytesPtr(data), C.size_t(len(data)))
	})
}

// Delete stages the deletion of document id; ErrNotFound if it does not exist as seen here.
func (t *Txn) Delete(id uint64) error {
	return t.call(func(p *C.docdb_txn) C.gd_res { return C.gd_txn_delete(p, C.uint64_t(id)) })
}

// Pending is the number of staged writes.
func (t *Txn) Pending() (int, error) {
	var n C.size_t
	err := t.call(func(p *C.docdb_txn) C.gd_res { return C.gd_txn_pending(p, &n) })
	return int(n), err
}

// ReadVersion is the commit version this transaction reads at.
func (t *Txn) ReadVersion() (uint64, error) {
	var v C.uint64_t
	err := t.call(func(p *C.docdb_txn) C.gd_res { return C.gd_txn_read_version(p, &v) })
	return uint64(v), err
}

// Commit applies every staged write atomically and returns the commit's version (the
// read version if nothing was written). ErrConflict if another commit changed a
// document this transaction writes after it began: nothing was applied; begin again.
// The transaction is finished whatever the result.
func (t *Txn) Commit() (uint64, error) {
	var v C.uint64_t
	err := t.finish(func(p *C.docdb_txn) C.gd_res { return C.gd_txn_commit(p, &v) })
	return uint64(v), err
}

// Rollback discards the staged writes and finishes the transaction; ErrClosed if it
// was already finished.
func (t *Txn) Rollback() error {
	return t.finish(func(p *C.docdb_txn) C.gd_res { return C.gd_txn_rollback(p) })
}
