package docdb

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDocumentOperations(t *testing.T) {
	s, _ := openStore(t, nil)
	db := openDB(t, s, "users")
	if db.Name() != "users" {
		t.Fatalf("name %q", db.Name())
	}
	must(t, db.Create(1, []byte("ada")))
	e := wantErr(t, db.Create(1, []byte("again")), ErrAlreadyExists)
	if !strings.Contains(e.Message, "1") || e.BatchIndex != -1 {
		t.Fatalf("message %q, batch index %d", e.Message, e.BatchIndex)
	}
	got, err := db.Read(1)
	must(t, err)
	if string(got) != "ada" {
		t.Fatalf("read %q", got)
	}
	must(t, db.Update(1, []byte("ada lovelace")))
	wantErr(t, db.Update(2, []byte("x")), ErrNotFound)
	must(t, db.Put(2, nil)) // an empty document
	empty, err := db.Read(2)
	must(t, err)
	if empty == nil || len(empty) != 0 {
		t.Fatalf("empty document read as %#v", empty)
	}
	ok, err := db.Contains(2)
	must(t, err)
	if !ok {
		t.Fatal("contains 2")
	}
	n, err := db.Len()
	must(t, err)
	if n != 2 {
		t.Fatalf("len %d", n)
	}
	must(t, db.Delete(2))
	wantErr(t, db.Delete(2), ErrNotFound)
	_, err = db.Read(2)
	e = wantErr(t, err, ErrNotFound)
	if !strings.Contains(e.Message, "users") || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Fatalf("message %q / %q", e.Message, err)
	}
	ok, err = db.Contains(2)
	must(t, err)
	if ok {
		t.Fatal("2 still there")
	}
	// Ids are the full uint64 range.
	must(t, db.Put(^uint64(0), []byte("max")))
	got, err = db.Read(^uint64(0))
	must(t, err)
	if string(got) != "max" {
		t.Fatalf("max id read %q", got)
	}
	// The bytes are copied: changing the caller's slice later changes nothing.
	buf := []byte("original")
	must(t, db.Put(9, buf))
	copy(buf, "XXXXXXXX")
	got, _ = db.Read(9)
	if string(got) != "original" {
		t.Fatalf("read %q", got)
	}
	id, err := db.ID()
	must(t, err)
	st, err := db.Stats()
	must(t, err)
	if st.ID != id || st.Documents != 3 || st.CommittedTxns < 5 || st.LastVersion == 0 {
		t.Fatalf("stats %+v (id %d)", st, id)
	}
}

func TestPayloadLimit(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxDocumentSize = 1024
	s, _ := openStore(t, &opts)
	db := openDB(t, s, "d")
	must(t, db.Put(1, make([]byte, 1024)))
	wantErr(t, db.Put(2, make([]byte, 1025)), ErrPayloadTooLarge)
	// Large documents round-trip (bigger than any internal buffer).
	opts.MaxDocumentSize = 4 << 20
	s2, _ := openStore(t, &opts)
	db2 := openDB(t, s2, "big")
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18)
	must(t, db2.Put(7, big))
	got, err := db2.Read(7)
	must(t, err)
	if !bytes.Equal(got, big) {
		t.Fatal("4 MiB document differs")
	}
}

func TestOptions(t *testing.T) {
	d := DefaultOptions()
	if d.Sync != SyncFull || d.MaxDocumentSize != 16<<20 || !d.AutoCompact || d.IndexShards != 16 {
		t.Fatalf("defaults %+v", d)
	}
	bad := DefaultOptions()
	bad.IndexShards = 3 // not a power of two
	_, err := Open(t.TempDir(), &bad)
	wantErr(t, err, ErrInvalidArgument)
	bad = DefaultOptions()
	bad.Sync = 7
	_, err = Open(t.TempDir(), &bad)
	wantErr(t, err, ErrInvalidArgument)
	normal := DefaultOptions()
	normal.Sync = SyncNormal
	normal.MemoryLimit = 1 << 20
	normal.DBMemoryLimit = 1 << 20
	s, _ := openStore(t, &normal)
	db := openDB(t, s, "capped")
	var err2 error
	for i := uint64(0); i < 100000 && err2 == nil; i++ {
		err2 = db.Put(i, make([]byte, 64))
	}
	wantErr(t, err2, ErrMemoryLimit)
	must(t, s.Sync())
	st, err := s.Stats()
	must(t, err)
	if st.MemoryLimit != 1<<20 {
		t.Fatalf("store stats %+v", st)
	}
}

