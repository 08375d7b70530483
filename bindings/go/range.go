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

// Bound is one end of a Range. The zero value is no bound (Unbounded).
type Bound struct {
	kind uint32
	id   uint64
}

// Unbounded is no bound: from the lowest id, or up to the highest.
func Unbounded() Bound { return Bound{} }

// Included bounds a range at id, which is in it (>= for Start, <= for End).
func Included(id uint64) Bound { return Bound{kind: C.DOCDB_BOUND_INCLUDED, id: id} }

// Excluded bounds a range at id, which is not in it (> for Start, < for End).
func Excluded(id uint64) Bound { return Bound{kind: C.DOCDB_BOUND_EXCLUDED, id: id} }

// Range is the ids an ordered read visits, the same as core's IdRange in every face: Start
// is the lowest id and End the highest whatever the direction, Reverse reads from End down,
// and when Limited it reads at most Limit documents (Limited with Limit 0 reads none; set
// both with WithLimit: a Limit without Limited is refused with ErrInvalidArgument). The
// zero value is every id, ascending, without a limit. Bounds that leave no id (Start after
// End) are an empty range, not an error.
//
//	r := docdb.Range{Start: docdb.Included(100), End: docdb.Excluded(200)}.WithLimit(50)
//	newest := docdb.Range{}.Reversed().WithLimit(10)
type Range struct {
	Start, End Bound  // the lowest and the highest id; the zero Bound is no bound
	Reverse    bool   // descending ids, from End down
	Limited    bool   // whether Limit applies (set both with WithLimit)
	Limit      uint64 // the most documents read when Limited
}

// WithLimit is the range limited to n documents.
func (r Range) WithLimit(n uint64) Range {
	r.Limited, r.Limit = true, n
	return r
}

// Reversed is the range read in descending id order.
func (r Range) Reversed() Range {
	r.Reverse = true
	return r
}

// After is the rest of the range after last, the last id of a page read from it (keyset
// pagination): the next page. The limit is kept. As core's IdRange::after, the bound moved
// is the stricter of the range's own and "after last", so the range never widens.
func (r Range) After(last uint64) Range {
	if r.Reverse {
		r.End = tighter(r.End, Excluded(last), func(a, b uint64) bool { return a < b })
	} else {
		r.Start = tighter(r.Start, Excluded(last), func(a, b uint64) bool { return a > b })
	}
	return r
}

// tighter is the stricter of two bounds of the same end of a range: a bound beats no
// bound, then the id that stricter says leaves fewer ids, then Excluded beats Included.
// a is kept when they are equal.
func tighter(a, b Bound, stricter func(a, b uint64) bool) Bound {
	switch {
	case b.kind == C.DOCDB_BOUND_UNBOUNDED:
		return a
	case a.kind == C.DOCDB_BOUND_UNBOUNDED:
		return b
	case a.id != b.id:
		if stricter(a.id, b.id) {
			return a
		}
		return b
	case b.kind == C.DOCDB_BOUND_EXCLUDED:
		return b
	default:
		return a
	}
}

// toC is the range for C; ErrInvalidArgument for a Limit without Limited, which would
// otherwise read the whole range.
func (r Range) toC() (C.docdb_range, error) {
	if r.Limit != 0 && !r.Limited {
		return C.docdb_range{}, newError(ErrInvalidArgument,
			"invalid argument: Range.Limit is %d but Limited is false: use WithLimit(%d)", r.Limit, r.Limit)
	}
	return C.docdb_range{
		start_kind: C.uint32_t(r.Start.kind),
		start:      C.uint64_t(r.Start.id),
		end_kind:   C.uint32_t(r.End.kind),
		end:        C.uint64_t(r.End.id),
		reverse:    C.bool(r.Reverse),
		has_limit:  C.bool(r.Limited),
		limit:      C.uint64_t(r.Limit),
	}, nil
}

// Scan is an ordered read of documents from Snapshot.Range, DB.Range or Txn.Range. It
// holds its own view (a snapshot's, or the transaction's), so the handle it came from may
// be closed first. Iterate it once with All; the loop releases it when it ends. Close
// releases a scan that is not iterated to its end (closing again returns nil).
type Scan struct {
	owned
	ptr *C.docdb_snapshot_scan
	src any // the handle it came from, kept reachable with its store while the scan is used

	errMu sync.Mutex
	err   error
}

func newScan(src any, ptr *C.docdb_snapshot_scan) *Scan {
	s := &Scan{ptr: ptr, src: src}
	adopt(&s.owned, s, unsafe.Pointer(ptr), freeScan)
	return s
}

func freeScan(p unsafe.Pointer) { C.docdb_snapshot_scan_free((*C.docdb_snapshot_scan)(p)) }

// Close releases the scan once a running iteration step is done.
func (s *Scan) Close() error {
	if s == nil {
		return nil
	}
	s.release(unsafe.Pointer(s.ptr), freeScan)
	return nil
}

