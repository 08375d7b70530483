// todo: a small to-do list on DocDB's Go binding.
//
//	todo DIR add TEXT...   add items (one atomic batch), print their ids
//	todo DIR done ID       mark an item done (a read-modify-write transaction)
//	todo DIR rm ID         delete an item
//	todo DIR list          print every item, by id, from one snapshot
//	todo DIR stats         print the database's statistics
//
// Build: `make demo-go`, or `go build` with libdocdb found by pkg-config.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	docdb "github.com/docdb/docdb/bindings/go"
)

// Item is stored as a JSON document.
type Item struct {
	Text string `json:"text"`
	Done bool   `json:"done"`
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: todo DIR add TEXT... | done ID | rm ID | list | stats")
		os.Exit(2)
	}
	store, err := docdb.Open(os.Args[1], nil)
	if err != nil {
		fail(err)
	}
	items, err := store.OpenOrCreateDB("todo")
	if err == nil {
		err = run(items, os.Args[2], os.Args[3:])
	}
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "todo:", err)
	os.Exit(1)
}

func run(items *docdb.DB, cmd string, args []string) error {
	switch cmd {
	case "add":
		return add(items, args)
	case "done":
		id, err := parseID(args)
		if err != nil {
			return err
		}
		return markDone(items, id)
	case "rm":
		id, err := parseID(args)
		if err != nil {
			return err
		}
		if err := items.Delete(id); errors.Is(err, docdb.ErrNotFound) {
			return fmt.Errorf("no item %d", id)
		} else if err != nil {
			return err
		}
		fmt.Printf("removed %d\n", id)
		return nil
	case "list":
		return list(items)
	case "stats":
		st, err := items.Stats()
		if err != nil {
			return err
		}
		fmt.Printf("%d items; log: %d bytes in %d segment(s), %d of them reclaimable by compaction\n",
			st.Documents, st.LogBytes, st.Segments, st.DeadBytes)
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd)
}

func parseID(args []string) (uint64, error) {
	if len(args) != 1 {
		return 0, errors.New("expected one item id")
	}
	return strconv.ParseUint(args[0], 10, 64)
}

// add creates every item in one atomic batch of creates, with ids after the largest
// one; if another writer took an id meanwhile, the batch fails as a whole (ErrAlreadyExists,
// at the *Error's BatchIndex) and is retried with fresh ids.
func add(items *docdb.DB, texts []string) error {
	for {
		next, err := nextID(items)
		if err != nil {
			return err
		}
		ops := make([]docdb.BatchOp, len(texts))
		for i, text := range texts {
			data, _ := json.Marshal(Item{Text: text}) // cannot fail for this type
			ops[i] = docdb.BatchOp{Kind: docdb.BatchCreate, ID: next + uint64(i), Data: data}
		}
		_, err = items.Batch(ops)
		var e *docdb.Error
		if errors.As(err, &e) && errors.Is(err, docdb.ErrAlreadyExists) {
			fmt.Fprintf(os.Stderr, "id %d taken by another writer, retrying\n", ops[e.BatchIndex].ID)
			continue
		}
		if err != nil {
			return err
		}
		for i, text := range texts {
			fmt.Printf("added %d: %s\n", next+uint64(i), text)
		}
		return nil
	}
}

// nextID is one past the largest id, from a snapshot (ids come in ascending order).
func nextID(items *docdb.DB) (uint64, error) {
	snap, err := items.Snapshot()
	if err != nil {
		return 0, err
	}
	defer snap.Close()
	next := uint64(1)
	for id := range snap.All() {
		next = id + 1
	}
	return next, snap.Err()
}

// markDone is a read-modify-write transaction, retried when another writer wins.
func markDone(items *docdb.DB, id uint64) error {
	for {
		tx, err := items.Begin()
		if err != nil {
			return err
		}
		it, err := docdb.ReadJSON[Item](tx, id)
		if err != nil {
			_ = tx.Rollback()
			if errors.Is(err, docdb.ErrNotFound) {
				return fmt.Errorf("no item %d", id)
			}
			return err
		}
		it.Done = true
		if err := docdb.PutJSON(tx, id, it); err != nil {
			_ = tx.Rollback()
			return err
		}
		_, err = tx.Commit()
		if errors.Is(err, docdb.ErrConflict) {
			continue
		}
		if err == nil {
			fmt.Printf("done %d: %s\n", id, it.Text)
		}
		return err
	}
}

func list(items *docdb.DB) error {
	snap, err := items.Snapshot()
	if err != nil {
		return err
	}
	defer snap.Close()
	n, err := snap.Len()
	if err != nil {
		return err
	}
	fmt.Printf("%d item(s):\n", n)
	for id, doc := range snap.All() {
		var it Item
		if err := json.Unmarshal(doc, &it); err != nil {
			return fmt.Errorf("item %d: %w", id, err)
		}
		mark := " "
		if it.Done {
			mark = "x"
		}
		fmt.Printf("  [%s] %d %s\n", mark, id, it.Text)
	}
	return snap.Err()
}
