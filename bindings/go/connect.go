package docdb

/*
#include "docdb_go.h"
*/
import "C"

import (
	"time"
	"unsafe"
)

// ConnectOptions of Connect, mirroring docdb_connect_options. Start from
// DefaultConnectOptions() and change what you need.
type ConnectOptions struct {
	Token          string        // the server's shared secret (its --token-file); "" for none
	TLSCAFile      string        // tls:// URLs: PEM file of the CA that signed the server's certificate
	TLSServerName  string        // tls:// URLs: name to verify in the certificate; "" = the URL's host
	ConnectTimeout time.Duration // to connect and complete the handshake (> 0); default 10s
	RequestTimeout time.Duration // a reply's longest wait (then ErrUnavailable); 0 = no limit; default 5m
	PoolSize       uint64        // idle connections kept for reuse; default 8
}

// DefaultConnectOptions returns the client's defaults (docdb_connect_options_default).
func DefaultConnectOptions() ConnectOptions {
	c := C.docdb_connect_options_default()
	return ConnectOptions{
		ConnectTimeout: time.Duration(c.connect_timeout_ms) * time.Millisecond,
		RequestTimeout: time.Duration(c.request_timeout_ms) * time.Millisecond,
		PoolSize:       uint64(c.pool_size),
	}
}

// Connect connects to the DocDB server at url (unix:///path/to.sock, tcp://host:port or
// tls://host:port) and returns a Store that works like one from Open: the same methods,
// errors and handles, served by the server (transactions and snapshots are held there
// until finished or closed). opts may be nil for DefaultConnectOptions().
//
// ErrInvalidArgument for a malformed URL, bad options or a token the server refuses;
// ErrUnavailable if the server cannot be reached. Later, a call whose connection is lost
// returns ErrUnavailable (the request may or may not have been applied if it was sent) and
// the next call connects again. Close closes this client's connections; the server goes
// on.
func Connect(url string, opts *ConnectOptions) (*Store, error) {
	curl, err := cString(url, ErrInvalidArgument, "url")
	if err != nil {
		return nil, err
	}
	o := DefaultConnectOptions()
	if opts != nil {
		o = *opts
	}
	copts, free, err := o.toC()
	if err != nil {
		return nil, err
	}
	defer free()
	var ptr *C.docdb_store
	if err := check(C.gd_store_connect(curl, copts, &ptr)); err != nil {
		return nil, err
	}
	return newStore(ptr, url), nil
}

// toC returns the options in C memory (the struct holds string pointers, which cgo does
// not allow into Go memory), and the function that frees them after the call.
func (o *ConnectOptions) toC() (*C.docdb_connect_options, func(), error) {
	var strs []*C.char
	free := func() {
		for _, p := range strs {
			C.free(unsafe.Pointer(p))
		}
	}
	str := func(s, what string) (*C.char, error) {
		if s == "" {
			return nil, nil
		}
		if _, err := cString(s, ErrInvalidArgument, what); err != nil {
			return nil, err
		}
		p := C.CString(s)
		strs = append(strs, p)
		return p, nil
	}
	if o.ConnectTimeout < time.Millisecond || o.RequestTimeout < 0 {
		return nil, nil, newError(ErrInvalidArgument,
			"ConnectTimeout must be at least 1ms and RequestTimeout not negative (%v, %v): start from DefaultConnectOptions()",
			o.ConnectTimeout, o.RequestTimeout)
	}
	c := (*C.docdb_connect_options)(C.malloc(C.size_t(unsafe.Sizeof(C.docdb_connect_options{}))))
	strs = append(strs, (*C.char)(unsafe.Pointer(c)))
	*c = C.docdb_connect_options_default()
	c.connect_timeout_ms = C.uint64_t(o.ConnectTimeout / time.Millisecond)
	c.request_timeout_ms = C.uint64_t(o.RequestTimeout / time.Millisecond)
	c.pool_size = C.uint64_t(o.PoolSize)
	var err error
	if c.token, err = str(o.Token, "token"); err == nil {
		if c.tls_ca_file, err = str(o.TLSCAFile, "TLS CA file"); err == nil {
			c.tls_server_name, err = str(o.TLSServerName, "TLS server name")
		}
	}
	if err != nil {
		free()
		return nil, nil, err
	}
	return c, free, nil
}