func TestDatabases(t *testing.T) {
	s, dir := openStore(t, nil)
	if s.Path() != dir {
		t.Fatalf("path %q", s.Path())
	}
	_, err := s.OpenDB("missing")
	wantErr(t, err, ErrNotFound)
	a, err := s.CreateDB("a")
	must(t, err)
	_, err = s.CreateDB("a")
	wantErr(t, err, ErrAlreadyExists)
	for _, name := range []string{"", ".hidden", "has space", strings.Repeat("x", 65), "nul\x00byte"} {
		_, err = s.CreateDB(name)
		wantErr(t, err, ErrInvalidName)
	}
	_, err = s.OpenOrCreateDB("b")
	must(t, err)
	again, err := s.OpenDB("a")
	must(t, err)
	must(t, a.Put(1, []byte("x")))
	if ok, _ := again.Contains(1); !ok {
		t.Fatal("second handle does not see the write")
	}
	list, err := s.ListDBs()
	must(t, err)
	names := []string{}
	for _, d := range list {
		names = append(names, d.Name)
	}
	if !slices.Equal(names, []string{"a", "b"}) || list[0].ID >= list[1].ID {
		t.Fatalf("list %+v", list)
	}
	must(t, s.DropDB("a"))
	wantErr(t, s.DropDB("a"), ErrNotFound)
	_, err = a.Read(1)
	wantErr(t, err, ErrClosed) // handles of a dropped database
	must(t, s.Checkpoint())
	st, err := s.Stats()
	must(t, err)
	if st.DatabasesActive != 1 || st.DatabasesTotal != 2 {
		t.Fatalf("stats %+v", st)
	}
	_, err = Open(dir+"/with\x00nul", nil)
	wantErr(t, err, ErrInvalidArgument)
}

func TestBatch(t *testing.T) {
	s, _ := openStore(t, nil)
	db := openDB(t, s, "b")
	v1, err := db.Batch([]BatchOp{
		{Kind: BatchCreate, ID: 1, Data: []byte("a")},
		{Kind: BatchUpdate, ID: 1, Data: []byte("a2")}, // sees the create
		{Kind: BatchPut, ID: 2, Data: []byte("b")},
		{Kind: BatchPut, ID: 3},
	})
	must(t, err)
	got, _ := db.Read(1)
	if string(got) != "a2" || v1 == 0 {
		t.Fatalf("read %q, version %d", got, v1)
	}
	_, err = db.Batch([]BatchOp{
		{Kind: BatchPut, ID: 4, Data: []byte("never")},
		{Kind: BatchDelete, ID: 3},
		{Kind: BatchCreate, ID: 2, Data: []byte("taken")},
		{Kind: BatchPut, ID: 5, Data: []byte("never")},
	})
	e := wantErr(t, err, ErrAlreadyExists)
	if e.BatchIndex != 2 {
		t.Fatalf("batch index %d, want 2", e.BatchIndex)
	}
	for _, id := range []uint64{4, 5} {
		if ok, _ := db.Contains(id); ok {
			t.Fatalf("failed batch applied %d", id)
		}
	}
	if ok, _ := db.Contains(3); !ok {
		t.Fatal("failed batch deleted 3")
	}
	_, err = db.Batch([]BatchOp{{Kind: BatchPut, ID: 6}, {Kind: 99, ID: 7}})
	if e := wantErr(t, err, ErrInvalidArgument); e.BatchIndex != 1 {
		t.Fatalf("bad kind index %d", e.BatchIndex)
	}
	v2, err := db.Batch(nil)
	must(t, err)
	if v2 < v1 {
		t.Fatalf("empty batch version %d < %d", v2, v1)
	}
}

