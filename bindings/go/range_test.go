package docdb

import (
	"fmt"
	"slices"
	"testing"
)

// ids drains a scan, checking each document is "d<id>".
func ids(t *testing.T, sc *Scan, err error) []uint64 {
	t.Helper()
	must(t, err)
	out := []uint64{}
	for id, doc := range sc.All() {
		if string(doc) != fmt.Sprintf("d%d", id) {
			t.Fatalf("document %d is %q", id, doc)
		}
		out = append(out, id)
	}
	must(t, sc.Err())
	return out
}

func putD(t *testing.T, db *DB, id uint64) {
	t.Helper()
	must(t, db.Put(id, fmt.Appendf(nil, "d%d", id)))
}

// onBoth runs f on a local store and on a store served by `docdb serve`.
func onBoth(t *testing.T, f func(t *testing.T, s *Store)) {
	t.Run("local", func(t *testing.T) {
		s, _ := openStore(t, nil)
		f(t, s)
	})
	t.Run("remote", func(t *testing.T) { f(t, connect(t, startServer(t))) })
}

func TestRanges(t *testing.T) { onBoth(t, testRanges) }

func testRanges(t *testing.T, s *Store) {
	db := openDB(t, s, "d")
	for id := uint64(10); id <= 50; id += 10 {
		putD(t, db, id)
	}
	snap, err := db.Snapshot()
	must(t, err)
	defer snap.Close()
	putD(t, db, 60) // not in the snapshot

	check := func(r Range, want ...uint64) {
		t.Helper()
		if want == nil {
			want = []uint64{}
		}
		sc, err := snap.Range(r)
		if got := ids(t, sc, err); !slices.Equal(got, want) {
			t.Fatalf("%+v: got %v, want %v", r, got, want)
		}
		n, err := snap.Count(r)
		must(t, err)
		if n != uint64(len(want)) {
			t.Fatalf("%+v: count %d, want %d", r, n, len(want))
		}
	}
	check(Range{}, 10, 20, 30, 40, 50)
	check(Range{Start: Included(20), End: Excluded(50)}, 20, 30, 40)
	check(Range{Start: Excluded(20), End: Included(50)}, 30, 40, 50)
	check(Range{End: Included(30)}.Reversed(), 30, 20, 10)
	check(Range{}.Reversed().WithLimit(2), 50, 40)
	check(Range{}.WithLimit(0))
	check(Range{Start: Included(40), End: Included(20)}) // inverted: empty
	check(Range{Start: Excluded(30), End: Excluded(31)})

	// Keyset paging both ways: every document once, in order.
	for _, first := range []Range{Range{}.WithLimit(2), Range{}.Reversed().WithLimit(2)} {
		var seen []uint64
		for r := first; ; {
			sc, err := snap.Range(r)
			page := ids(t, sc, err)
			if len(page) == 0 {
				break
			}
			seen = append(seen, page...)
			r = r.After(page[len(page)-1])
		}
		want := []uint64{10, 20, 30, 40, 50}
		if first.Reverse {
			slices.Reverse(want)
		}
		if !slices.Equal(seen, want) {
			t.Fatalf("pages %v, want %v", seen, want)
		}
	}

	// The database's range: as it is now, held by the scan.
	sc, err := db.Range(Range{Start: Included(40)})
	putD(t, db, 70)
	if got := ids(t, sc, err); !slices.Equal(got, []uint64{40, 50, 60}) {
		t.Fatalf("db range %v", got)
	}
	if n, err := db.Count(Range{Start: Included(40)}); err != nil || n != 4 {
		t.Fatalf("db count %d %v", n, err)
	}

	// Breaking out of a loop early releases the scan; iterating again yields nothing.
	sc, err = db.Range(Range{})
	must(t, err)
	for range sc.All() {
		break
	}
	for range sc.All() {
		t.Fatal("a released scan yielded a document")
	}
	must(t, sc.Close())
	// A scan never iterated is released by Close.
	sc, err = snap.Range(Range{})
	must(t, err)
	must(t, sc.Close())
}

