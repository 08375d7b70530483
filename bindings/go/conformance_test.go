//go:build conformance

package docdb

// The Go runner of the conformance scenarios (tests/conformance/README.md): every
// scenarios/*.json file, each scenario a subtest in a fresh current directory. The
// conformance directory is DOCDB_CONFORMANCE_DIR if set, else ../../tests/conformance
// (the repository's); the test fails if it has no scenarios. Built with the tag
// `conformance`: `make test-conformance-go` runs it (go test -tags conformance).
//
// TestConformanceRemote runs the same scenarios in remote mode (README "Remote mode"):
// each data directory is served by `docdb serve` ($DOCDB_EXE, see remote_test.go), started
// at its first open and stopped (SIGTERM) when its last handle closes, as a local store's
// files close; stores come from Connect. Scenarios with "local_only" are listed, not run.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
)

type scenarioStep struct {
	Call   string                     `json:"call"`
	On     string                     `json:"on"`
	Args   map[string]json.RawMessage `json:"args"`
	As     string                     `json:"as"`
	Expect *struct {
		OK         *json.RawMessage `json:"ok"`
		Error      string           `json:"error"`
		BatchIndex *int             `json:"batch_index"`
	} `json:"expect"`
}

type scenario struct {
	Name      string         `json:"name"`
	LocalOnly *string        `json:"local_only"` // why it cannot run remotely
	Steps     []scenarioStep `json:"steps"`
}

func conformanceDir(t *testing.T) string {
	dir := os.Getenv("DOCDB_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "tests", "conformance")
	}
	abs, err := filepath.Abs(dir)
	must(t, err)
	return abs
}

func TestConformance(t *testing.T) { runConformance(t, "") }

func TestConformanceRemote(t *testing.T) { runConformance(t, docdbExe(t)) }

// runConformance runs every scenario, in process (docdb == "") or each store served by
// `docdb serve`.
func runConformance(t *testing.T, docdb string) {
	files, err := filepath.Glob(filepath.Join(conformanceDir(t), "scenarios", "*.json"))
	must(t, err)
	if len(files) == 0 {
		t.Fatalf("no scenarios in %s/scenarios (set DOCDB_CONFORMANCE_DIR)", conformanceDir(t))
	}
	sort.Strings(files)
	seen := map[string]bool{}
	n := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		must(t, err)
		var file struct{ Scenarios []scenario }
		if err := json.Unmarshal(raw, &file); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, sc := range file.Scenarios {
			if seen[sc.Name] {
				t.Fatalf("scenario name %q is not unique", sc.Name)
			}
			seen[sc.Name] = true
			n++
			if sc.LocalOnly != nil && strings.TrimSpace(*sc.LocalOnly) == "" {
				t.Fatalf("%s: \"local_only\" must say why", sc.Name)
			}
			if sc.LocalOnly != nil && docdb != "" {
				t.Logf("local-only %s (%s)", sc.Name, *sc.LocalOnly)
				continue
			}
			t.Run(sc.Name, func(t *testing.T) {
				t.Chdir(t.TempDir())
				r := &conformanceRunner{t: t, vars: map[string]any{}}
				if docdb != "" {
					r.remote = &remoteStores{exe: docdb, sockets: t.TempDir(),
						servers: map[string]*confServer{}, conns: map[*Store]string{}}
				}
				defer r.release()
				for i, step := range sc.Steps {
					r.step(i, step)
				}
			})
		}
	}
	if n < 60 {
		t.Fatalf("only %d scenarios", n)
	}
}

type conformanceRunner struct {
	t      *testing.T
	vars   map[string]any
	remote *remoteStores // nil in process
}

func (r *conformanceRunner) release() {
	for _, v := range r.vars {
		if s, ok := v.(*Store); ok {
			r.closeStore(s)
		}
	}
	if r.remote != nil {
		for dir := range r.remote.servers {
			r.remote.stop(r.t, dir)
		}
	}
}

func (r *conformanceRunner) closeStore(s *Store) error {
	err := s.Close()
	if err == nil && r.remote != nil {
		r.remote.disconnect(r.t, s)
	}
	return err
}

// remoteStores: the servers of one scenario in remote mode, one per data directory.
type remoteStores struct {
	exe, sockets string
	servers      map[string]*confServer // by real path of the data directory
	conns        map[*Store]string      // open client stores, and their server's directory
}

