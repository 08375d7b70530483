package docdb

/*
#include "docdb_go.h"
*/
import "C"

// StoreStats are a store's statistics (docdb_store_stats); sums are over open databases.
type StoreStats struct {
	DatabasesTotal  uint64 // databases in the catalog, dropped ones included
	DatabasesActive uint64 // databases not dropped
	DatabasesOpen   uint64 // databases loaded by this process
	Documents       uint64 // live documents
	CommittedTxns   uint64 // commits since open
	LogBytes        uint64 // size of the log segment files
	LiveBytes       uint64 // bytes of live records
	DeadBytes       uint64 // bytes compaction can free
	Compactions     uint64 // compactions since open
	MemoryUsed      uint64 // engine memory in use
	MemoryLimit     uint64 // the global memory cap
	CacheBytes      uint64 // bytes held by the record cache
	CacheHits       uint64 // reads the record cache served
	CacheMisses     uint64 // reads that went to disk
}

func storeStatsFromC(c *C.docdb_store_stats) StoreStats {
	return StoreStats{
		DatabasesTotal:  uint64(c.databases_total),
		DatabasesActive: uint64(c.databases_active),
		DatabasesOpen:   uint64(c.databases_open),
		Documents:       uint64(c.documents),
		CommittedTxns:   uint64(c.committed_txns),
		LogBytes:        uint64(c.log_bytes),
		LiveBytes:       uint64(c.live_bytes),
		DeadBytes:       uint64(c.dead_bytes),
		Compactions:     uint64(c.compactions),
		MemoryUsed:      uint64(c.memory_used),
		MemoryLimit:     uint64(c.memory_limit),
		CacheBytes:      uint64(c.cache_bytes),
		CacheHits:       uint64(c.cache_hits),
		CacheMisses:     uint64(c.cache_misses),
	}
}

// DBStats are one database's statistics (docdb_db_stats).
type DBStats struct {
	ID                      uint64 // catalog id of the database
	Documents               uint64 // live documents
	LiveBytes               uint64 // log bytes holding live documents (headers included)
	DeadBytes               uint64 // log bytes compaction frees
	LogBytes                uint64 // total size of the log segment files
	Segments                uint64 // number of log segment files
	CommittedTxns           uint64 // commits since the store was opened
	Compactions             uint64 // compactions since open
	Checkpoints             uint64 // checkpoints written since open
	LastVersion             uint64 // version of the newest visible commit
	ActiveReaders           uint64 // open snapshots and transactions
	MemoryUsed              uint64 // engine memory charged to this database
	MemoryLimit             uint64 // the per-database memory cap
	RecoveredTruncatedBytes uint64 // bytes of a torn final transaction cut off at open
	RecoveredReplayedBytes  uint64 // log bytes replayed at open (not covered by a checkpoint)
	Poisoned                bool   // an I/O failure poisoned the database (reopen the store)
}

func dbStatsFromC(c *C.docdb_db_stats) DBStats {
	return DBStats{
		ID:                      uint64(c.id),
		Documents:               uint64(c.documents),
		LiveBytes:               uint64(c.live_bytes),
		DeadBytes:               uint64(c.dead_bytes),
		LogBytes:                uint64(c.log_bytes),
		Segments:                uint64(c.segments),
		CommittedTxns:           uint64(c.committed_txns),
		Compactions:             uint64(c.compactions),
		Checkpoints:             uint64(c.checkpoints),
		LastVersion:             uint64(c.last_version),
		ActiveReaders:           uint64(c.active_readers),
		MemoryUsed:              uint64(c.memory_used),
		MemoryLimit:             uint64(c.memory_limit),
		RecoveredTruncatedBytes: uint64(c.recovered_truncated_bytes),
		RecoveredReplayedBytes:  uint64(c.recovered_replayed_bytes),
		Poisoned:                bool(c.poisoned),
	}
}
