package docdb

/*
#include "docdb_go.h"
*/
import "C"

import "reflect"

// SyncMode says when a commit is durable (docdb_sync).
type SyncMode uint32

const (
	// SyncFull: a commit returns after its records are fsynced; survives power loss.
	// The default. Concurrent commits share one fsync.
	SyncFull SyncMode = C.DOCDB_SYNC_FULL
	// SyncNormal: a commit returns once written to the OS; survives a process crash.
	// Power loss can lose the newest commits (never part of one).
	SyncNormal SyncMode = C.DOCDB_SYNC_NORMAL
)

// Options of Open, mirroring docdb_options field for field. Start from DefaultOptions()
// and change what you need: every field is passed as it is (CacheSize 0 turns the
// cache off; MaxDocumentSize 0 is refused with ErrInvalidArgument).
type Options struct {
	Sync                   SyncMode // when a commit is durable; default SyncFull
	MaxDocumentSize        uint64   // largest accepted document, 1 .. 1 GiB; default 16 MiB
	MemoryLimit            uint64   // global cap on engine memory; default 1 GiB
	DBMemoryLimit          uint64   // the same cap per database; default 256 MiB
	SegmentSize            uint64   // log segment size, 4 KiB .. 3 GiB; default 64 MiB
	CompactionMinDeadBytes uint64   // automatic compaction needs this many dead bytes...; default 64 MiB
	CompactionDeadRatio    float64  // ...making up this fraction of the log (0 < r <= 1); default 0.5
	AutoCompact            bool     // automatic compaction on or off; default true
	CheckpointBytes        uint64   // log bytes between automatic checkpoints; default 256 MiB
	IndexShards            uint64   // index shards, a power of two 1 .. 65536; default 16
	CacheSize              uint64   // bytes of the record cache (warm reads without a system call); 0 = off; default 256 MiB
}

// DefaultOptions returns the engine's defaults (docdb_options_default).
func DefaultOptions() Options {
	c := C.docdb_options_default()
	return Options{
		Sync:                   SyncMode(c.sync),
		MaxDocumentSize:        uint64(c.max_document_size),
		MemoryLimit:            uint64(c.memory_limit),
		DBMemoryLimit:          uint64(c.db_memory_limit),
		SegmentSize:            uint64(c.segment_size),
		CompactionMinDeadBytes: uint64(c.compaction_min_dead_bytes),
		CompactionDeadRatio:    float64(c.compaction_dead_ratio),
		AutoCompact:            bool(c.auto_compact),
		CheckpointBytes:        uint64(c.checkpoint_bytes),
		IndexShards:            uint64(c.index_shards),
		CacheSize:              uint64(c.cache_size),
	}
}

func (o *Options) toC() C.docdb_options {
	return C.docdb_options{
		sync:                      C.uint32_t(o.Sync),
		max_document_size:         C.uint64_t(o.MaxDocumentSize),
		memory_limit:              C.uint64_t(o.MemoryLimit),
		db_memory_limit:           C.uint64_t(o.DBMemoryLimit),
		segment_size:              C.uint64_t(o.SegmentSize),
		compaction_min_dead_bytes: C.uint64_t(o.CompactionMinDeadBytes),
		compaction_dead_ratio:     C.double(o.CompactionDeadRatio),
		auto_compact:              C.bool(o.AutoCompact),
		checkpoint_bytes:          C.uint64_t(o.CheckpointBytes),
		index_shards:              C.uint64_t(o.IndexShards),
		cache_size:                C.uint64_t(o.CacheSize),
	}
}

// cStructs pairs each Go mirror of a C struct with the C struct, for the test that checks
// that no C field is missing in Go.
func cStructs() map[string][2]reflect.Type {
	return map[string][2]reflect.Type{
		"docdb_options":         {reflect.TypeFor[Options](), reflect.TypeFor[C.docdb_options]()},
		"docdb_connect_options": {reflect.TypeFor[ConnectOptions](), reflect.TypeFor[C.docdb_connect_options]()},
		"docdb_db_stats":        {reflect.TypeFor[DBStats](), reflect.TypeFor[C.docdb_db_stats]()},
		"docdb_store_stats":     {reflect.TypeFor[StoreStats](), reflect.TypeFor[C.docdb_store_stats]()},
	}
}
