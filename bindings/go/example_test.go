package docdb_test

// The examples of the package documentation (go doc, pkg.go.dev); `go test` runs each one
// with an Output comment and compares what it prints.

import (
	"errors"
	"fmt"
	"log"
	"os"

	docdb "github.com/docdb/docdb/bindings/go"
)

// tempDB opens database name in a store in a fresh temporary directory; done closes the
// store and removes the directory.
func tempDB(name string) (db *docdb.DB, done func()) {
	dir, err := os.MkdirTemp("", "docdb-example-")
	if err != nil {
		log.Fatal(err)
	}
	store, err := docdb.Open(dir, nil)
	if err == nil {
		db, err = store.OpenOrCreateDB(name)
	}
	if err != nil {
		log.Fatal(err)
	}
	return db, func() {
		if err := store.Close(); err != nil {
			log.Fatal(err)
		}
		os.RemoveAll(dir)
	}
}

func Example() {
	dir, err := os.MkdirTemp("", "docdb-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := docdb.Open(dir, nil) // nil: DefaultOptions()
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	users, err := store.OpenOrCreateDB("users")
	if err != nil {
		log.Fatal(err)
	}
	if err := users.Create(1, []byte(`{"name":"Ada"}`)); err != nil {
		log.Fatal(err)
	}
	doc, err := users.Read(1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(doc))
	_, err = users.Read(2)
	fmt.Println(errors.Is(err, docdb.ErrNotFound))
	// Output:
	// {"name":"Ada"}
	// true
}

// Keyset paging: each page is the range after the last id of the previous one.
func ExampleDB_Range() {
	db, done := tempDB("events")
	defer done()
	for id := uint64(10); id <= 70; id += 10 {
		if err := db.Put(id, fmt.Appendf(nil, "event %d", id)); err != nil {
			log.Fatal(err)
		}
	}

	page := docdb.Range{Start: docdb.Included(20)}.WithLimit(3)
	for {
		scan, err := db.Range(page)
		if err != nil {
			log.Fatal(err)
		}
		var ids []uint64
		for id := range scan.All() {
			ids = append(ids, id)
		}
		if err := scan.Err(); err != nil {
			log.Fatal(err)
		}
		if len(ids) == 0 {
			break
		}
		fmt.Println(ids)
		page = page.After(ids[len(ids)-1])
	}
	// Output:
	// [20 30 40]
	// [50 60 70]
}

// Breaking out of the loop releases the scan; Err says whether an error ended it early.
func ExampleScan_All() {
	db, done := tempDB("d")
	defer done()
	for id := uint64(1); id <= 5; id++ {
		if err := db.Put(id, fmt.Appendf(nil, "doc %d", id)); err != nil {
			log.Fatal(err)
		}
	}
	scan, err := db.Range(docdb.Range{}.Reversed())
	if err != nil {
		log.Fatal(err)
	}
	for id, doc := range scan.All() {
		fmt.Println(id, string(doc))
		if id == 4 {
			break
		}
	}
	fmt.Println(scan.Err())
	// Output:
	// 5 doc 5
	// 4 doc 4
	// <nil>
}

func ExampleDB_Count() {
	db, done := tempDB("d")
	defer done()
	for id := uint64(1); id <= 100; id++ {
		if err := db.Put(id, nil); err != nil {
			log.Fatal(err)
		}
	}
	n, err := db.Count(docdb.Range{Start: docdb.Excluded(10), End: docdb.Included(20)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
	// Output: 10
}

// A transaction's range shows its own staged writes and deletions.
func ExampleTxn_Range() {
	db, done := tempDB("d")
	defer done()
	for id := uint64(1); id <= 3; id++ {
		if err := db.Put(id, []byte("committed")); err != nil {
			log.Fatal(err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Delete(2); err != nil {
		log.Fatal(err)
	}
	if err := tx.Put(4, []byte("staged")); err != nil {
		log.Fatal(err)
	}
	scan, err := tx.Range(docdb.Range{})
	if err != nil {
		log.Fatal(err)
	}
	for id, doc := range scan.All() {
		fmt.Println(id, string(doc))
	}
	if err := scan.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 1 committed
	// 3 committed
	// 4 staged
}

// A transaction's count includes its staged writes and deletions.
func ExampleTxn_Count() {
	db, done := tempDB("d")
	defer done()
	for id := uint64(1); id <= 10; id++ {
		if err := db.Put(id, nil); err != nil {
			log.Fatal(err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Delete(3); err != nil {
		log.Fatal(err)
	}
	if err := tx.Put(11, nil); err != nil {
		log.Fatal(err)
	}
	n, err := tx.Count(docdb.Range{Start: docdb.Included(2)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
	// Output: 9
}

// ErrConflict: another commit changed a document this transaction writes; nothing was
// applied, so the transaction is begun again.
func ExampleTxn_Commit() {
	db, done := tempDB("counters")
	defer done()
	if err := db.Put(1, []byte("0")); err != nil {
		log.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		log.Fatal(err)
	}
	if err := tx.Put(1, []byte("1")); err != nil {
		log.Fatal(err)
	}
	if err := db.Put(1, []byte("other writer")); err != nil {
		log.Fatal(err)
	}
	_, err = tx.Commit()
	fmt.Println(errors.Is(err, docdb.ErrConflict))
	// Output: true
}

// Every error is a *docdb.Error: its kind for errors.Is, the engine's message, and for a
// batch the index of the operation that failed.
func ExampleError() {
	db, done := tempDB("d")
	defer done()
	_, err := db.Batch([]docdb.BatchOp{
		{Kind: docdb.BatchPut, ID: 1, Data: []byte("a")},
		{Kind: docdb.BatchUpdate, ID: 2, Data: []byte("b")}, // no document 2
	})
	var e *docdb.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code.String(), e.BatchIndex, errors.Is(err, docdb.ErrNotFound))
	}
	ok, err := db.Contains(1)
	fmt.Println(ok, err) // the batch applied nothing
	// Output:
	// NOT_FOUND 1 true
	// false <nil>
}

// Connect reaches a `docdb serve` process; the store works as one from Open. (Not run:
// it needs a server.)
func ExampleConnect() {
	opts := docdb.DefaultConnectOptions()
	opts.Token = os.Getenv("DOCDB_TOKEN") // the server's --token-file, if it has one
	store, err := docdb.Connect("unix:///run/docdb/docdb.sock", &opts)
	if errors.Is(err, docdb.ErrUnavailable) {
		log.Fatal("no server there: ", err)
	} else if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	users, err := store.OpenOrCreateDB("users")
	if err != nil {
		log.Fatal(err)
	}
	n, err := users.Count(docdb.Range{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "users")
}
