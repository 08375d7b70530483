package docdb

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A backup taken while a goroutine writes ids 0, 1, 2, ... holds ids 0..k-1 for some k:
// a prefix of the acknowledged writes.
func TestBackupUnderWritesIsAPrefix(t *testing.T) {
	s, _ := openStore(t, nil)
	db := openDB(t, s, "d")
	for id := uint64(0); id < 50; id++ {
		must(t, db.Put(id, []byte("w")))
	}
	var (
		mu      sync.Mutex
		stop    bool
		written = uint64(50)
		wg      sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			mu.Lock()
			next, done := written, stop
			mu.Unlock()
			if done || db.Put(next, []byte("w")) != nil {
				return
			}
			mu.Lock()
			written = next + 1
			mu.Unlock()
		}
	}()
	dest := filepath.Join(t.TempDir(), "copy")
	must(t, s.Backup(dest))
	mu.Lock()
	stop = true
	mu.Unlock()
	wg.Wait()

	c, err := Open(dest, nil)
	must(t, err)
	defer func() { must(t, c.Close()) }()
	cdb, err := c.OpenDB("d")
	must(t, err)
	snap, err := cdb.Snapshot()
	must(t, err)
	defer snap.Close()
	ids, err := snap.IDs()
	must(t, err)
	if len(ids) < 50 || uint64(len(ids)) > written {
		t.Fatalf("%d ids in the copy, %d written", len(ids), written)
	}
	for i, id := range ids {
		if id != uint64(i) {
			t.Fatalf("id %d at position %d: not a prefix", id, i)
		}
	}
}

func TestBackupRefusesUnusableDestinations(t *testing.T) {
	s, dir := openStore(t, nil)
	must(t, openDB(t, s, "d").Put(1, []byte("x")))
	full := filepath.Join(t.TempDir(), "full")
	must(t, os.Mkdir(full, 0o755))
	must(t, os.WriteFile(filepath.Join(full, "keep"), []byte("mine"), 0o644))
	e := wantErr(t, s.Backup(full), ErrAlreadyExists)
	if !strings.Contains(e.Message, "not empty") {
		t.Fatalf("message %q", e.Message)
	}
	wantErr(t, s.Backup(filepath.Join(dir, "inside")), ErrInvalidArgument)
	wantErr(t, s.Backup("a\x00b"), ErrInvalidArgument)
	must(t, s.Close())
	wantErr(t, s.Backup(filepath.Join(t.TempDir(), "late")), ErrClosed)
}