func TestTxnRange(t *testing.T) { onBoth(t, testTxnRange) }

func testTxnRange(t *testing.T, s *Store) {
	db := openDB(t, s, "d")
	for id := uint64(10); id <= 40; id += 10 {
		putD(t, db, id)
	}
	tx, err := db.Begin()
	must(t, err)
	must(t, tx.Delete(20))
	must(t, tx.Put(25, []byte("d25")))
	// More documents than one page of the C scan (64).
	for id := uint64(1000); id < 1600; id++ {
		must(t, tx.Put(id, fmt.Appendf(nil, "d%d", id)))
	}
	putD(t, db, 35) // committed after Begin: not seen
	sc, err := tx.Range(Range{End: Included(1000)})
	if got := ids(t, sc, err); !slices.Equal(got, []uint64{10, 25, 30, 40, 1000}) {
		t.Fatalf("txn range %v", got)
	}
	sc, err = tx.Range(Range{Start: Included(1000)}.Reversed().WithLimit(555))
	got := ids(t, sc, err)
	if len(got) != 555 || got[0] != 1599 || got[554] != 1045 {
		t.Fatalf("txn range of %d documents, %v...", len(got), got[:1])
	}
	// Its count sees the same view: 20 deleted, 25 and 1000..1599 staged, 35 unseen.
	for _, c := range []struct {
		r    Range
		want uint64
	}{
		{Range{}, 604},
		{Range{End: Included(1000)}, 5},
		{Range{Start: Excluded(10), End: Excluded(40)}.Reversed(), 2},
		{Range{Start: Included(1000)}.Reversed().WithLimit(555), 555},
		{Range{}.WithLimit(0), 0},
		{Range{Start: Included(41), End: Excluded(1000)}, 0},
		{Range{Start: Included(40), End: Included(10)}, 0},
	} {
		if n, err := tx.Count(c.r); err != nil || n != c.want {
			t.Fatalf("txn count of %+v: %d, %v; want %d", c.r, n, err, c.want)
		}
	}
	// A scan of a finished transaction stops with ErrClosed.
	sc, err = tx.Range(Range{})
	must(t, err)
	n := 0
	for range sc.All() {
		if n == 0 {
			must(t, tx.Rollback())
		}
		n++
	}
	if n != 1 {
		t.Fatalf("%d documents after the rollback", n-1)
	}
	wantErr(t, sc.Err(), ErrClosed)
	_, err = tx.Range(Range{})
	wantErr(t, err, ErrClosed)
	_, err = tx.Count(Range{})
	wantErr(t, err, ErrClosed)
}

func TestRangesOfAClosedStore(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	must(t, err)
	db := openDB(t, s, "d")
	putD(t, db, 1)
	snap, err := db.Snapshot()
	must(t, err)
	must(t, s.Close())
	_, err = snap.Range(Range{})
	wantErr(t, err, ErrClosed)
	_, err = snap.Count(Range{})
	wantErr(t, err, ErrClosed)
	_, err = db.Range(Range{})
	wantErr(t, err, ErrClosed)
	_, err = db.Count(Range{})
	wantErr(t, err, ErrClosed)
	must(t, snap.Close())
	_, err = snap.Range(Range{})
	wantErr(t, err, ErrClosed)
}

// A scan started before its store is closed ends with ErrClosed at its first step, on a
// local store and on a remote one alike (a remote scan must not go on yielding the page
// it fetched when it started).
func TestScansEndWhenTheStoreCloses(t *testing.T) { onBoth(t, testScansEndWhenTheStoreCloses) }

