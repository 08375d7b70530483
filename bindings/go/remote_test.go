package docdb

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// server is a `docdb serve` process on a temporary directory, with a token.
type server struct {
	data, sock, tokf string
	extra            []string // more flags of docdb serve
	cmd              *exec.Cmd
	exited           chan error // receives the process's Wait result
}

const testToken = "go-test-token"

// docdbExe is the docdb executable that serves: $DOCDB_EXE (set by `make test-go`), or
// the release build of this checkout.
func docdbExe(t testing.TB) string {
	t.Helper()
	exe := os.Getenv("DOCDB_EXE")
	if exe == "" {
		exe, _ = filepath.Abs("../../target/release/docdb")
	}
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("no docdb executable to serve with (build it: make cli): %v", err)
	}
	return exe
}

// startServer serves a fresh directory until the test ends.
func startServer(t testing.TB, extra ...string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{data: filepath.Join(dir, "data"), sock: filepath.Join(dir, "docdb.sock"),
		tokf: filepath.Join(dir, "token"), extra: extra}
	if err := os.WriteFile(s.tokf, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.spawn(t)
	t.Cleanup(s.kill)
	return s
}

func (s *server) url() string { return "unix://" + s.sock }

func tokenOptions() *ConnectOptions {
	o := DefaultConnectOptions()
	o.Token = testToken
	o.ConnectTimeout = 5 * time.Second
	return &o
}

// spawn starts the process and waits until it answers.
func (s *server) spawn(t testing.TB) {
	t.Helper()
	args := []string{"serve", "--data", s.data, "--unix", s.sock,
		"--token-file", s.tokf, "--auth-delay", "10ms", "--log-level", "error"}
	s.cmd = exec.Command(docdbExe(t), append(args, s.extra...)...)
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan error) { exited <- cmd.Wait() }(s.cmd, s.exited)
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := Connect(s.url(), tokenOptions())
		if err == nil {
			st.Close()
			return
		}
		select {
		case err := <-s.exited:
			s.cmd = nil
			t.Fatalf("the server exited at start: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill sends SIGKILL and reaps the process.
func (s *server) kill() {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.cmd = nil
	}
}

func connect(t testing.TB, s *server) *Store {
	t.Helper()
	st, err := Connect(s.url(), tokenOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestDefaultConnectOptions(t *testing.T) {
	o := DefaultConnectOptions()
	want := ConnectOptions{ConnectTimeout: 10 * time.Second, RequestTimeout: 5 * time.Minute, PoolSize: 8}
	if o != want {
		t.Fatalf("DefaultConnectOptions() = %+v, want %+v", o, want)
	}
}

func TestConnectRefusals(t *testing.T) {
	for _, url := range []string{"", "http://localhost:80", "unix://", "tcp://no-port", "unix:///a\x00b"} {
		if _, err := Connect(url, nil); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Connect(%q) = %v, want ErrInvalidArgument", url, err)
		}
	}
	nobody := "unix://" + filepath.Join(t.TempDir(), "nobody.sock")
	if _, err := Connect(nobody, nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("no server: %v, want ErrUnavailable", err)
	}
	if _, err := Connect("tcp://127.0.0.1:1", nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("refused TCP: %v, want ErrUnavailable", err)
	}
	bad := DefaultConnectOptions()
	bad.ConnectTimeout = 0
	if _, err := Connect(nobody, &bad); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("zero ConnectTimeout: %v, want ErrInvalidArgument", err)
	}
	bad = DefaultConnectOptions()
	bad.Token = "a\x00b"
	if _, err := Connect(nobody, &bad); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("NUL in the token: %v, want ErrInvalidArgument", err)
	}

	s := startServer(t)
	wrong := tokenOptions()
	wrong.Token = "not-the-token"
	if _, err := Connect(s.url(), wrong); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("wrong token: %v, want ErrInvalidArgument", err)
	}
	if _, err := Connect(s.url(), nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("no token: %v, want ErrInvalidArgument", err)
	}
}

