/*
 * docdb_go.h: the C side of the Go binding, included by every Go file that calls libdocdb.
 *
 * docdb_errmsg() is per OS thread and a goroutine may change threads between two cgo
 * calls, so every fallible call goes through a gd_* wrapper that returns the status and,
 * on failure, a malloc'd copy of the message taken in the same cgo call: the message
 * always belongs to the call. Go frees the copy (check() in errors.go).
 */
#ifndef DOCDB_GO_H
#define DOCDB_GO_H
#include <docdb.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	docdb_status st;
	char *msg;
} gd_res;

static inline gd_res gd_res_of(docdb_status st) {
	gd_res r = {st, NULL};
	if (st != DOCDB_OK) r.msg = strdup(docdb_errmsg());
	return r;
}

#define GD_WRAP(name, params, args) \
	static inline gd_res gd_##name params { return gd_res_of(docdb_##name args); }

GD_WRAP(store_open, (const char *p, const docdb_options *o, docdb_store **out), (p, o, out))
GD_WRAP(store_connect, (const char *u, const docdb_connect_options *o, docdb_store **out), (u, o, out))
GD_WRAP(store_close, (const docdb_store *s), (s))
GD_WRAP(store_create_db, (const docdb_store *s, const char *n, docdb_db **out), (s, n, out))
GD_WRAP(store_open_db, (const docdb_store *s, const char *n, docdb_db **out), (s, n, out))
GD_WRAP(store_open_or_create_db, (const docdb_store *s, const char *n, docdb_db **out), (s, n, out))
GD_WRAP(store_drop_db, (const docdb_store *s, const char *n), (s, n))
GD_WRAP(store_list_dbs, (const docdb_store *s, docdb_db_list *out), (s, out))
GD_WRAP(store_get_stats, (const docdb_store *s, docdb_store_stats *out), (s, out))
GD_WRAP(store_checkpoint, (const docdb_store *s), (s))
GD_WRAP(store_sync, (const docdb_store *s), (s))
GD_WRAP(store_backup, (const docdb_store *s, const char *dest), (s, dest, NULL, NULL))

GD_WRAP(db_read_into, (const docdb_db *d, uint64_t id, uint8_t *dst, size_t cap, size_t *n), (d, id, dst, cap, n))
GD_WRAP(db_id, (const docdb_db *d, uint64_t *out), (d, out))
GD_WRAP(db_create, (const docdb_db *d, uint64_t id, const uint8_t *p, size_t n), (d, id, p, n))
GD_WRAP(db_update, (const docdb_db *d, uint64_t id, const uint8_t *p, size_t n), (d, id, p, n))
GD_WRAP(db_put, (const docdb_db *d, uint64_t id, const uint8_t *p, size_t n), (d, id, p, n))
GD_WRAP(db_delete, (const docdb_db *d, uint64_t id), (d, id))
GD_WRAP(db_contains, (const docdb_db *d, uint64_t id, bool *out), (d, id, out))
GD_WRAP(db_len, (const docdb_db *d, uint64_t *out), (d, out))
GD_WRAP(db_begin, (const docdb_db *d, docdb_txn **out), (d, out))
GD_WRAP(db_snapshot, (const docdb_db *d, docdb_snapshot **out), (d, out))
GD_WRAP(db_compact, (const docdb_db *d, uint64_t *out), (d, out))
GD_WRAP(db_checkpoint, (const docdb_db *d), (d))
GD_WRAP(db_sync, (const docdb_db *d), (d))
GD_WRAP(db_get_stats, (const docdb_db *d, docdb_db_stats *out), (d, out))
GD_WRAP(db_batch, (const docdb_db *d, const docdb_batch_op *ops, size_t n, docdb_status *sts, uint64_t *v), (d, ops, n, sts, v))

GD_WRAP(txn_read, (const docdb_txn *t, uint64_t id, docdb_buf *out), (t, id, out))
GD_WRAP(txn_contains, (const docdb_txn *t, uint64_t id, bool *out), (t, id, out))
GD_WRAP(txn_create, (const docdb_txn *t, uint64_t id, const uint8_t *p, size_t n), (t, id, p, n))
GD_WRAP(txn_update, (const docdb_txn *t, uint64_t id, const uint8_t *p, size_t n), (t, id, p, n))
GD_WRAP(txn_put, (const docdb_txn *t, uint64_t id, const uint8_t *p, size_t n), (t, id, p, n))
GD_WRAP(txn_delete, (const docdb_txn *t, uint64_t id), (t, id))
GD_WRAP(txn_pending, (const docdb_txn *t, size_t *out), (t, out))
GD_WRAP(txn_read_version, (const docdb_txn *t, uint64_t *out), (t, out))
GD_WRAP(txn_commit, (const docdb_txn *t, uint64_t *v), (t, v))
GD_WRAP(txn_rollback, (const docdb_txn *t), (t))

GD_WRAP(snapshot_read, (const docdb_snapshot *s, uint64_t id, docdb_buf *out), (s, id, out))
GD_WRAP(snapshot_contains, (const docdb_snapshot *s, uint64_t id, bool *out), (s, id, out))
GD_WRAP(snapshot_len, (const docdb_snapshot *s, uint64_t *out), (s, out))
GD_WRAP(snapshot_version, (const docdb_snapshot *s, uint64_t *out), (s, out))
GD_WRAP(snapshot_ids, (const docdb_snapshot *s, docdb_id_list *out), (s, out))
GD_WRAP(snapshot_scan_new, (const docdb_snapshot *s, docdb_snapshot_scan **out), (s, out))
GD_WRAP(snapshot_scan_next, (const docdb_snapshot_scan *s, uint64_t *id, docdb_buf *doc, bool *done), (s, id, doc, done))
GD_WRAP(snapshot_range_new, (const docdb_snapshot *s, const docdb_range *r, docdb_snapshot_scan **out), (s, r, out))
GD_WRAP(snapshot_count, (const docdb_snapshot *s, const docdb_range *r, uint64_t *out), (s, r, out))
GD_WRAP(db_range_new, (const docdb_db *d, const docdb_range *r, docdb_snapshot_scan **out), (d, r, out))
GD_WRAP(db_count, (const docdb_db *d, const docdb_range *r, uint64_t *out), (d, r, out))
GD_WRAP(txn_range_new, (const docdb_txn *t, const docdb_range *r, docdb_snapshot_scan **out), (t, r, out))
GD_WRAP(txn_count, (const docdb_txn *t, const docdb_range *r, uint64_t *out), (t, r, out))

#endif
