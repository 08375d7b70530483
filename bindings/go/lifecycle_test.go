package docdb

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Every handle fails with ErrClosed after Store.Close (the C handles answer CLOSED until
// they are released), without crashing, and Close is idempotent.
func TestUseAfterClose(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	must(t, err)
	db := openDB(t, s, "d")
	must(t, db.Put(1, []byte("x")))
	tx, err := db.Begin()
	must(t, err)
	must(t, tx.Put(2, []byte("never")))
	snap, err := db.Snapshot()
	must(t, err)
	if s.Closed() {
		t.Fatal("open store reports closed")
	}
	must(t, s.Close())
	must(t, s.Close())
	if !s.Closed() {
		t.Fatal("closed store reports open")
	}

	_, err = s.OpenDB("d")
	wantErr(t, err, ErrClosed)
	_, err = s.CreateDB("e")
	wantErr(t, err, ErrClosed)
	_, err = s.OpenOrCreateDB("e")
	wantErr(t, err, ErrClosed)
	wantErr(t, s.DropDB("d"), ErrClosed)
	_, err = s.ListDBs()
	wantErr(t, err, ErrClosed)
	_, err = s.Stats()
	wantErr(t, err, ErrClosed)
	wantErr(t, s.Checkpoint(), ErrClosed)
	wantErr(t, s.Sync(), ErrClosed)

	_, err = db.Read(1)
	wantErr(t, err, ErrClosed)
	_, err = db.AppendRead(nil, 1)
	wantErr(t, err, ErrClosed)
	wantErr(t, db.Create(3, nil), ErrClosed)
	wantErr(t, db.Update(1, nil), ErrClosed)
	wantErr(t, db.Put(1, nil), ErrClosed)
	wantErr(t, db.Delete(1), ErrClosed)
	_, err = db.Contains(1)
	wantErr(t, err, ErrClosed)
	_, err = db.Len()
	wantErr(t, err, ErrClosed)
	_, err = db.Batch([]BatchOp{{Kind: BatchPut, ID: 1}})
	wantErr(t, err, ErrClosed)
	_, err = db.Begin()
	wantErr(t, err, ErrClosed)
	_, err = db.Snapshot()
	wantErr(t, err, ErrClosed)
	_, err = db.Compact()
	wantErr(t, err, ErrClosed)
	_, err = db.Stats()
	wantErr(t, err, ErrClosed)
	wantErr(t, db.Checkpoint(), ErrClosed)
	wantErr(t, db.Sync(), ErrClosed)

	_, err = tx.Read(1)
	wantErr(t, err, ErrClosed)
	wantErr(t, tx.Put(3, nil), ErrClosed)
	_, err = tx.Commit()
	wantErr(t, err, ErrClosed)
	wantErr(t, tx.Rollback(), ErrClosed)

	_, err = snap.Read(1)
	wantErr(t, err, ErrClosed)
	_, err = snap.IDs()
	wantErr(t, err, ErrClosed)
	_, err = tx.Pending()
	wantErr(t, err, ErrClosed)
	must(t, snap.Close())

	// The unfinished transaction was rolled back: its write is not there after reopen.
	s, err = Open(s.Path(), nil)
	must(t, err)
	defer s.Close()
	db = openDB(t, s, "d")
	if ok, _ := db.Contains(2); ok {
		t.Fatal("an unfinished transaction was committed by Close")
	}
	if got, _ := db.Read(1); string(got) != "x" {
		t.Fatalf("read %q", got)
	}
}

// Closing the store while other goroutines use it: every call either succeeds or
// returns ErrClosed; none crashes or touches a freed handle (the race detector watches).
func TestCloseWhileInUse(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	must(t, err)
	db := openDB(t, s, "d")
	must(t, db.Put(1, []byte("x")))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; ; i++ {
				_, err := db.Read(1)
				if err == nil && g%2 == 0 {
					err = db.Put(uint64(g*1000+i), []byte("y"))
				}
				if err == nil && g == 3 {
					var snap *Snapshot
					if snap, err = db.Snapshot(); err == nil {
						for range snap.All() {
						}
						err = snap.Err()
						snap.Close()
					}
				}
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("goroutine %d: %v", g, err)
					}
					return
				}
			}
		}()
	}
	close(start)
	time.Sleep(50 * time.Millisecond)
	must(t, s.Close())
	wg.Wait()
}

// Another process opening the directory gets ErrLocked while a Store holds it. (A
// second Open in the same process is core's business: it may share the open store.)
func TestLocked(t *testing.T) {
	s, dir := openStore(t, nil)
	out, err := child(t, "open", dir).Output()
	if err != nil {
		t.Fatalf("child: %v (%s)", err, out)
	}
	if !strings.HasPrefix(string(out), "ERR LOCKED ") || len(out) < 15 {
		t.Fatalf("child saw %q", out)
	}
	// Once closed, another process can open it.
	must(t, s.Close())
	out, err = child(t, "open", dir).Output()
	if err != nil || string(out) != "opened\n" {
		t.Fatalf("child after close: %v %q", err, out)
	}
}

// childOpen tries to open dir and prints "opened", or "ERR KIND message".
func childOpen(dir string) int {
	s, err := Open(dir, nil)
	var e *Error
	switch {
	case err == nil:
		fmt.Println("opened")
		return boolExit(s.Close() == nil)
	case errors.As(err, &e):
		fmt.Println("ERR", e.Code.String(), e.Message)
		return 0
	default:
		fmt.Println("error", err)
		return 1
	}
}

func boolExit(ok bool) int {
	if ok {
		return 0
	}
	return 1
}

