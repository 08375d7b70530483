// Binding overhead from Go, run by `docdb-bench --go PROGRAM` (make bench).
//
// usage: docdb-go-bench DIR DOCS READS COMMITS
//
// Loads DOCS 1 KiB documents, then times READS random point reads (warm: one untimed pass
// over the same ids first) and COMMITS single-document durable commits, for DocDB through
// the Go binding and for bbolt, the pure-Go embedded store, on the same values. Every read
// returns an owned copy, as DB.Read does (bbolt's value is only valid inside its
// transaction); bbolt reads inside one read transaction for the whole loop, its cheapest
// way, and commits with its default fsync. Prints "STORE WORKLOAD OPS_PER_SEC" lines.
package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	docdb "github.com/docdb/docdb/bindings/go"
	bolt "go.etcd.io/bbolt"
)

const docSize = 1024

// sink keeps every read's copy alive, so that no read can be optimised away.
var sink []byte

func rate(n int, f func() error) float64 {
	t := time.Now()
	if err := f(); err != nil {
		fail(err)
	}
	return float64(n) / max(time.Since(t).Seconds(), 1e-9)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "docdb-go-bench:", err)
	os.Exit(1)
}

func payload(rng *rand.Rand) []byte {
	b := make([]byte, docSize)
	for i := 0; i < docSize; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b
}

func benchDocDB(dir string, docs int, ids []uint64, commits int) {
	store, err := docdb.Open(dir, nil)
	if err != nil {
		fail(err)
	}
	db, err := store.CreateDB("bench")
	if err != nil {
		fail(err)
	}
	rng := rand.New(rand.NewPCG(11, 0))
	tx, err := db.Begin()
	if err != nil {
		fail(err)
	}
	for i := 0; i < docs; i++ {
		if err := tx.Put(uint64(i), payload(rng)); err != nil {
			fail(err)
		}
	}
	if _, err := tx.Commit(); err != nil {
		fail(err)
	}
	reads := func() error {
		for _, id := range ids {
			doc, err := db.Read(id)
			if err != nil {
				return err
			}
			sink = doc
		}
		return nil
	}
	rate(len(ids), reads)
	fmt.Println("go-docdb read", rate(len(ids), reads))
	p := payload(rng)
	fmt.Println("go-docdb commit", rate(commits, func() error {
		for i := 0; i < commits; i++ {
			if err := db.Put(uint64(docs+i), p); err != nil {
				return err
			}
		}
		return nil
	}))
	if err := store.Close(); err != nil {
		fail(err)
	}
}

func benchBolt(dir string, docs int, ids []uint64, commits int) {
	db, err := bolt.Open(filepath.Join(dir, "bolt.db"), 0o600, nil)
	if err != nil {
		fail(err)
	}
	name := []byte("bench")
	key := func(i uint64) []byte { return binary.BigEndian.AppendUint64(nil, i) }
	rng := rand.New(rand.NewPCG(11, 0))
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(name)
		if err != nil {
			return err
		}
		for i := 0; i < docs; i++ {
			if err := b.Put(key(uint64(i)), payload(rng)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fail(err)
	}
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		keys[i] = key(id)
	}
	reads := func() error {
		return db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(name)
			for _, k := range keys {
				v := b.Get(k)
				if v == nil {
					return fmt.Errorf("bbolt: key %x missing", k)
				}
				sink = append([]byte(nil), v...) // an owned copy, as DB.Read returns
			}
			return nil
		})
	}
	rate(len(ids), reads)
	fmt.Println("go-bbolt read", rate(len(ids), reads))
	p := payload(rng)
	fmt.Println("go-bbolt commit", rate(commits, func() error {
		for i := 0; i < commits; i++ {
			err := db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(name).Put(key(uint64(docs+i)), p)
			})
			if err != nil {
				return err
			}
		}
		return nil
	}))
	if err := db.Close(); err != nil {
		fail(err)
	}
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: docdb-go-bench DIR DOCS READS COMMITS")
		os.Exit(2)
	}
	dir := os.Args[1]
	var n [3]int
	for i := range n {
		v, err := strconv.Atoi(os.Args[i+2])
		if err != nil || v < 1 {
			fail(fmt.Errorf("bad size %q", os.Args[i+2]))
		}
		n[i] = v
	}
	docs, reads, commits := n[0], n[1], n[2]
	rng := rand.New(rand.NewPCG(7, 0))
	ids := make([]uint64, reads)
	for i := range ids {
		ids[i] = rng.Uint64N(uint64(docs))
	}
	for _, s := range []struct {
		name string
		run  func(string, int, []uint64, int)
	}{{"docdb", benchDocDB}, {"bbolt", benchBolt}} {
		sub := filepath.Join(dir, s.name)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			fail(err)
		}
		s.run(sub, docs, ids, commits)
	}
}