type confServer struct {
	cmd     *exec.Cmd
	exited  chan error
	url     string
	clients int
}

// open connects to the server of path, starting one first if none runs.
func (m *remoteStores) open(t *testing.T, path string) (*Store, error) {
	must(t, os.MkdirAll(path, 0o755))
	dir, err := filepath.Abs(path)
	must(t, err)
	dir, err = filepath.EvalSymlinks(dir)
	must(t, err)
	sv := m.servers[dir]
	if sv == nil {
		sock := filepath.Join(m.sockets, fmt.Sprintf("s%d.sock", len(m.servers)))
		sv = &confServer{url: "unix://" + sock, exited: make(chan error, 1)}
		sv.cmd = exec.Command(m.exe, "serve", "--data", dir, "--unix", sock, "--log-level", "error")
		sv.cmd.Stderr = os.Stderr
		must(t, sv.cmd.Start())
		go func() { sv.exited <- sv.cmd.Wait() }()
		m.servers[dir] = sv
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := Connect(sv.url, nil)
		if err == nil {
			m.conns[s] = dir
			sv.clients++
			return s, nil
		}
		if !errors.Is(err, ErrUnavailable) || time.Now().After(deadline) {
			return nil, err
		}
		select {
		case err := <-sv.exited:
			t.Fatalf("remote mode: docdb serve of %s exited at start: %v", dir, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// disconnect: a store closed; its server stops with its last client, as local files close.
func (m *remoteStores) disconnect(t *testing.T, s *Store) {
	dir, ok := m.conns[s]
	if !ok {
		return
	}
	delete(m.conns, s)
	if sv := m.servers[dir]; sv != nil {
		sv.clients--
		if sv.clients == 0 {
			m.stop(t, dir)
		}
	}
}

// stop: SIGTERM, and the server must exit 0 (it checkpoints and closes the store).
func (m *remoteStores) stop(t *testing.T, dir string) {
	sv := m.servers[dir]
	delete(m.servers, dir)
	must(t, sv.cmd.Process.Signal(syscall.SIGTERM))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	select {
	case err := <-sv.exited:
		if err != nil {
			t.Errorf("docdb serve of %s after SIGTERM: %v", dir, err)
		}
	case <-ctx.Done():
		_ = sv.cmd.Process.Kill()
		t.Errorf("docdb serve of %s did not stop", dir)
	}
}

func (r *conformanceRunner) step(i int, st scenarioStep) {
	r.t.Helper()
	value, err := r.call(st)
	if st.As != "" && err == nil {
		if old, ok := r.vars[st.As].(*Store); ok && old != value {
			_ = r.closeStore(old)
		}
		r.vars[st.As] = value
	}
	got := fmt.Sprintf("ok %v", describe(value))
	if err != nil {
		got = fmt.Sprintf("error %v", err)
	}
	var e *Error
	isDocDB := errors.As(err, &e)
	ok := true
	switch {
	case st.Expect == nil:
		ok = err == nil
	case st.Expect.Error != "":
		ok = isDocDB && e.Code.String() == st.Expect.Error
		if ok && st.Expect.BatchIndex != nil {
			ok = e.BatchIndex == *st.Expect.BatchIndex
		}
		if err != nil && !isDocDB {
			got = fmt.Sprintf("a non-DocDB error %v", err)
		}
	default:
		var want any
		if st.Expect.OK != nil {
			dec := json.NewDecoder(bytes.NewReader(*st.Expect.OK))
			dec.UseNumber()
			must(r.t, dec.Decode(&want))
		}
		ok = err == nil && matches(want, value)
	}
	if !ok {
		exp, _ := json.Marshal(st.Expect)
		r.t.Fatalf("step %d (%s): expected %s, got %s", i, st.Call, exp, got)
	}
}

func describe(v any) string {
	if b, ok := v.([]byte); ok {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%v", v)
}

// matches compares a result with the format's expected value (README "Values").
func matches(want, got any) bool {
	switch g := got.(type) {
	case nil, *Store, *DB, *Txn, *Snapshot: // a handle: {"ok": null} asks only for success
		return want == nil
	case []byte:
		w, err := scenarioData(want)
		return err == nil && bytes.Equal(w, g)
	case bool:
		w, ok := want.(bool)
		return ok && w == g
	case uint64, int:
		n, ok := want.(json.Number)
		return ok && n.String() == fmt.Sprint(g)
	case string:
		return want == g
	case []any:
		w, ok := want.([]any)
		if !ok || len(w) != len(g) {
			return false
		}
		for i := range g {
			if !matches(w[i], g[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		w, ok := want.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, present := g[k]
			if !present || (wv != "*" && !matches(wv, gv)) {
				return false
			}
		}
		return true
	}
	return false
}

// scenarioData decodes document data: a string is its UTF-8 bytes, {"hex": ...} raw bytes.
func scenarioData(v any) ([]byte, error) {
	switch d := v.(type) {
	case string:
		return []byte(d), nil
	case map[string]any:
		if h, ok := d["hex"].(string); ok {
			return hex.DecodeString(h)
		}
	}
	return nil, fmt.Errorf("not document data: %v", v)
}

// args decodes the step's arguments.
type args map[string]any

func (r *conformanceRunner) args(st scenarioStep) args {
	a := args{}
	for k, raw := range st.Args {
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		must(r.t, dec.Decode(&v))
		a[k] = v
	}
	return a
}

func (a args) str(k string) string { s, _ := a[k].(string); return s }

func (a args) id() uint64 {
	n, _ := a["id"].(json.Number)
	var id uint64
	fmt.Sscan(n.String(), &id)
	return id
}

func (a args) num(k string) (uint64, bool) {
	n, ok := a[k].(json.Number)
	var v uint64
	fmt.Sscan(n.String(), &v)
	return v, ok
}

// rng is the Range of the bound arguments (tests/conformance/README.md, "Ranges").
func (a args) rng() Range {
	var r Range
	if v, ok := a.num("gte"); ok {
		r.Start = Included(v)
	}
	if v, ok := a.num("gt"); ok {
		r.Start = Excluded(v)
	}
	if v, ok := a.num("lte"); ok {
		r.End = Included(v)
	}
	if v, ok := a.num("lt"); ok {
		r.End = Excluded(v)
	}
	r.Reverse, _ = a["reverse"].(bool)
	if v, ok := a.num("limit"); ok {
		r = r.WithLimit(v)
	}
	return r
}

func (a args) data(t *testing.T, k string) []byte {
	d, err := scenarioData(a[k])
	must(t, err)
	return d
}

func (r *conformanceRunner) handle(st scenarioStep) any {
	h, ok := r.vars[st.On]
	if !ok {
		r.t.Fatalf("step names no known handle: on=%q", st.On)
	}
	return h
}

func (r *conformanceRunner) call(st scenarioStep) (any, error) {
	a := r.args(st)
	switch st.Call {
	case "fs.write":
		must(r.t, os.MkdirAll(filepath.Dir(a.str("path")), 0o755))
		return nil, os.WriteFile(a.str("path"), a.data(r.t, "data"), 0o644)
	case "fs.list":
		entries, err := os.ReadDir(a.str("path"))
		names := []any{}
		if err == nil {
			for _, e := range entries {
				names = append(names, e.Name())
			}
		}
		return names, nil
	case "fs.exists":
		_, err := os.Stat(a.str("path"))
		return err == nil, nil
	case "open":
		if r.remote != nil {
			if _, ok := a["options"]; ok {
				r.t.Fatal("remote mode: options are the server's (mark the scenario local_only)")
			}
			return nilIfErr(r.remote.open(r.t, a.str("path")))
		}
		var opts *Options
		if o, ok := a["options"].(map[string]any); ok {
			opts = optionsFrom(r.t, o)
		}
		return nilIfErr(Open(a.str("path"), opts))
	case "open_in_other_process":
		abs, err := filepath.Abs(a.str("path"))
		must(r.t, err)
		out, err := child(r.t, "open", abs).Output()
		if err != nil {
			r.t.Fatalf("other process: %v (%s)", err, out)
		}
		if f := strings.Fields(string(out)); len(f) >= 2 && f[0] == "ERR" {
			for _, c := range codes {
				if c.String() == f[1] {
					return nil, newError(c, "the other process got %s", f[1])
				}
			}
		}
		if string(out) != "opened\n" {
			r.t.Fatalf("other process said %q", out)
		}
		return nil, nil
	}
	switch h := r.handle(st).(type) {
	case *Store:
		return r.storeCall(h, st.Call, a)
	case *DB:
		return r.dbCall(h, st.Call, a)
	case *Txn:
		return r.txnCall(h, st.Call, a)
	case *Snapshot:
		return r.snapCall(h, st.Call, a)
	}
	r.t.Fatalf("unknown call %q", st.Call)
	return nil, nil
}

func nilIfErr[T any](v *T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (r *conformanceRunner) storeCall(s *Store, call string, a args) (any, error) {
	switch call {
	case "store.close":
		return nil, r.closeStore(s)
	case "store.closed":
		return s.Closed(), nil
	case "store.create_db":
		return nilIfErr(s.CreateDB(a.str("name")))
	case "store.open_db":
		return nilIfErr(s.OpenDB(a.str("name")))
	case "store.open_or_create_db":
		return nilIfErr(s.OpenOrCreateDB(a.str("name")))
	case "store.drop_db":
		return nil, s.DropDB(a.str("name"))
	case "store.list_dbs":
		infos, err := s.ListDBs()
		names := []any{}
		for _, i := range infos {
			names = append(names, i.Name)
		}
		return names, err
	case "store.stats":
		st, err := s.Stats()
		return statsMap(st), err
	case "store.checkpoint":
		return nil, s.Checkpoint()
	case "store.sync":
		return nil, s.Sync()
	}
	r.t.Fatalf("unknown call %q", call)
	return nil, nil
}

func (r *conformanceRunner) dbCall(d *DB, call string, a args) (any, error) {
	switch call {
	case "db.create":
		return nil, d.Create(a.id(), a.data(r.t, "data"))
	case "db.update":
		return nil, d.Update(a.id(), a.data(r.t, "data"))
	case "db.put", "db.setitem":
		return nil, d.Put(a.id(), a.data(r.t, "data"))
	case "db.read", "db.getitem":
		return d.Read(a.id())
	case "db.get": // Go's idiom: Read, and ErrNotFound means "use the default"
		doc, err := d.Read(a.id())
		if errors.Is(err, ErrNotFound) {
			return a.data(r.t, "default"), nil
		}
		return doc, err
	case "db.delete", "db.delitem":
		return nil, d.Delete(a.id())
	case "db.contains", "db.in":
		return d.Contains(a.id())
	case "db.len", "db.size":
		return d.Len()
	case "db.batch":
		return d.Batch(batchOps(r.t, a))
	case "db.begin":
		return nilIfErr(d.Begin())
	case "db.snapshot":
		return nilIfErr(d.Snapshot())
	case "db.stats":
		st, err := d.Stats()
		m := statsMap(st)
		m["name"] = d.Name()
		return m, err
	case "db.compact":
		return d.Compact()
	case "db.checkpoint":
		return nil, d.Checkpoint()
	case "db.sync":
		return nil, d.Sync()
	case "db.iter", "db.items", "db.values", "db.items_async":
		snap, err := d.Snapshot()
		if err != nil {
			return nil, err
		}
		defer snap.Close()
		if call == "db.iter" {
			ids, err := snap.IDs()
			return anyList(ids), err
		}
		return scan(snap, call == "db.values")
	case "db.range":
		return drainScan(d.Range(a.rng()))
	case "db.count":
		return d.Count(a.rng())
	}
	r.t.Fatalf("unknown call %q", call)
	return nil, nil
}

func (r *conformanceRunner) txnCall(t *Txn, call string, a args) (any, error) {
	switch call {
	case "txn.create":
		return nil, t.Create(a.id(), a.data(r.t, "data"))
	case "txn.update":
		return nil, t.Update(a.id(), a.data(r.t, "data"))
	case "txn.put":
		return nil, t.Put(a.id(), a.data(r.t, "data"))
	case "txn.read":
		return t.Read(a.id())
	case "txn.delete":
		return nil, t.Delete(a.id())
	case "txn.contains":
		return t.Contains(a.id())
	case "txn.pending":
		return t.Pending()
	case "txn.read_version":
		return t.ReadVersion()
	case "txn.commit":
		return t.Commit()
	case "txn.rollback":
		return nil, t.Rollback()
	case "txn.range":
		return drainScan(t.Range(a.rng()))
	case "txn.count":
		return t.Count(a.rng())
	}
	r.t.Fatalf("unknown call %q", call)
	return nil, nil
}

func (r *conformanceRunner) snapCall(s *Snapshot, call string, a args) (any, error) {
	switch call {
	case "snap.read":
		return s.Read(a.id())
	case "snap.contains":
		return s.Contains(a.id())
	case "snap.len":
		return s.Len()
	case "snap.version":
		return s.Version()
	case "snap.ids":
		ids, err := s.IDs()
		return anyList(ids), err
	case "snap.scan", "snap.items", "snap.items_async":
		return scan(s, false)
	case "snap.close":
		return nil, s.Close()
	case "snap.range":
		return drainScan(s.Range(a.rng()))
	case "snap.count":
		return s.Count(a.rng())
	}
	r.t.Fatalf("unknown call %q", call)
	return nil, nil
}

// drainScan drains a range's scan into [id, data] pairs.
func drainScan(sc *Scan, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	out := []any{}
	for id, doc := range sc.All() {
		out = append(out, []any{id, doc})
	}
	return out, sc.Err()
}

// scan drains All(): [id, data] pairs, or only the documents.
func scan(s *Snapshot, valuesOnly bool) (any, error) {
	out := []any{}
	for id, doc := range s.All() {
		if valuesOnly {
			out = append(out, doc)
		} else {
			out = append(out, []any{id, doc})
		}
	}
	return out, s.Err()
}

func anyList[T any](v []T) []any {
	out := make([]any, len(v))
	for i := range v {
		out[i] = v[i]
	}
	return out
}

func batchOps(t *testing.T, a args) []BatchOp {
	kinds := map[string]BatchKind{"create": BatchCreate, "update": BatchUpdate, "put": BatchPut, "delete": BatchDelete}
	var ops []BatchOp
	for _, raw := range a["ops"].([]any) {
		o := args(raw.(map[string]any))
		kind, ok := kinds[o.str("op")]
		if !ok {
			kind = 99 // an unknown operation: refused by libdocdb with its index
		}
		op := BatchOp{Kind: kind, ID: o.id()}
		if _, has := o["data"]; has {
			op.Data = o.data(t, "data")
		}
		ops = append(ops, op)
	}
	return ops
}

// statsMap turns a stats struct into core's snake_case field names.
func statsMap(st any) map[string]any {
	v := reflect.ValueOf(st)
	m := map[string]any{}
	for i := 0; i < v.NumField(); i++ {
		m[snake(v.Type().Field(i).Name)] = v.Field(i).Interface()
	}
	return m
}

// snake: "DatabasesTotal" -> "databases_total", "ID" -> "id", "DBMemoryLimit" -> "db_memory_limit".
func snake(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		upper := unicode.IsUpper(r)
		if upper && i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// optionsFrom applies core's option names to DefaultOptions().
func optionsFrom(t *testing.T, o map[string]any) *Options {
	opts := DefaultOptions()
	v := reflect.ValueOf(&opts).Elem()
	for k, val := range o {
		if k == "sync" {
			switch val {
			case "full":
				opts.Sync = SyncFull
			case "normal":
				opts.Sync = SyncNormal
			default:
				opts.Sync = 99 // refused by libdocdb with INVALID_ARGUMENT
			}
			continue
		}
		i := slices.IndexFunc(reflect.VisibleFields(v.Type()), func(f reflect.StructField) bool { return snake(f.Name) == k })
		if i < 0 {
			t.Fatalf("unknown option %q", k)
		}
		f := v.Field(i)
		switch x := val.(type) {
		case bool:
			f.SetBool(x)
		case json.Number:
			if f.Kind() == reflect.Float64 {
				fl, err := x.Float64()
				must(t, err)
				f.SetFloat(fl)
			} else {
				var u uint64
				if _, err := fmt.Sscan(x.String(), &u); err != nil {
					t.Fatalf("option %s: %v", k, err)
				}
				f.SetUint(u)
			}
		default:
			t.Fatalf("option %s: %v", k, val)
		}
	}
	return &opts
}
