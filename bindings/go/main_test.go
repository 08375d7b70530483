package docdb

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// The lock and kill -9 tests re-run this test binary as a child process; the child's
// role comes in DOCDB_GO_CHILD and its data directory in DOCDB_GO_DIR.
func TestMain(m *testing.M) {
	switch os.Getenv("DOCDB_GO_CHILD") {
	case "":
		os.Exit(m.Run())
	case "open":
		os.Exit(childOpen(os.Getenv("DOCDB_GO_DIR")))
	case "writer":
		os.Exit(childWriter(os.Getenv("DOCDB_GO_DIR")))
	default:
		fmt.Fprintln(os.Stderr, "unknown child role")
		os.Exit(2)
	}
}

// child returns a command running this test binary in the given role.
func child(t *testing.T, role, dir string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "DOCDB_GO_CHILD="+role, "DOCDB_GO_DIR="+dir)
	cmd.Stderr = os.Stderr
	return cmd
}

// openStore opens a fresh store in a temporary directory, closed at the test's end.
func openStore(t *testing.T, opts *Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, dir
}

func openDB(t *testing.T, s *Store, name string) *DB {
	t.Helper()
	db, err := s.OpenOrCreateDB(name)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// wantErr fails unless err is a *Error of kind code with a non-empty message.
func wantErr(t *testing.T, err error, code Code) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, code) {
		t.Fatalf("want a %v error, got %v", code, err)
	}
	if e.Code != code || e.Message == "" {
		t.Fatalf("error %#v: want code %v and a message", e, code)
	}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
