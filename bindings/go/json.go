package docdb

import "encoding/json"

// DocReader is what ReadJSON reads from: *DB, *Txn and *Snapshot.
type DocReader interface {
	Read(id uint64) ([]byte, error)
}

// DocPutter is what PutJSON writes to: *DB and *Txn.
type DocPutter interface {
	Put(id uint64, data []byte) error
}

// PutJSON stores v as JSON under id (insert or replace). An encoding error is
// encoding/json's, returned as it is.
func PutJSON[T any](w DocPutter, id uint64, v T) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w.Put(id, data)
}

// ReadJSON reads document id and decodes it as JSON into a T. ErrNotFound and the other
// DocDB errors as Read; a document that is not valid JSON for T gives encoding/json's error.
func ReadJSON[T any](r DocReader, id uint64) (T, error) {
	var v T
	data, err := r.Read(id)
	if err != nil {
		return v, err
	}
	err = json.Unmarshal(data, &v)
	return v, err
}
