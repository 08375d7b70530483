//go:build linux && !race

// Not under -race: the race detector's shadow memory grows the resident set by itself.
// make test-go runs this test in its second pass (GOEXPERIMENT=cgocheck2).

package docdb

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// rssBytes is the process's resident set (Linux /proc).
func rssBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	must(t, err)
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	must(t, err)
	return pages * int64(os.Getpagesize())
}

// Every path that hands C memory to Go (documents, error messages, lists, scans,
// transactions, snapshots) gives it back: many rounds of all of them leave the resident
// set about where the first rounds left it. A leak of one error message per failed call
// would grow it by about 30 MiB here, of one document per read by 50 MiB.
func TestNoCMemoryLeak(t *testing.T) {
	opts := DefaultOptions()
	opts.Sync = SyncNormal
	s, _ := openStore(t, &opts)
	db := openDB(t, s, "leak")
	doc := make([]byte, 1024)
	for i := 0; i < 100; i++ {
		must(t, db.Put(uint64(i), doc))
	}
	round := func() {
		for i := 0; i < 2000; i++ {
			id := uint64(i % 100)
			if _, err := db.Read(id); err != nil {
				t.Fatal(err)
			}
			for k := uint64(0); k < 8; k++ { // the error path: a copied message each
				if _, err := db.Read(1000 + id + k); err == nil {
					t.Fatal("read a missing document")
				}
			}
			if i%20 == 0 {
				_, err := db.Batch([]BatchOp{{Kind: BatchPut, ID: id, Data: doc}, {Kind: BatchCreate, ID: id, Data: doc}})
				wantErr(t, err, ErrAlreadyExists)
				tx, err := db.Begin()
				must(t, err)
				_, _ = tx.Read(id)
				must(t, tx.Put(id, doc))
				_, err = tx.Commit()
				must(t, err)
				snap, err := db.Snapshot()
				must(t, err)
				for range snap.All() {
				}
				_, _ = snap.IDs()
				must(t, snap.Close())
				_, _ = s.ListDBs()
				_, _ = s.Stats()
				_, err = s.OpenDB("leak")
				must(t, err)
			}
		}
	}
	settle := func() int64 {
		runtime.GC()
		runtime.GC()
		return rssBytes(t)
	}
	for i := 0; i < 3; i++ { // warm up: caches, arenas, the Go heap's size
		round()
	}
	before := settle()
	const rounds = 25 // 400,000 failed reads, 2,500 transactions, snapshots, scans, ...
	for i := 0; i < rounds; i++ {
		round()
	}
	after := settle()
	if grew := after - before; grew > 16<<20 {
		t.Fatalf("resident set grew by %d KiB over %d rounds", grew>>10, rounds)
	}
	t.Logf("resident set %d KiB before, %d KiB after %d rounds", before>>10, after>>10, rounds)
}
