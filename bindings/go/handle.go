package docdb

import (
	"runtime"
	"sync"
	"unsafe"
)

// guard keeps a C handle alive while calls use it. The C library lets any number of
// threads call a handle at once but not free it while a call is running, so each call
// holds the read lock and Close takes the write lock before it frees the handle.
type guard struct {
	mu     sync.RWMutex
	closed bool
}

// enter starts a call; false means the handle is closed (nothing to unlock then).
func (g *guard) enter() bool {
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return false
	}
	return true
}

func (g *guard) leave() { g.mu.RUnlock() }

// nilHandle is the error of a call on a nil handle (one from an error return that was
// not checked): ErrInvalidArgument, as C answers a NULL handle, rather than a panic.
func nilHandle(typ string) error {
	return newError(ErrInvalidArgument, "invalid argument: the *docdb.%s is nil", typ)
}

// shut marks the handle closed once calls have drained; false if it already was.
// The caller frees the C handle, then calls g.mu.Unlock().
func (g *guard) shut() bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.closed = true
	return true
}

// owned is what DB, Txn and Snapshot embed: the guard of their C handle and the garbage
// collector's safety net, which frees the handle if the Go value is dropped unreleased.
type owned struct {
	guard
	cleanup runtime.Cleanup
}

// adopt arms the safety net of v (which embeds o and owns the C handle ptr). C handle
// types are incomplete, so they travel as unsafe.Pointer.
func adopt[T any](o *owned, v *T, ptr unsafe.Pointer, free func(unsafe.Pointer)) {
	o.cleanup = runtime.AddCleanup(v, free, ptr)
}

// release frees the C handle once: it waits for running calls, disarms the safety net
// and marks the handle closed. False if it was already released.
func (o *owned) release(ptr unsafe.Pointer, free func(unsafe.Pointer)) bool {
	if !o.shut() {
		return false
	}
	defer o.mu.Unlock()
	o.cleanup.Stop()
	free(ptr)
	return true
}