// Forgotten handles are released by the garbage collector's safety net without a crash:
// the snapshots and the unfinished transactions they held are gone (no active readers),
// and the transactions were rolled back.
func TestForgottenHandles(t *testing.T) {
	s, _ := openStore(t, nil)
	db := openDB(t, s, "d")
	must(t, db.Put(1, []byte("x")))
	for i := 0; i < 100; i++ {
		snap, err := db.Snapshot()
		must(t, err)
		_ = snap
		tx, err := db.Begin()
		must(t, err)
		must(t, tx.Put(uint64(i+10), []byte("dropped")))
		_, err = s.OpenDB("d")
		must(t, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		st, err := db.Stats()
		must(t, err)
		if st.ActiveReaders == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after GC: %d active readers", st.ActiveReaders)
		}
		time.Sleep(10 * time.Millisecond)
	}
	n, _ := db.Len()
	if n != 1 {
		t.Fatalf("dropped transactions committed: len %d", n)
	}
}

// DB.Close releases one handle; the database and its other handles go on.
func TestDBClose(t *testing.T) {
	s, _ := openStore(t, nil)
	a := openDB(t, s, "d")
	b := openDB(t, s, "d")
	must(t, a.Put(1, []byte("x")))
	snap, err := a.Snapshot()
	must(t, err)
	defer snap.Close()
	must(t, a.Close())
	must(t, a.Close())
	_, err = a.Read(1)
	wantErr(t, err, ErrClosed)
	wantErr(t, a.Put(2, nil), ErrClosed)
	_, err = a.Snapshot()
	wantErr(t, err, ErrClosed)
	got, err := b.Read(1)
	must(t, err)
	if string(got) != "x" {
		t.Fatalf("other handle read %q", got)
	}
	if got, err := snap.Read(1); err != nil || string(got) != "x" {
		t.Fatalf("snapshot of a closed handle: %q %v", got, err)
	}
}

// 100 goroutines write and read one database at once; every write is read back and the
// final count is exact.
func TestManyGoroutines(t *testing.T) {
	opts := DefaultOptions()
	opts.Sync = SyncNormal // the point is concurrency, not the disk
	s, _ := openStore(t, &opts)
	db := openDB(t, s, "shared")
	const goroutines, each = 100, 50
	doc := func(g, i int) []byte { return []byte(fmt.Sprintf("g%03d-i%03d", g, i)) }
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				id := uint64(g*each + i)
				var err error
				switch i % 3 {
				case 0:
					err = db.Create(id, doc(g, i))
				case 1:
					err = db.Put(id, doc(g, i))
				default:
					var tx *Txn
					if tx, err = db.Begin(); err == nil {
						if err = tx.Create(id, doc(g, i)); err == nil {
							_, err = tx.Commit()
						}
					}
				}
				if err != nil {
					t.Errorf("write %d: %v", id, err)
					return
				}
				got, err := db.Read(id)
				if err != nil || !bytes.Equal(got, doc(g, i)) {
					t.Errorf("read %d: %q %v", id, got, err)
					return
				}
				// Read another goroutine's document: present with its bytes, or absent.
				other := uint64((g+1)%goroutines*each + i)
				if got, err := db.Read(other); err == nil {
					if !bytes.Equal(got, doc((g+1)%goroutines, i)) {
						t.Errorf("read %d: %q", other, got)
					}
				} else if !errors.Is(err, ErrNotFound) {
					t.Errorf("read %d: %v", other, err)
				}
			}
		}()
	}
	wg.Wait()
	n, err := db.Len()
	must(t, err)
	if n != goroutines*each {
		t.Fatalf("len %d, want %d", n, goroutines*each)
	}
	// The same from a snapshot, in order.
	snap, err := db.Snapshot()
	must(t, err)
	defer snap.Close()
	next := uint64(0)
	for id, got := range snap.All() {
		g, i := int(id)/each, int(id)%each
		if id != next || !bytes.Equal(got, doc(g, i)) {
			t.Fatalf("snapshot doc %d (want %d): %q", id, next, got)
		}
		next++
	}
	must(t, snap.Err())
	if next != goroutines*each {
		t.Fatalf("snapshot saw %d", next)
	}
}

// The message of an error belongs to its own call even when goroutines fail
// concurrently on the same threads (docdb_errmsg is per OS thread).
func TestErrorMessagesBelongToTheirCall(t *testing.T) {
	s, _ := openStore(t, nil)
	db := openDB(t, s, "m")
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				id := uint64(g*1000 + i)
				_, err := db.Read(id)
				e := &Error{}
				if !errors.As(err, &e) || !strings.Contains(e.Message, fmt.Sprintf("document %d ", id)) {
					t.Errorf("read %d: %v", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// os is used by the kill -9 test's child; keep the import honest here too.
var _ = os.Getpid

// A Store dropped without Close is closed by the safety net once collected: its
// directory lock is released (another process can open the directory again).
func TestForgottenStore(t *testing.T) {
	dir := t.TempDir()
	func() {
		s, err := Open(dir, nil)
		must(t, err)
		db, err := s.CreateDB("d")
		must(t, err)
		must(t, db.Put(1, []byte("kept")))
	}()
	for i := 0; ; i++ {
		runtime.GC()
		out, err := child(t, "open", dir).Output()
		if err == nil && string(out) == "opened\n" {
			break
		}
		if i == 50 {
			t.Fatalf("directory still held after GC: %q %v", out, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s, err := Open(dir, nil)
	must(t, err)
	defer s.Close()
	db, err := s.OpenDB("d")
	must(t, err)
	if got, _ := db.Read(1); string(got) != "kept" {
		t.Fatalf("read %q", got)
	}
}