func TestTransactions(t *testing.T) {
	s, _ := openStore(t, nil)
	db := openDB(t, s, "t")
	must(t, db.Put(1, []byte("one")))
	tx, err := db.Begin()
	must(t, err)
	must(t, tx.Update(1, []byte("uno")))
	must(t, tx.Create(2, []byte("dos")))
	wantErr(t, tx.Create(2, []byte("again")), ErrAlreadyExists)
	must(t, tx.Put(3, []byte("tres")))
	must(t, tx.Delete(3))
	wantErr(t, tx.Delete(3), ErrNotFound)
	wantErr(t, tx.Update(4, nil), ErrNotFound)
	if n, err := tx.Pending(); err != nil || n != 3 {
		t.Fatalf("pending %d %v", n, err)
	}
	rv, err := tx.ReadVersion()
	must(t, err)
	got, err := tx.Read(1)
	must(t, err)
	if string(got) != "uno" {
		t.Fatalf("own write read as %q", got)
	}
	if ok, _ := tx.Contains(2); !ok {
		t.Fatal("own create not seen")
	}
	outside, _ := db.Read(1)
	if string(outside) != "one" {
		t.Fatal("uncommitted write visible")
	}
	v, err := tx.Commit()
	must(t, err)
	if v <= rv {
		t.Fatalf("commit version %d, read version %d", v, rv)
	}
	_, err = tx.Commit()
	wantErr(t, err, ErrClosed)
	wantErr(t, tx.Put(5, nil), ErrClosed)
	wantErr(t, tx.Rollback(), ErrClosed)
	got, _ = db.Read(2)
	if string(got) != "dos" {
		t.Fatalf("committed create read %q", got)
	}

	// Rollback discards.
	tx, _ = db.Begin()
	must(t, tx.Put(10, []byte("x")))
	must(t, tx.Rollback())
	if ok, _ := db.Contains(10); ok {
		t.Fatal("rolled back write applied")
	}

	// First committer wins.
	t1, _ := db.Begin()
	t2, _ := db.Begin()
	must(t, t1.Put(1, []byte("t1")))
	must(t, t2.Put(1, []byte("t2")))
	_, err = t1.Commit()
	must(t, err)
	_, err = t2.Commit()
	wantErr(t, err, ErrConflict)
	got, _ = db.Read(1)
	if string(got) != "t1" {
		t.Fatalf("after conflict %q", got)
	}

	// An unfinished transaction is rolled back by Store.Close (checked in lifecycle
	// tests); here: a transaction sees its begin snapshot, not later commits.
	t3, _ := db.Begin()
	must(t, db.Put(20, []byte("later")))
	if ok, _ := t3.Contains(20); ok {
		t.Fatal("transaction sees a later commit")
	}
	must(t, t3.Rollback())
}

