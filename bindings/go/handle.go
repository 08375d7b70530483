package docdb

import (
	"runtime"
	"sync"
	"unsafe"
	"weak"
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

// children tracks the handles obtained from a store (databases, transactions, snapshots)
// so that Store.Close releases them all. It holds them weakly: a forgotten handle is still
// collected, and its cleanup (runtime.AddCleanup) frees the C handle and unregisters it.
type children struct {
	mu     sync.Mutex
	next   uint64
	closed bool
	open   map[uint64]func()
}

// add registers a child's closer; false if the store is already closed (the caller then
// releases the child itself).
func add[T any](c *children, v *T, closeFn func(*T)) (uint64, bool) {
	w := weak.Make(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, false
	}
	if c.open == nil {
		c.open = make(map[uint64]func())
	}
	c.next++
	c.open[c.next] = func() {
		if v := w.Value(); v != nil {
			closeFn(v)
		}
	}
	return c.next, true
}

func (c *children) remove(key uint64) {
	c.mu.Lock()
	delete(c.open, key)
	c.mu.Unlock()
}

// closeAll closes every registered child; later add calls fail.
func (c *children) closeAll() {
	c.mu.Lock()
	c.closed = true
	open := c.open
	c.open = nil
	c.mu.Unlock()
	for _, f := range open {
		f()
	}
}

// owned is what DB, Txn and Snapshot embed: the guard of their C handle and their place
// among the store's children.
type owned struct {
	guard
	kids    *children
	key     uint64
	cleanup runtime.Cleanup
}

type cleanupArg struct {
	ptr  unsafe.Pointer
	kids *children
	key  uint64
}

// adopt registers v (which embeds o and owns the C handle ptr) with the store's
// children and arms the garbage collector's safety net, which frees ptr if v is dropped
// unclosed. If the store closed meanwhile, ptr is freed now and v starts closed.
// (C handle types are incomplete, so they travel as unsafe.Pointer.)
func adopt[T any](o *owned, kids *children, v *T, ptr unsafe.Pointer, closeFn func(*T), free func(unsafe.Pointer)) {
	o.kids = kids
	key, ok := add(kids, v, closeFn)
	if !ok {
		free(ptr)
		o.closed = true
		return
	}
	o.key = key
	o.cleanup = runtime.AddCleanup(v, func(a cleanupArg) {
		free(a.ptr)
		a.kids.remove(a.key)
	}, cleanupArg{ptr, kids, key})
}

// disown undoes adopt before an explicit free: no cleanup, no registration.
func (o *owned) disown() {
	o.cleanup.Stop()
	o.kids.remove(o.key)
}
