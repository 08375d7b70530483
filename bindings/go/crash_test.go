package docdb

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The kill -9 test: a child process (this binary, role "writer") commits from 4
// goroutines, single puts and 3-document batches with SyncFull, and prints each commit
// once it is acknowledged. The parent SIGKILLs it mid-stream, reopens the directory and
// checks that every acknowledged commit is there with its bytes, and that every batch is
// all or nothing. Several rounds on the same directory (recovery after recovery).
func TestKill9EveryAcknowledgedCommitSurvives(t *testing.T) {
	dir := t.TempDir()
	acked := map[uint64]bool{}
	const rounds = 5
	for round := 0; round < rounds; round++ {
		cmd := child(t, "writer", dir)
		cmd.Env = append(cmd.Env, fmt.Sprintf("DOCDB_GO_BASE=%d", (round+1)*1_000_000))
		out, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())
		lines := bufio.NewScanner(out)
		n := 0
		killAfter := 20 + round*15
		for lines.Scan() {
			f := strings.Fields(lines.Text())
			if len(f) < 2 || f[0] != "ack" {
				t.Fatalf("child said %q", lines.Text())
			}
			for _, s := range f[1:] {
				id, err := strconv.ParseUint(s, 10, 64)
				must(t, err)
				acked[id] = true
			}
			if n++; n == killAfter {
				must(t, cmd.Process.Kill()) // SIGKILL
				break
			}
		}
		_ = cmd.Wait()
		if n < killAfter {
			t.Fatalf("round %d: child stopped after %d acks", round, n)
		}
		verifyCrashDir(t, dir, acked)
	}
	t.Logf("%d rounds of kill -9, %d acknowledged documents verified", rounds, len(acked))
}

func crashDoc(id, first uint64, batch bool) []byte {
	kind := "put"
	if batch {
		kind = "batch"
	}
	return []byte(fmt.Sprintf("%s first=%d id=%d %s", kind, first, id, strings.Repeat("x", 200)))
}

func verifyCrashDir(t *testing.T, dir string, acked map[uint64]bool) {
	t.Helper()
	s, err := Open(dir, nil)
	must(t, err)
	defer s.Close()
	db, err := s.OpenDB("crash")
	must(t, err)
	snap, err := db.Snapshot()
	must(t, err)
	defer snap.Close()
	present := map[uint64][]byte{}
	for id, doc := range snap.All() {
		present[id] = doc
	}
	must(t, snap.Err())
	for id := range acked {
		if _, ok := present[id]; !ok {
			t.Fatalf("acknowledged document %d lost", id)
		}
	}
	for id, doc := range present {
		var kind string
		var first, got uint64
		if _, err := fmt.Sscanf(string(doc), "%s first=%d id=%d", &kind, &first, &got); err != nil || got != id {
			t.Fatalf("document %d holds %q", id, doc)
		}
		if !bytes.Equal(doc, crashDoc(id, first, kind == "batch")) {
			t.Fatalf("document %d differs: %q", id, doc)
		}
		if kind == "batch" {
			for k := first; k < first+3; k++ {
				if _, ok := present[k]; !ok {
					t.Fatalf("batch %d torn: %d present, %d missing", first, id, k)
				}
			}
		}
	}
}

// childWriter commits until killed; ids start at DOCDB_GO_BASE.
func childWriter(dir string) int {
	base, err := strconv.ParseUint(os.Getenv("DOCDB_GO_BASE"), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s, err := Open(dir, nil) // SyncFull: acknowledged = fsynced
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	db, err := s.OpenOrCreateDB("crash")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var next atomic.Uint64
	next.Store(base)
	var mu sync.Mutex // one line at a time on stdout
	ack := func(ids ...uint64) {
		var b strings.Builder
		b.WriteString("ack")
		for _, id := range ids {
			fmt.Fprintf(&b, " %d", id)
		}
		b.WriteByte('\n')
		mu.Lock()
		_, _ = os.Stdout.WriteString(b.String())
		mu.Unlock()
	}
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; ; i++ {
				if i%2 == 0 {
					id := next.Add(1)
					if err := db.Put(id, crashDoc(id, id, false)); err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(1)
					}
					ack(id)
					continue
				}
				first := next.Add(3) - 2
				ops := make([]BatchOp, 3)
				for k := range ops {
					id := first + uint64(k)
					ops[k] = BatchOp{Kind: BatchCreate, ID: id, Data: crashDoc(id, first, true)}
				}
				if _, err := db.Batch(ops); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				ack(first, first+1, first+2)
			}
		}()
	}
	time.Sleep(time.Minute) // the parent kills us long before
	fmt.Fprintln(os.Stderr, "writer was not killed")
	return 1
}