func TestSnapshot(t *testing.T) {
	s, _ := openStore(t, nil)
	db := openDB(t, s, "s")
	for i := uint64(5); i > 0; i-- {
		must(t, db.Put(i*10, []byte{byte(i)}))
	}
	snap, err := db.Snapshot()
	must(t, err)
	must(t, db.Put(60, []byte{6}))
	must(t, db.Delete(10))
	n, err := snap.Len()
	must(t, err)
	if n != 5 {
		t.Fatalf("snapshot len %d", n)
	}
	all, err := snap.IDs()
	must(t, err)
	if !slices.Equal(all, []uint64{10, 20, 30, 40, 50}) {
		t.Fatalf("ids %v", all)
	}
	sv, err := snap.Version()
	must(t, err)
	if st, _ := db.Stats(); sv == 0 || sv >= st.LastVersion {
		t.Fatalf("snapshot version %d, last %d", sv, st.LastVersion)
	}
	got, err := snap.Read(10)
	must(t, err)
	if !bytes.Equal(got, []byte{1}) {
		t.Fatalf("snapshot read %v", got)
	}
	_, err = snap.Read(60)
	wantErr(t, err, ErrNotFound)
	if ok, _ := snap.Contains(60); ok {
		t.Fatal("snapshot sees a later write")
	}
	var ids []uint64
	for id, doc := range snap.All() {
		if !bytes.Equal(doc, []byte{byte(id / 10)}) {
			t.Fatalf("doc %d = %v", id, doc)
		}
		ids = append(ids, id)
	}
	must(t, snap.Err())
	if !slices.Equal(ids, []uint64{10, 20, 30, 40, 50}) {
		t.Fatalf("ids %v", ids)
	}
	// Breaking out early, then iterating again.
	for id := range snap.All() {
		if id != 10 {
			t.Fatalf("first id %d", id)
		}
		break
	}
	count := 0
	for range snap.All() {
		count++
	}
	if count != 5 {
		t.Fatalf("second loop saw %d", count)
	}
	must(t, snap.Close())
	must(t, snap.Close())
	_, err = snap.Read(10)
	wantErr(t, err, ErrClosed)
	_, err = snap.Len()
	wantErr(t, err, ErrClosed)
	for range snap.All() {
		t.Fatal("closed snapshot yielded")
	}
	wantErr(t, snap.Err(), ErrClosed)
}

func TestJSON(t *testing.T) {
	type user struct {
		Name string `json:"name"`
		Age  int    `json:"age"`
	}
	s, _ := openStore(t, nil)
	db := openDB(t, s, "j")
	must(t, PutJSON(db, 1, user{"Ada", 36}))
	u, err := ReadJSON[user](db, 1)
	must(t, err)
	if u != (user{"Ada", 36}) {
		t.Fatalf("read %+v", u)
	}
	raw, _ := db.Read(1)
	if string(raw) != `{"name":"Ada","age":36}` {
		t.Fatalf("stored %s", raw)
	}
	_, err = ReadJSON[user](db, 2)
	wantErr(t, err, ErrNotFound)
	must(t, db.Put(3, []byte("not json")))
	_, err = ReadJSON[user](db, 3)
	if err == nil || errors.As(err, new(*Error)) {
		t.Fatalf("want a JSON error, got %v", err)
	}
	if err := PutJSON(db, 4, make(chan int)); err == nil {
		t.Fatal("a channel encoded")
	}
	tx, _ := db.Begin()
	must(t, PutJSON(tx, 5, []int{1, 2}))
	v, err := ReadJSON[[]int](tx, 5)
	must(t, err)
	if !slices.Equal(v, []int{1, 2}) {
		t.Fatalf("txn json %v", v)
	}
	_, err = tx.Commit()
	must(t, err)
	snap, _ := db.Snapshot()
	defer snap.Close()
	m, err := ReadJSON[map[string]any](snap, 1)
	must(t, err)
	if m["name"] != "Ada" {
		t.Fatalf("snapshot json %v", m)
	}
}

func TestCompactAndReopen(t *testing.T) {
	opts := DefaultOptions()
	opts.SegmentSize = 4096
	opts.AutoCompact = false
	s, err := Open(t.TempDir(), &opts)
	must(t, err)
	dir := s.Path()
	db := openDB(t, s, "c")
	for i := 0; i < 50; i++ {
		must(t, db.Put(uint64(i%5), bytes.Repeat([]byte{byte(i)}, 500)))
	}
	before, _ := db.Stats()
	reclaimed, err := db.Compact()
	must(t, err)
	after, _ := db.Stats()
	if reclaimed == 0 || after.DeadBytes >= before.DeadBytes || after.Compactions != 1 {
		t.Fatalf("compact reclaimed %d; before %+v after %+v", reclaimed, before, after)
	}
	must(t, db.Checkpoint())
	must(t, s.Close())
	s, err = Open(dir, &opts)
	must(t, err)
	defer s.Close()
	db, err = s.OpenDB("c")
	must(t, err)
	for i := 45; i < 50; i++ {
		got, err := db.Read(uint64(i % 5))
		must(t, err)
		if !bytes.Equal(got, bytes.Repeat([]byte{byte(i)}, 500)) {
			t.Fatalf("doc %d after reopen", i%5)
		}
	}
}

