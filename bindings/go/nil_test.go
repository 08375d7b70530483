package docdb

import (
	"errors"
	"fmt"
	"iter"
	"reflect"
	"testing"
)

// TestNilHandles calls every exported method of a nil *Store, *DB, *Txn, *Snapshot and
// *Scan (as from an error return that was not checked): none may panic. Every error is
// ErrInvalidArgument, as C answers a NULL handle, except Close of a DB, Snapshot or Scan,
// which does nothing, as docdb_*_free(NULL); loops yield nothing and Err names the nil
// handle, so an unchecked error does not pass for an empty result.
func TestNilHandles(t *testing.T) {
	handles := []any{(*Store)(nil), (*DB)(nil), (*Txn)(nil), (*Snapshot)(nil), (*Scan)(nil)}
	for _, h := range handles {
		v := reflect.ValueOf(h)
		for i := range v.NumMethod() {
			m := v.Type().Method(i)
			name := fmt.Sprintf("(%v).%s", v.Type(), m.Name)
			t.Run(name, func(t *testing.T) {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s panicked: %v", name, r)
					}
				}()
				args := []reflect.Value{}
				for j := range m.Type.NumIn() - 1 {
					args = append(args, reflect.Zero(m.Type.In(j+1)))
				}
				for _, out := range v.Method(i).Call(args) {
					switch x := out.Interface().(type) {
					case error:
						wantErr(t, x, ErrInvalidArgument)
					case iter.Seq2[uint64, []byte]:
						x(func(uint64, []byte) bool {
							t.Fatalf("%s yielded a document", name)
							return false
						})
					}
				}
			})
		}
	}
	for _, c := range []interface{ Close() error }{(*DB)(nil), (*Snapshot)(nil), (*Scan)(nil)} {
		if err := c.Close(); err != nil {
			t.Errorf("Close of a nil %T: %v", c, err)
		}
	}
	wantErr(t, (*Store)(nil).Close(), ErrInvalidArgument)
	for _, e := range []interface{ Err() error }{(*Snapshot)(nil), (*Scan)(nil)} {
		if !errors.Is(e.Err(), ErrInvalidArgument) {
			t.Errorf("Err of a nil %T: %v", e, e.Err())
		}
	}
}