// All iterates over the scan's documents in the range's order, each read and verified
// when reached:
//
//	scan, err := snap.Range(docdb.Range{Start: docdb.Excluded(last)}.WithLimit(50))
//	if err != nil { ... }
//	for id, doc := range scan.All() { ... }
//	if err := scan.Err(); err != nil { ... }
//
// The loop stops at the first error, which Err then returns, as with bufio.Scanner. When
// the loop ends (at the end, on an error or by break) the scan is released; a second All
// yields nothing.
func (s *Scan) All() iter.Seq2[uint64, []byte] {
	return func(yield func(uint64, []byte) bool) {
		defer s.Close()
		for {
			id, doc, ok := s.next()
			if !ok || !yield(id, doc) {
				return
			}
		}
	}
}

// next is the next document; false at the end, on an error (kept for Err), or once closed.
func (s *Scan) next() (uint64, []byte, bool) {
	if s == nil || !s.enter() {
		return 0, nil, false
	}
	defer s.leave()
	var id C.uint64_t
	var b C.docdb_buf
	var done C.bool
	if err := check(C.gd_snapshot_scan_next(s.ptr, &id, &b, &done)); err != nil {
		s.errMu.Lock()
		s.err = err
		s.errMu.Unlock()
		return 0, nil, false
	}
	if done {
		return 0, nil, false
	}
	return uint64(id), takeBuf(&b), true
}

// Err is the error that ended the iteration early, nil if none did.
func (s *Scan) Err() error {
	if s == nil {
		return nilHandle("Scan")
	}
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Range starts an ordered read of the documents of r as of the snapshot. Errors (a
// closed store or snapshot) are returned here; errors while reading end the loop and are
// returned by the scan's Err.
func (s *Snapshot) Range(r Range) (*Scan, error) {
	var ptr *C.docdb_snapshot_scan
	cr, err := r.toC()
	if err != nil {
		return nil, err
	}
	if err := s.call(func(p *C.docdb_snapshot) C.gd_res { return C.gd_snapshot_range_new(p, &cr, &ptr) }); err != nil {
		return nil, err
	}
	return newScan(s, ptr), nil
}

// Count is the number of documents of r in the snapshot (at most its limit); no document
// is read.
func (s *Snapshot) Count(r Range) (uint64, error) {
	return count(r, func(cr *C.docdb_range, n *C.uint64_t) error {
		return s.call(func(p *C.docdb_snapshot) C.gd_res { return C.gd_snapshot_count(p, cr, n) })
	})
}

// count runs one of the C count calls on r, which is checked first.
func count(r Range, f func(*C.docdb_range, *C.uint64_t) error) (uint64, error) {
	var n C.uint64_t
	cr, err := r.toC()
	if err != nil {
		return 0, err
	}
	err = f(&cr, &n)
	return uint64(n), err
}

// Range starts an ordered read of the documents of r as they are now: the scan holds a
// snapshot of its own until it is released.
func (d *DB) Range(r Range) (*Scan, error) {
	var ptr *C.docdb_snapshot_scan
	cr, err := r.toC()
	if err != nil {
		return nil, err
	}
	if err := d.call(func(p *C.docdb_db) C.gd_res { return C.gd_db_range_new(p, &cr, &ptr) }); err != nil {
		return nil, err
	}
	return newScan(d, ptr), nil
}

// Count is the number of documents of r in the database as it is now (at most its limit).
func (d *DB) Count(r Range) (uint64, error) {
	return count(r, func(cr *C.docdb_range, n *C.uint64_t) error {
		return d.call(func(p *C.docdb_db) C.gd_res { return C.gd_db_count(p, cr, n) })
	})
}

// Range starts an ordered read of the documents of r as the transaction sees them (its
// snapshot with its own writes and deletions). Documents come a page at a time, so a
// write made to the transaction during the loop shows in later pages; once the
// transaction is committed or rolled back the loop stops with ErrClosed.
func (t *Txn) Range(r Range) (*Scan, error) {
	var ptr *C.docdb_snapshot_scan
	cr, err := r.toC()
	if err != nil {
		return nil, err
	}
	if err := t.call(func(p *C.docdb_txn) C.gd_res { return C.gd_txn_range_new(p, &cr, &ptr) }); err != nil {
		return nil, err
	}
	return newScan(t, ptr), nil
}

// Count is the number of documents of r as the transaction sees them (its own writes and
// deletions counted, at most r's limit); no document is read. ErrClosed once the
// transaction is committed or rolled back.
func (t *Txn) Count(r Range) (uint64, error) {
	return count(r, func(cr *C.docdb_range, n *C.uint64_t) error {
		return t.call(func(p *C.docdb_txn) C.gd_res { return C.gd_txn_count(p, cr, n) })
	})
}