// DB.Read's paths (its size guess right, too small, too large) and both sources
// (record cache, disk) return the same bytes, without keeping much unused capacity.
func TestReadSizes(t *testing.T) {
	sizes := []int{0, 1, 1000, 1024, 1023, 4096, 100_000, 70_000, 5, 0, 64 << 10, 1}
	for _, cache := range []uint64{0, 1 << 20} {
		opts := DefaultOptions()
		opts.CacheSize = cache
		s, _ := openStore(t, &opts)
		db := openDB(t, s, "r")
		for i, n := range sizes {
			doc := make([]byte, n)
			for j := range doc {
				doc[j] = byte(j*7 + n)
			}
			must(t, db.Put(uint64(i), doc))
		}
		for pass := 0; pass < 2; pass++ {
			for i, n := range sizes {
				got, err := db.Read(uint64(i))
				must(t, err)
				if len(got) != n || got == nil || cap(got)-n > cap(got)/8 {
					t.Fatalf("cache %d, %d bytes: got %d bytes (cap %d, nil %v)", cache, n, len(got), cap(got), got == nil)
				}
				for j := range got {
					if got[j] != byte(j*7+n) {
						t.Fatalf("cache %d, %d bytes: byte %d differs", cache, n, j)
					}
				}
			}
		}
		st, err := s.Stats()
		must(t, err)
		if (cache == 0) != (st.CacheHits == 0) {
			t.Fatalf("cache %d: %d hits", cache, st.CacheHits)
		}
	}
}

// AppendRead appends to the caller's slice, grows it when needed, reuses it when it can,
// and leaves it as it was on an error.
func TestAppendRead(t *testing.T) {
	s, _ := openStore(t, nil)
	db := openDB(t, s, "a")
	must(t, db.Put(1, []byte("one")))
	must(t, db.Put(2, bytes.Repeat([]byte("x"), 5000)))
	must(t, db.Put(3, nil))
	buf, err := db.AppendRead([]byte("id1="), 1)
	must(t, err)
	if string(buf) != "id1=one" {
		t.Fatalf("appended %q", buf)
	}
	buf, err = db.AppendRead(buf, 2) // grows
	must(t, err)
	if len(buf) != 7+5000 || string(buf[:7]) != "id1=one" || buf[7] != 'x' || buf[len(buf)-1] != 'x' {
		t.Fatalf("grown to %d bytes", len(buf))
	}
	big := buf
	buf, err = db.AppendRead(buf[:0], 1) // reuses: no allocation
	must(t, err)
	if string(buf) != "one" || &buf[0] != &big[0] {
		t.Fatalf("reused read %q", buf)
	}
	allocs := testing.AllocsPerRun(100, func() {
		buf, err = db.AppendRead(buf[:0], 2)
	})
	if allocs != 0 || err != nil || len(buf) != 5000 {
		t.Fatalf("%v allocations per reused read (%v)", allocs, err)
	}
	buf, err = db.AppendRead(buf[:0], 3)
	must(t, err)
	if len(buf) != 0 {
		t.Fatalf("empty document appended %d bytes", len(buf))
	}
	kept := []byte("keep")
	got, err := db.AppendRead(kept, 4)
	wantErr(t, err, ErrNotFound)
	if string(got) != "keep" {
		t.Fatalf("error path returned %q", got)
	}
	got, err = db.AppendRead(nil, 1) // from nil
	must(t, err)
	if string(got) != "one" {
		t.Fatalf("from nil: %q", got)
	}
}
