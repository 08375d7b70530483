package docdb

import (
	"math/rand/v2"
	"testing"
)

// Benchmarks of the binding's own costs (not part of make test; `go test -bench .`).
// The comparison with Rust and bbolt is bench/go, run by `make bench`.
func BenchmarkRead1KiB(b *testing.B) {
	opts := DefaultOptions()
	opts.Sync = SyncNormal
	s, err := Open(b.TempDir(), &opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	db, _ := s.CreateDB("b")
	const docs = 10000
	doc := make([]byte, 1024)
	for i := 0; i < docs; i++ {
		if err := db.Put(uint64(i), doc); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]uint64, 4096)
	for i := range ids {
		ids[i] = rng.Uint64N(docs)
	}
	for _, id := range ids {
		_, _ = db.Read(id)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := db.Read(ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkContains(b *testing.B) {
	s, _ := Open(b.TempDir(), nil)
	defer s.Close()
	db, _ := s.CreateDB("b")
	_ = db.Put(1, []byte("x"))
	for b.Loop() {
		_, _ = db.Contains(1)
	}
}