func testScansEndWhenTheStoreCloses(t *testing.T, s *Store) {
	db := openDB(t, s, "d")
	for id := uint64(1); id <= 3; id++ {
		putD(t, db, id)
	}
	snap, err := db.Snapshot()
	must(t, err)
	defer snap.Close()
	tx, err := db.Begin()
	must(t, err)
	scans := map[string]*Scan{}
	scans["db"], err = db.Range(Range{})
	must(t, err)
	scans["snapshot"], err = snap.Range(Range{})
	must(t, err)
	scans["txn"], err = tx.Range(Range{})
	must(t, err)
	must(t, s.Close())
	_, err = tx.Count(Range{})
	wantErr(t, err, ErrClosed)
	for name, sc := range scans {
		for id := range sc.All() {
			t.Fatalf("%s scan yielded document %d after its store was closed", name, id)
		}
		wantErr(t, sc.Err(), ErrClosed)
	}
}

// A Limit without Limited would silently read the whole range (the zero value of Limited
// means no limit): Range and Count refuse it rather than read what was not asked for.
func TestLimitWithoutLimited(t *testing.T) {
	s, _ := openStore(t, nil)
	db := openDB(t, s, "d")
	putD(t, db, 1)
	snap, err := db.Snapshot()
	must(t, err)
	defer snap.Close()
	tx, err := db.Begin()
	must(t, err)
	defer tx.Rollback()
	r := Range{Limit: 10}
	_, err = db.Range(r)
	wantErr(t, err, ErrInvalidArgument)
	_, err = db.Count(r)
	wantErr(t, err, ErrInvalidArgument)
	_, err = snap.Range(r)
	wantErr(t, err, ErrInvalidArgument)
	_, err = snap.Count(r)
	wantErr(t, err, ErrInvalidArgument)
	_, err = tx.Range(r)
	wantErr(t, err, ErrInvalidArgument)
	_, err = tx.Count(r)
	wantErr(t, err, ErrInvalidArgument)
	// WithLimit sets both; Limited with Limit 0 reads nothing.
	if n, err := db.Count(Range{}.WithLimit(10)); err != nil || n != 1 {
		t.Fatalf("count %d, %v", n, err)
	}
}

// After never widens a range: as core's IdRange::after, the new bound is the stricter of
// the old one and "after last" (a last outside the range keeps the range's own bound).
func TestAfterKeepsTheStricterBound(t *testing.T) {
	for _, c := range []struct {
		r    Range
		last uint64
		want Range
	}{
		{Range{}, 5, Range{Start: Excluded(5)}},
		{Range{Start: Included(10)}, 5, Range{Start: Included(10)}},
		{Range{Start: Included(10)}, 10, Range{Start: Excluded(10)}},
		{Range{Start: Excluded(10)}, 10, Range{Start: Excluded(10)}},
		{Range{Start: Included(10)}, 12, Range{Start: Excluded(12)}},
		{Range{End: Included(10)}.Reversed(), 20, Range{End: Included(10)}.Reversed()},
		{Range{End: Excluded(10)}.Reversed(), 10, Range{End: Excluded(10)}.Reversed()},
		{Range{End: Included(10)}.Reversed(), 10, Range{End: Excluded(10)}.Reversed()},
		{Range{End: Included(10)}.Reversed().WithLimit(3), 4, Range{End: Excluded(4)}.Reversed().WithLimit(3)},
	} {
		if got := c.r.After(c.last); got != c.want {
			t.Errorf("%+v.After(%d) = %+v, want %+v", c.r, c.last, got, c.want)
		}
	}
	// Read through a database: a page "after 5" of the ids from 10 on starts at 10.
	s, _ := openStore(t, nil)
	db := openDB(t, s, "d")
	for id := uint64(1); id <= 12; id++ {
		putD(t, db, id)
	}
	sc, err := db.Range(Range{Start: Included(10)}.After(5))
	if got := ids(t, sc, err); !slices.Equal(got, []uint64{10, 11, 12}) {
		t.Fatalf("got %v", got)
	}
}
