package docdb

/*
#include "docdb_go.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Code is the kind of a DocDB error: the C API's docdb_status, with the same values and
// names. Each non-zero Code is also an error value, so that errors.Is(err, ErrNotFound)
// matches any *Error of that kind:
//
//	if errors.Is(err, docdb.ErrNotFound) { ... }
type Code uint32

// The error kinds, one per docdb_status other than DOCDB_OK (docs/errors.md). A test
// fails if include/docdb.h gains a status this list lacks.
const (
	ErrNotFound           Code = C.DOCDB_NOT_FOUND           // document or database does not exist
	ErrAlreadyExists      Code = C.DOCDB_ALREADY_EXISTS      // create of an existing id or database name
	ErrConflict           Code = C.DOCDB_CONFLICT            // a transaction lost a write-write race; nothing applied
	ErrMemoryLimit        Code = C.DOCDB_MEMORY_LIMIT        // the write would exceed a memory cap; nothing applied
	ErrPayloadTooLarge    Code = C.DOCDB_PAYLOAD_TOO_LARGE   // document longer than Options.MaxDocumentSize
	ErrInvalidName        Code = C.DOCDB_INVALID_NAME        // database name outside [A-Za-z0-9_.-]{1,64} or starting with '.'
	ErrInvalidArgument    Code = C.DOCDB_INVALID_ARGUMENT    // bad option value, bad batch kind, NUL in a path
	ErrLocked             Code = C.DOCDB_LOCKED              // another process or store holds the data directory
	ErrClosed             Code = C.DOCDB_CLOSED              // closed store, snapshot, dropped database, finished transaction
	ErrCorruption         Code = C.DOCDB_CORRUPTION          // a checksum or format check failed; the message names file and offset
	ErrPoisoned           Code = C.DOCDB_POISONED            // an earlier write or fsync failed; reopen the store
	ErrUnsupportedVersion Code = C.DOCDB_UNSUPPORTED_VERSION // files of another format version
	ErrIO                 Code = C.DOCDB_IO                  // an operating-system I/O error
	ErrInternal           Code = C.DOCDB_INTERNAL            // a bug in DocDB (a caught panic)
	ErrUnavailable        Code = C.DOCDB_UNAVAILABLE         // a remote store's server is unreachable or the connection broke
)

// codes lists every Code; the test compares it with the statuses libdocdb knows.
var codes = []Code{
	ErrNotFound, ErrAlreadyExists, ErrConflict, ErrMemoryLimit, ErrPayloadTooLarge,
	ErrInvalidName, ErrInvalidArgument, ErrLocked, ErrClosed, ErrCorruption, ErrPoisoned,
	ErrUnsupportedVersion, ErrIO, ErrInternal, ErrUnavailable,
}

// String is the status name without the DOCDB_ prefix ("NOT_FOUND"), taken from
// libdocdb (docdb_status_str), so it is the C name and the Node err.code. (fmt's %v
// prints a Code as the error it also is, "docdb: NOT_FOUND": use String for the name.)
func (c Code) String() string {
	return C.GoString(C.docdb_status_str(C.uint32_t(c)))
}

// Error makes each Code usable as the target of errors.Is.
func (c Code) Error() string { return "docdb: " + c.String() }

// Error is every error the binding returns: the kind, the engine's message and, for a
// failed Batch, the position of the operation that made it fail.
//
//	var e *docdb.Error
//	if errors.As(err, &e) && e.BatchIndex >= 0 { ... ops[e.BatchIndex] ... }
type Error struct {
	Code    Code   // the kind; errors.Is(err, Code) compares it
	Message string // the engine's message (docdb_errmsg), e.g. "document 7 in database 'users' not found"
	// BatchIndex is the index of the failing operation of a Batch, -1 when the error is
	// not about one operation (and for every error outside Batch).
	BatchIndex int
}

// Error is "docdb: KIND: message", e.g. "docdb: NOT_FOUND: document 7 in database 'users' not found".
func (e *Error) Error() string { return fmt.Sprintf("docdb: %s: %s", e.Code.String(), e.Message) }

// Unwrap exposes the kind, for errors.Is(err, docdb.ErrNotFound) and errors.As(err, &code).
func (e *Error) Unwrap() error { return e.Code }

func newError(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), BatchIndex: -1}
}

// check turns a wrapper's result into an error, freeing the copied message.
func check(r C.gd_res) error {
	if r.st == C.DOCDB_OK {
		return nil
	}
	msg := C.GoString(r.msg)
	C.free(unsafe.Pointer(r.msg))
	return &Error{Code: Code(r.st), Message: msg, BatchIndex: -1}
}