func TestRemoteStore(t *testing.T) {
	s := startServer(t)
	st := connect(t, s)
	if st.Path() != s.url() {
		t.Errorf("Path() = %q, want the URL", st.Path())
	}
	db, err := st.CreateDB("people")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateDB("people"); !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("second CreateDB: %v", err)
	}
	if _, err := st.OpenDB("nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenDB(nobody): %v", err)
	}
	must(t, db.Create(1, []byte("ada")))
	if err := db.Create(1, []byte("x")); !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("Create twice: %v", err)
	}
	must(t, db.Update(1, []byte("Ada")))
	must(t, db.Put(2, []byte("Charles")))
	if doc, err := db.Read(1); err != nil || string(doc) != "Ada" {
		t.Errorf("Read(1) = %q, %v", doc, err)
	}
	if _, err := db.Batch([]BatchOp{{Kind: BatchPut, ID: 3, Data: []byte("c")}, {Kind: BatchCreate, ID: 1, Data: []byte("d")}}); !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("failing batch: %v", err)
	} else if e := new(Error); errors.As(err, &e) && e.BatchIndex != 1 {
		t.Errorf("BatchIndex = %d, want 1", e.BatchIndex)
	}

	t1, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t2, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	must(t, t1.Put(1, []byte("t1")))
	must(t, t2.Put(1, []byte("t2")))
	if n, err := t1.Pending(); err != nil || n != 1 {
		t.Errorf("Pending() = %d, %v", n, err)
	}
	if _, err := t1.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := t2.Commit(); !errors.Is(err, ErrConflict) {
		t.Errorf("second commit: %v, want ErrConflict", err)
	}

	snap, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	must(t, db.Delete(2))
	var ids []uint64
	for id, doc := range snap.All() {
		ids = append(ids, id)
		if id == 1 && !bytes.Equal(doc, []byte("t1")) {
			t.Errorf("snapshot doc 1 = %q", doc)
		}
	}
	must(t, snap.Err())
	if len(ids) != 2 || ids[0] != 1 || ids[1] != 2 {
		t.Errorf("snapshot ids = %v, want [1 2]", ids)
	}
	must(t, snap.Close())
	if ok, err := db.Contains(2); err != nil || ok {
		t.Errorf("Contains(2) after delete = %v, %v", ok, err)
	}
	if _, err := db.Stats(); err != nil {
		t.Error(err)
	}
	if _, err := st.Stats(); err != nil {
		t.Error(err)
	}
	if _, err := db.Compact(); err != nil {
		t.Error(err)
	}
	must(t, st.Checkpoint())
	if dbs, err := st.ListDBs(); err != nil || len(dbs) != 1 || dbs[0].Name != "people" {
		t.Errorf("ListDBs() = %v, %v", dbs, err)
	}
	dest := filepath.Join(t.TempDir(), "copy")
	if err := st.Backup(dest); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("remote Backup: %v, want ErrInvalidArgument", err)
	}

	// Closing the client leaves the server and the data alone.
	must(t, st.Close())
	if err := db.Put(9, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v, want ErrClosed", err)
	}
	again := connect(t, s)
	db2, err := again.OpenDB("people")
	if err != nil {
		t.Fatal(err)
	}
	if doc, err := db2.Read(1); err != nil || string(doc) != "t1" {
		t.Errorf("Read(1) after reconnecting = %q, %v", doc, err)
	}
}

// kill -9 of the server: calls return ErrUnavailable (never hang), and the same handles
// work again once it is back, with every acknowledged write.
func TestRemoteServerKilled(t *testing.T) {
	s := startServer(t)
	st := connect(t, s)
	db, err := st.OpenOrCreateDB("survivor")
	if err != nil {
		t.Fatal(err)
	}
	must(t, db.Put(1, []byte("acknowledged")))
	txn, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	must(t, txn.Put(2, []byte("in flight")))

	s.kill()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := db.Read(1); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Read with the server dead: %v, want ErrUnavailable", err)
		}
		if _, err := txn.Commit(); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Commit with the server dead: %v, want ErrUnavailable", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("calls on a dead server hang")
	}

	s.spawn(t)
	if doc, err := db.Read(1); err != nil || string(doc) != "acknowledged" {
		t.Errorf("Read(1) after the restart = %q, %v", doc, err)
	}
	if ok, err := db.Contains(2); err != nil || ok {
		t.Errorf("the lost transaction's write: Contains = %v, %v", ok, err)
	}
}
