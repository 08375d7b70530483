/*
 * C tests of libdocdb: every exported function, every status code C can provoke, the
 * misuse cases (NULLs, bad lengths, closed handles, finished transactions), threads and
 * persistence. Built with -std=c99 -Wall -Wextra -Werror and run under valgrind by
 * `make test-c`. Prints "N passed, M failed" last; exits non-zero on any failure.
 */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "docdb.h"

#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------ */

/* Options for fast tests: commits reach the OS but are not fsynced one by one. */
static docdb_options fast_options(void) {
    docdb_options o = docdb_options_default();
    o.sync = DOCDB_SYNC_NORMAL;
    return o;
}

static docdb_store *open_store(const char *dir) {
    docdb_options o = fast_options();
    docdb_store *s = NULL;
    OK(docdb_store_open(dir, &o, &s));
    CHECK(s != NULL);
    return s;
}

static const uint8_t *B(const char *s) { return (const uint8_t *)s; }

/* Reads document `id` through `db` and compares it with `want`. */
static int doc_is(const docdb_db *db, uint64_t id, const char *want) {
    docdb_buf buf = {NULL, 0, 0};
    if (docdb_db_read(db, id, &buf) != DOCDB_OK) return 0;
    int same = buf.len == strlen(want) && memcmp(buf.data, want, buf.len) == 0;
    docdb_buf_free(&buf);
    return same;
}

static int contains_text(const char *haystack, const char *needle) {
    return strstr(haystack, needle) != NULL;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_version_status_errmsg(void) {
    /* No call failed yet on this thread. */
    CHECK(strcmp(docdb_errmsg(), "") == 0);
    const char *v = docdb_version();
    CHECK(v != NULL && strlen(v) >= 5 && v[0] >= '0' && v[0] <= '9');
    CHECK(strchr(v, '.') != NULL);

    static const char *names[] = {"OK",        "NOT_FOUND",  "ALREADY_EXISTS",
                                  "CONFLICT",  "MEMORY_LIMIT", "PAYLOAD_TOO_LARGE",
                                  "INVALID_NAME", "INVALID_ARGUMENT", "LOCKED",
                                  "CLOSED",    "CORRUPTION", "POISONED",
                                  "UNSUPPORTED_VERSION", "IO", "INTERNAL",
                                  "UNAVAILABLE"};
    for (uint32_t i = 0; i < 16; i++) CHECK(strcmp(docdb_status_str(i), names[i]) == 0);
    CHECK(DOCDB_OK == 0 && DOCDB_NOT_FOUND == 1 && DOCDB_CONFLICT == 3);
    CHECK(DOCDB_INVALID_ARGUMENT == 7 && DOCDB_CLOSED == 9 && DOCDB_INTERNAL == 14);
    CHECK(DOCDB_UNAVAILABLE == 15);
    CHECK(strcmp(docdb_status_str(16), "UNKNOWN") == 0);
    CHECK(strcmp(docdb_status_str(0xFFFFFFFFu), "UNKNOWN") == 0);

    /* A failure sets the message; a later success keeps it (like errno). */
    EXPECT(docdb_store_open(NULL, NULL, NULL), DOCDB_INVALID_ARGUMENT);
    CHECK(contains_text(docdb_errmsg(), "path is NULL"));
    docdb_options o = docdb_options_default();
    CHECK(o.sync == DOCDB_SYNC_FULL);
    CHECK(contains_text(docdb_errmsg(), "path is NULL"));
}

static void test_options_default(void) {
    docdb_options o = docdb_options_default();
    CHECK(o.sync == DOCDB_SYNC_FULL);
    CHECK(o.max_document_size == 16u << 20);
    CHECK(o.memory_limit == 1u << 30);
    CHECK(o.db_memory_limit == 256u << 20);
    CHECK(o.segment_size == 64u << 20);
    CHECK(o.compaction_min_dead_bytes == 64u << 20);
    CHECK(o.compaction_dead_ratio == 0.5);
    CHECK(o.auto_compact == true);
    CHECK(o.checkpoint_bytes == 256u << 20);
    CHECK(o.index_shards == 16);
    CHECK(o.cache_size == 256u << 20);

    /* Out-of-range values are refused with INVALID_ARGUMENT, and nothing is opened. */
    const char *dir = fresh_dir("bad-options");
    docdb_store *s = (docdb_store *)0x1;
    docdb_options bad = o;
    bad.sync = 7;
    EXPECT(docdb_store_open(dir, &bad, &s), DOCDB_INVALID_ARGUMENT);
    CHECK(contains_text(docdb_errmsg(), "sync"));
    bad = o;
    bad.index_shards = 3;
    EXPECT(docdb_store_open(dir, &bad, &s), DOCDB_INVALID_ARGUMENT);
    bad = o;
    bad.max_document_size = 0;
    EXPECT(docdb_store_open(dir, &bad, &s), DOCDB_INVALID_ARGUMENT);
    bad = o;
    bad.compaction_dead_ratio = 1.5;
    EXPECT(docdb_store_open(dir, &bad, &s), DOCDB_INVALID_ARGUMENT);
    bad = o;
    bad.segment_size = 10;
    EXPECT(docdb_store_open(dir, &bad, &s), DOCDB_INVALID_ARGUMENT);
    CHECK(s == (docdb_store *)0x1); /* on failure *out is unchanged */

    /* NULL options mean the defaults. */
    OK(docdb_store_open(dir, NULL, &s));
    CHECK(s != (docdb_store *)0x1);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

static void test_documents_crud(void) {
    docdb_store *s = open_store(fresh_dir("crud"));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "users", &db));

    OK(docdb_db_create(db, 1, B("{\"name\":\"Ada\"}"), 14));
    EXPECT(docdb_db_create(db, 1, B("again"), 5), DOCDB_ALREADY_EXISTS);
    CHECK(contains_text(docdb_errmsg(), "already exists"));
    CHECK(doc_is(db, 1, "{\"name\":\"Ada\"}"));

    OK(docdb_db_update(db, 1, B("v2"), 2));
    CHECK(doc_is(db, 1, "v2"));
    EXPECT(docdb_db_update(db, 2, B("x"), 1), DOCDB_NOT_FOUND);
    CHECK(contains_text(docdb_errmsg(), "not found"));

    OK(docdb_db_put(db, 2, B("two"), 3));
    OK(docdb_db_put(db, 2, B("TWO"), 3));
    CHECK(doc_is(db, 2, "TWO"));

    /* An empty document: NULL data is allowed with length 0. */
    OK(docdb_db_put(db, 3, NULL, 0));
    docdb_buf buf = {NULL, 0, 0};
    OK(docdb_db_read(db, 3, &buf));
    CHECK(buf.len == 0 && buf.data != NULL);
    docdb_buf_free(&buf);
    CHECK(buf.data == NULL && buf.len == 0);
    docdb_buf_free(&buf); /* freeing the reset buffer again is a no-op */
    docdb_buf_free(NULL);

    bool found = false;
    OK(docdb_db_contains(db, 2, &found));
    CHECK(found);
    uint64_t n = 0;
    OK(docdb_db_len(db, &n));
    CHECK(n == 3);

    OK(docdb_db_delete(db, 2));
    EXPECT(docdb_db_delete(db, 2), DOCDB_NOT_FOUND);
    OK(docdb_db_contains(db, 2, &found));
    CHECK(!found);
    buf.data = (uint8_t *)0x1;
    EXPECT(docdb_db_read(db, 2, &buf), DOCDB_NOT_FOUND);
    CHECK(buf.data == (uint8_t *)0x1); /* unchanged on failure */
    OK(docdb_db_len(db, &n));
    CHECK(n == 2);

    /* Ids cover the whole u64 range; bytes are binary-safe. */
    const uint8_t bin[5] = {0, 255, 0, 1, 0};
    OK(docdb_db_put(db, UINT64_MAX, bin, sizeof bin));
    docdb_buf b2 = {NULL, 0, 0};
    OK(docdb_db_read(db, UINT64_MAX, &b2));
    CHECK(b2.len == 5 && memcmp(b2.data, bin, 5) == 0);
    docdb_buf_free(&b2);

    /* A large document round-trips without truncation. */
    size_t big = 1 << 20;
    uint8_t *payload = malloc(big);
    for (size_t i = 0; i < big; i++) payload[i] = (uint8_t)(i * 7);
    OK(docdb_db_put(db, 42, payload, big));
    OK(docdb_db_read(db, 42, &b2));
    CHECK(b2.len == big && memcmp(b2.data, payload, big) == 0);
    docdb_buf_free(&b2);
    free(payload);

    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

static void test_databases(void) {
    const char *dir = fresh_dir("dbs");
    docdb_store *s = open_store(dir);
    CHECK(strcmp(docdb_store_path(s), dir) == 0);
    CHECK(docdb_store_path(NULL) == NULL);

    docdb_db *a = NULL, *b = NULL, *a2 = NULL, *c = NULL;
    OK(docdb_store_create_db(s, "alpha", &a));
    EXPECT(docdb_store_create_db(s, "alpha", &a2), DOCDB_ALREADY_EXISTS);
    CHECK(a2 == NULL);
    EXPECT(docdb_store_open_db(s, "missing", &b), DOCDB_NOT_FOUND);
    CHECK(contains_text(docdb_errmsg(), "missing"));
    OK(docdb_store_open_or_create_db(s, "beta", &b));
    OK(docdb_store_open_or_create_db(s, "alpha", &a2));
    OK(docdb_store_open_db(s, "beta", &c));
    CHECK(strcmp(docdb_db_name(a), "alpha") == 0);
    CHECK(strcmp(docdb_db_name(b), "beta") == 0);
    CHECK(docdb_db_name(NULL) == NULL);

    uint64_t ida = 0, ida2 = 1, idb = 0;
    OK(docdb_db_id(a, &ida));
    OK(docdb_db_id(a2, &ida2));
    OK(docdb_db_id(b, &idb));
    CHECK(ida == ida2 && ida != idb);

    /* Two handles to one database see each other's writes. */
    OK(docdb_db_put(a, 1, B("x"), 1));
    CHECK(doc_is(a2, 1, "x"));

    docdb_db_list list = {NULL, 0};
    OK(docdb_store_list_dbs(s, &list));
    CHECK(list.len == 2);
    if (list.len == 2) {
        CHECK(list.items[0].id == ida && strcmp(list.items[0].name, "alpha") == 0);
        CHECK(list.items[1].id == idb && strcmp(list.items[1].name, "beta") == 0);
    }
    docdb_db_list_free(&list);
    CHECK(list.items == NULL && list.len == 0);
    docdb_db_list_free(&list);
    docdb_db_list_free(NULL);

    /* Names: INVALID_NAME for bad characters, INVALID_ARGUMENT for non-UTF-8. */
    docdb_db *x = NULL;
    EXPECT(docdb_store_create_db(s, "", &x), DOCDB_INVALID_NAME);
    EXPECT(docdb_store_create_db(s, "has space", &x), DOCDB_INVALID_NAME);
    EXPECT(docdb_store_create_db(s, ".hidden", &x), DOCDB_INVALID_NAME);
    EXPECT(docdb_store_create_db(s, "a/b", &x), DOCDB_INVALID_NAME);
    char longname[70];
    memset(longname, 'n', 65);
    longname[65] = '\0';
    EXPECT(docdb_store_create_db(s, longname, &x), DOCDB_INVALID_NAME);
    longname[64] = '\0';
    OK(docdb_store_create_db(s, longname, &x));
    docdb_db_free(x);
    x = NULL;
    EXPECT(docdb_store_create_db(s, "\xff\xfe", &x), DOCDB_INVALID_ARGUMENT);
    CHECK(contains_text(docdb_errmsg(), "UTF-8"));
    EXPECT(docdb_store_open_db(s, "caf\xe9", &x), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_store_drop_db(s, "\xc3"), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_store_drop_db(s, "bad name"), DOCDB_INVALID_NAME);
    CHECK(x == NULL);

    /* Dropping a database closes every handle to it. */
    OK(docdb_store_drop_db(s, "beta"));
    EXPECT(docdb_store_drop_db(s, "beta"), DOCDB_NOT_FOUND);
    EXPECT(docdb_db_put(b, 1, B("x"), 1), DOCDB_CLOSED);
    EXPECT(docdb_db_read(c, 1, &(docdb_buf){NULL, 0, 0}), DOCDB_CLOSED);
    EXPECT(docdb_store_open_db(s, "beta", &x), DOCDB_NOT_FOUND);
    OK(docdb_store_list_dbs(s, &list));
    CHECK(list.len == 2); /* alpha and the 64-character name */
    docdb_db_list_free(&list);

    /* A new database of the same name starts empty, with a new id. */
    OK(docdb_store_create_db(s, "beta", &x));
    uint64_t idx = 0, len = 9;
    OK(docdb_db_id(x, &idx));
    CHECK(idx != idb);
    OK(docdb_db_len(x, &len));
    CHECK(len == 0);

    docdb_db_free(a);
    docdb_db_free(a2);
    docdb_db_free(b);
    docdb_db_free(c);
    docdb_db_free(x);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

/* Every function, given NULL where a pointer is required: INVALID_ARGUMENT, no crash. */
static void test_null_arguments(void) {
    docdb_store *s = open_store(fresh_dir("nulls"));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    OK(docdb_db_put(db, 1, B("one"), 3));
    docdb_txn *t = NULL;
    OK(docdb_db_begin(db, &t));
    docdb_snapshot *snap = NULL;
    OK(docdb_db_snapshot(db, &snap));
    docdb_snapshot_scan *scan = NULL;
    OK(docdb_snapshot_scan_new(snap, &scan));

    const docdb_status E = DOCDB_INVALID_ARGUMENT;
    docdb_buf buf;
    bool flag;
    uint64_t u;
    size_t z;
    docdb_db *dbo;
    docdb_store *so;

    EXPECT(docdb_store_open(NULL, NULL, &so), E);
    EXPECT(docdb_store_open("", NULL, &so), E);
    EXPECT(docdb_store_open(fresh_dir("never"), NULL, NULL), E);
    EXPECT(docdb_store_close(NULL), E);
    CHECK(docdb_store_is_closed(NULL));
    EXPECT(docdb_store_create_db(NULL, "x", &dbo), E);
    EXPECT(docdb_store_create_db(s, NULL, &dbo), E);
    EXPECT(docdb_store_create_db(s, "x", NULL), E);
    EXPECT(docdb_store_open_db(NULL, "d", &dbo), E);
    EXPECT(docdb_store_open_db(s, NULL, &dbo), E);
    EXPECT(docdb_store_open_db(s, "d", NULL), E);
    EXPECT(docdb_store_open_or_create_db(NULL, "d", &dbo), E);
    EXPECT(docdb_store_open_or_create_db(s, NULL, &dbo), E);
    EXPECT(docdb_store_open_or_create_db(s, "d", NULL), E);
    EXPECT(docdb_store_drop_db(NULL, "d"), E);
    EXPECT(docdb_store_drop_db(s, NULL), E);
    EXPECT(docdb_store_list_dbs(NULL, &(docdb_db_list){NULL, 0}), E);
    EXPECT(docdb_store_list_dbs(s, NULL), E);
    EXPECT(docdb_store_get_stats(NULL, &(docdb_store_stats){0}), E);
    EXPECT(docdb_store_get_stats(s, NULL), E);
    EXPECT(docdb_store_checkpoint(NULL), E);
    EXPECT(docdb_store_sync(NULL), E);

    EXPECT(docdb_db_close(NULL), E);
    EXPECT(docdb_db_id(NULL, &u), E);
    EXPECT(docdb_db_id(db, NULL), E);
    EXPECT(docdb_db_create(NULL, 5, B("x"), 1), E);
    EXPECT(docdb_db_create(db, 5, NULL, 1), E);
    CHECK(contains_text(docdb_errmsg(), "data is NULL but len is 1"));
    EXPECT(docdb_db_update(NULL, 1, B("x"), 1), E);
    EXPECT(docdb_db_update(db, 1, NULL, 3), E);
    EXPECT(docdb_db_put(NULL, 1, B("x"), 1), E);
    EXPECT(docdb_db_put(db, 1, NULL, 2), E);
    EXPECT(docdb_db_read(NULL, 1, &buf), E);
    EXPECT(docdb_db_read(db, 1, NULL), E);
    EXPECT(docdb_db_delete(NULL, 1), E);
    EXPECT(docdb_db_contains(NULL, 1, &flag), E);
    EXPECT(docdb_db_contains(db, 1, NULL), E);
    EXPECT(docdb_db_len(NULL, &u), E);
    EXPECT(docdb_db_len(db, NULL), E);
    EXPECT(docdb_db_begin(NULL, &t), E);
    EXPECT(docdb_db_begin(db, NULL), E);
    EXPECT(docdb_db_snapshot(NULL, &snap), E);
    EXPECT(docdb_db_snapshot(db, NULL), E);
    EXPECT(docdb_db_compact(NULL, &u), E);
    EXPECT(docdb_db_checkpoint(NULL), E);
    EXPECT(docdb_db_sync(NULL), E);
    EXPECT(docdb_db_get_stats(NULL, &(docdb_db_stats){0}), E);
    EXPECT(docdb_db_get_stats(db, NULL), E);
    EXPECT(docdb_db_batch(NULL, NULL, 0, NULL, NULL), E);

    EXPECT(docdb_txn_read(NULL, 1, &buf), E);
    EXPECT(docdb_txn_read(t, 1, NULL), E);
    EXPECT(docdb_txn_contains(NULL, 1, &flag), E);
    EXPECT(docdb_txn_contains(t, 1, NULL), E);
    EXPECT(docdb_txn_create(NULL, 9, B("x"), 1), E);
    EXPECT(docdb_txn_create(t, 9, NULL, 1), E);
    EXPECT(docdb_txn_update(NULL, 1, B("x"), 1), E);
    EXPECT(docdb_txn_put(NULL, 1, B("x"), 1), E);
    EXPECT(docdb_txn_put(t, 1, NULL, 4), E);
    EXPECT(docdb_txn_delete(NULL, 1), E);
    EXPECT(docdb_txn_pending(NULL, &z), E);
    EXPECT(docdb_txn_pending(t, NULL), E);
    EXPECT(docdb_txn_read_version(NULL, &u), E);
    EXPECT(docdb_txn_read_version(t, NULL), E);
    EXPECT(docdb_txn_commit(NULL, &u), E);
    EXPECT(docdb_txn_rollback(NULL), E);

    EXPECT(docdb_snapshot_read(NULL, 1, &buf), E);
    EXPECT(docdb_snapshot_read(snap, 1, NULL), E);
    EXPECT(docdb_snapshot_contains(NULL, 1, &flag), E);
    EXPECT(docdb_snapshot_contains(snap, 1, NULL), E);
    EXPECT(docdb_snapshot_len(NULL, &u), E);
    EXPECT(docdb_snapshot_len(snap, NULL), E);
    EXPECT(docdb_snapshot_version(NULL, &u), E);
    EXPECT(docdb_snapshot_version(snap, NULL), E);
    EXPECT(docdb_snapshot_ids(NULL, &(docdb_id_list){NULL, 0, 0}), E);
    EXPECT(docdb_snapshot_ids(snap, NULL), E);
    EXPECT(docdb_snapshot_scan_new(NULL, &scan), E);
    EXPECT(docdb_snapshot_scan_new(snap, NULL), E);
    EXPECT(docdb_snapshot_scan_next(NULL, &u, &buf, &flag), E);
    EXPECT(docdb_snapshot_scan_next(scan, NULL, &buf, &flag), E);
    EXPECT(docdb_snapshot_scan_next(scan, &u, NULL, &flag), E);
    EXPECT(docdb_snapshot_scan_next(scan, &u, &buf, NULL), E);
    CHECK(contains_text(docdb_errmsg(), "out_done is NULL"));

    /* The NULL checks consumed nothing: the transaction and the scan still work. */
    OK(docdb_txn_put(t, 1, B("uno"), 3));
    docdb_buf got = {NULL, 0, 0};
    uint64_t id = 0;
    bool done = true;
    OK(docdb_snapshot_scan_next(scan, &id, &got, &done));
    CHECK(!done && id == 1 && got.len == 3 && memcmp(got.data, "one", 3) == 0);
    docdb_buf_free(&got);
    OK(docdb_txn_commit(t, NULL));
    CHECK(doc_is(db, 1, "uno"));

    /* Every _free accepts NULL. */
    docdb_store_free(NULL);
    docdb_db_free(NULL);
    docdb_txn_free(NULL);
    docdb_snapshot_free(NULL);
    docdb_snapshot_scan_free(NULL);
    docdb_buf_free(NULL);
    docdb_id_list_free(NULL);
    docdb_db_list_free(NULL);

    docdb_snapshot_scan_free(scan);
    docdb_snapshot_free(snap);
    docdb_txn_free(t);
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

static void test_payload_too_large(void) {
    docdb_options o = fast_options();
    o.max_document_size = 64;
    docdb_store *s = NULL;
    OK(docdb_store_open(fresh_dir("payload"), &o, &s));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    uint8_t data[65];
    memset(data, 'p', sizeof data);

    OK(docdb_db_put(db, 1, data, 64));
    EXPECT(docdb_db_put(db, 2, data, 65), DOCDB_PAYLOAD_TOO_LARGE);
    CHECK(contains_text(docdb_errmsg(), "65 bytes exceeds the maximum of 64"));
    EXPECT(docdb_db_create(db, 2, data, 65), DOCDB_PAYLOAD_TOO_LARGE);
    EXPECT(docdb_db_update(db, 1, data, 65), DOCDB_PAYLOAD_TOO_LARGE);
    /* A length far beyond the buffer is refused before any byte is read. */
    EXPECT(docdb_db_put(db, 2, data, SIZE_MAX), DOCDB_PAYLOAD_TOO_LARGE);
    EXPECT(docdb_db_put(db, 2, data, (size_t)1 << 40), DOCDB_PAYLOAD_TOO_LARGE);
    EXPECT(docdb_db_put(db, 2, NULL, SIZE_MAX), DOCDB_PAYLOAD_TOO_LARGE);

    docdb_txn *t = NULL;
    OK(docdb_db_begin(db, &t));
    EXPECT(docdb_txn_put(t, 2, data, 65), DOCDB_PAYLOAD_TOO_LARGE);
    EXPECT(docdb_txn_create(t, 2, data, SIZE_MAX), DOCDB_PAYLOAD_TOO_LARGE);
    EXPECT(docdb_txn_update(t, 1, data, 65), DOCDB_PAYLOAD_TOO_LARGE);
    size_t pending = 9;
    OK(docdb_txn_pending(t, &pending));
    CHECK(pending == 0);
    OK(docdb_txn_rollback(t));
    docdb_txn_free(t);

    uint64_t n = 0;
    OK(docdb_db_len(db, &n));
    CHECK(n == 1);
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

/* A 16 MiB document: the largest allowed by default, committed by the library's parallel
 * writer threads (valgrind checks that nothing of them is left behind), read back whole. */
static void test_largest_document(void) {
    docdb_store *s = open_store(fresh_dir("largest"));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "big", &db));
    size_t n = (size_t)16 << 20;
    uint8_t *data = malloc(n);
    CHECK(data != NULL);
    if (!data) return;
    for (size_t i = 0; i < n; i++) data[i] = (uint8_t)(i * 31 + 7);
    OK(docdb_db_put(db, 1, data, n));
    docdb_buf buf = {NULL, 0, 0};
    OK(docdb_db_read(db, 1, &buf));
    CHECK(buf.len == n && memcmp(buf.data, data, n) == 0);
    docdb_buf_free(&buf);
    free(data);
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

static void test_memory_limit(void) {
    docdb_options o = fast_options();
    o.db_memory_limit = 16 * 1024;
    docdb_store *s = NULL;
    OK(docdb_store_open(fresh_dir("memory"), &o, &s));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));

    /* Each document costs index memory: a tiny cap is reached after some writes. */
    docdb_status st = DOCDB_OK;
    uint64_t written = 0;
    for (uint64_t id = 0; id < 100000 && st == DOCDB_OK; id++) {
        st = docdb_db_put(db, id, B("x"), 1);
        if (st == DOCDB_OK) written++;
    }
    EXPECT(st, DOCDB_MEMORY_LIMIT);
    CHECK(contains_text(docdb_errmsg(), "memory limit"));
    CHECK(written > 0);
    uint64_t n = 0;
    OK(docdb_db_len(db, &n));
    CHECK(n == written); /* the refused write was not applied */

    /* A transaction staging more than the cap fails the same way. */
    docdb_txn *t = NULL;
    OK(docdb_db_begin(db, &t));
    EXPECT(docdb_txn_put(t, 1000000, B("y"), 1), DOCDB_MEMORY_LIMIT);
    docdb_txn_free(t);

    /* Deleting frees room for new writes. */
    for (uint64_t id = 0; id < written / 2; id++) OK(docdb_db_delete(db, id));
    OK(docdb_db_put(db, 1000001, B("z"), 1));

    docdb_db_stats st2;
    OK(docdb_db_get_stats(db, &st2));
    CHECK(st2.memory_limit == 16 * 1024);
    CHECK(st2.memory_used > 0 && st2.memory_used <= st2.memory_limit);
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

/* A second open of a directory this process has open shares the open store; the files
 * close when the last handle is closed. (Another process gets DOCDB_LOCKED: the
 * conformance suite checks that.) */
static void test_shared_open(void) {
    const char *dir = fresh_dir("shared");
    docdb_options o = fast_options();
    docdb_store *s1 = open_store(dir);
    docdb_store *s2 = (docdb_store *)0x1;
    /* Other options than the open store's are refused; *out is unchanged. */
    EXPECT(docdb_store_open(dir, NULL, &s2), DOCDB_INVALID_ARGUMENT);
    CHECK(contains_text(docdb_errmsg(), "other options"));
    CHECK(s2 == (docdb_store *)0x1);
    OK(docdb_store_open(dir, &o, &s2));
    docdb_db *d1 = NULL, *d2 = NULL;
    OK(docdb_store_create_db(s1, "shared", &d1));
    OK(docdb_db_put(d1, 1, B("one"), 3));
    OK(docdb_store_open_db(s2, "shared", &d2));
    CHECK(doc_is(d2, 1, "one"));
    OK(docdb_db_put(d2, 2, B("two"), 3));
    CHECK(doc_is(d1, 2, "two"));
    /* Closing one handle releases that handle only. */
    OK(docdb_store_close(s1));
    CHECK(docdb_store_is_closed(s1));
    CHECK(!docdb_store_is_closed(s2));
    CHECK(doc_is(d1, 2, "two"));
    docdb_db *d3 = NULL;
    EXPECT(docdb_store_open_db(s1, "shared", &d3), DOCDB_CLOSED);
    /* The last close closes the files: every database handle fails. */
    OK(docdb_store_close(s2));
    EXPECT(docdb_db_put(d2, 3, B("x"), 1), DOCDB_CLOSED);
    docdb_db_free(d1);
    docdb_db_free(d2);
    docdb_store_free(s1);
    docdb_store_free(s2);
    /* Freeing without closing releases the handle too. */
    s1 = open_store(dir);
    s2 = open_store(dir);
    docdb_store_free(s1);
    docdb_store_free(s2);
    s1 = open_store(dir);
    OK(docdb_store_open_db(s1, "shared", &d1));
    CHECK(doc_is(d1, 2, "two"));
    docdb_db_free(d1);
    docdb_store_free(s1);
}

/* A handle inherited through fork() refuses every call in the child (DOCDB_CLOSED, with a
 * message naming fork); the parent's handles go on working. */
static void test_fork_child_is_refused(void) {
    const char *dir = fresh_dir("fork");
    docdb_store *s = open_store(dir);
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    OK(docdb_db_put(db, 1, B("parent"), 6));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int bad = 0;
        docdb_buf buf = {NULL, 0, 0};
        docdb_db *other = NULL;
        bad |= docdb_db_put(db, 2, B("child"), 5) != DOCDB_CLOSED;
        bad |= !contains_text(docdb_errmsg(), "fork");
        bad |= docdb_db_read(db, 1, &buf) != DOCDB_CLOSED;
        bad |= docdb_store_open_db(s, "d", &other) != DOCDB_CLOSED;
        bad |= docdb_store_close(s) != DOCDB_CLOSED;
        /* Freeing the inherited handles is allowed: it touches none of the parent's files. */
        docdb_db_free(db);
        docdb_store_free(s);
        _exit(bad);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    OK(docdb_db_put(db, 3, B("parent again"), 12));
    CHECK(doc_is(db, 1, "parent"));
    bool present = true;
    OK(docdb_db_contains(db, 2, &present));
    CHECK(!present);
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

static void test_io_error(void) {
    /* A data directory path that is a regular file: the OS refuses it. */
    const char *path = fresh_dir("plain-file");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    docdb_store *s = NULL;
    EXPECT(docdb_store_open(path, NULL, &s), DOCDB_IO);
    CHECK(contains_text(docdb_errmsg(), "I/O error"));
    CHECK(s == NULL);

    /* Paths are bytes: a non-UTF-8 directory name is fine (unlike database names). */
    const char *odd = fresh_dir("caf\xe9-\xff");
    OK(docdb_store_open(odd, NULL, &s));
    CHECK(strcmp(docdb_store_path(s), odd) == 0);
    struct stat sb;
    CHECK(stat(odd, &sb) == 0 && S_ISDIR(sb.st_mode));
    docdb_store_free(s);
}

static void test_close_semantics(void) {
    docdb_store *s = open_store(fresh_dir("close"));
    docdb_db *db = NULL, *db2 = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    OK(docdb_store_open_db(s, "d", &db2));
    OK(docdb_db_put(db, 1, B("one"), 3));

    /* Closing one database handle: it fails with CLOSED, the other keeps working. */
    OK(docdb_db_close(db2));
    OK(docdb_db_close(db2)); /* idempotent */
    EXPECT(docdb_db_put(db2, 2, B("x"), 1), DOCDB_CLOSED);
    EXPECT(docdb_db_read(db2, 1, &(docdb_buf){NULL, 0, 0}), DOCDB_CLOSED);
    CHECK(contains_text(docdb_errmsg(), "closed"));
    CHECK(strcmp(docdb_db_name(db2), "d") == 0); /* still allocated */
    CHECK(doc_is(db, 1, "one"));

    docdb_txn *t = NULL;
    OK(docdb_db_begin(db, &t));
    OK(docdb_txn_put(t, 5, B("five"), 4));
    docdb_snapshot *snap = NULL;
    OK(docdb_db_snapshot(db, &snap));
    docdb_snapshot_scan *scan = NULL;
    OK(docdb_snapshot_scan_new(snap, &scan));

    CHECK(!docdb_store_is_closed(s));
    OK(docdb_store_close(s));
    CHECK(docdb_store_is_closed(s));
    OK(docdb_store_close(s)); /* a second close is a no-op */

    /* After the store is closed every handle from it fails with CLOSED. */
    const docdb_status C = DOCDB_CLOSED;
    docdb_buf buf = {NULL, 0, 0};
    bool flag;
    uint64_t u;
    size_t z;
    docdb_db *x = NULL;
    EXPECT(docdb_store_create_db(s, "e", &x), C);
    EXPECT(docdb_store_open_db(s, "d", &x), C);
    EXPECT(docdb_store_open_or_create_db(s, "d", &x), C);
    EXPECT(docdb_store_drop_db(s, "d"), C);
    EXPECT(docdb_store_list_dbs(s, &(docdb_db_list){NULL, 0}), C);
    EXPECT(docdb_store_get_stats(s, &(docdb_store_stats){0}), C);
    EXPECT(docdb_store_checkpoint(s), C);
    EXPECT(docdb_store_sync(s), C);
    CHECK(x == NULL);
    EXPECT(docdb_db_create(db, 9, B("x"), 1), C);
    EXPECT(docdb_db_update(db, 1, B("x"), 1), C);
    EXPECT(docdb_db_put(db, 9, B("x"), 1), C);
    EXPECT(docdb_db_read(db, 1, &buf), C);
    EXPECT(docdb_db_delete(db, 1), C);
    EXPECT(docdb_db_contains(db, 1, &flag), C);
    EXPECT(docdb_db_len(db, &u), C);
    EXPECT(docdb_db_begin(db, &(docdb_txn *){NULL}), C);
    EXPECT(docdb_db_snapshot(db, &(docdb_snapshot *){NULL}), C);
    EXPECT(docdb_db_compact(db, NULL), C);
    EXPECT(docdb_db_checkpoint(db), C);
    EXPECT(docdb_db_sync(db), C);
    EXPECT(docdb_db_get_stats(db, &(docdb_db_stats){0}), C);
    EXPECT(docdb_db_batch(db, &(docdb_batch_op){DOCDB_BATCH_DELETE, 1, NULL, 0}, 1, NULL,
                          NULL),
           C);
    EXPECT(docdb_txn_read(t, 1, &buf), C);
    EXPECT(docdb_txn_put(t, 6, B("x"), 1), C);
    EXPECT(docdb_txn_commit(t, &u), C);
    EXPECT(docdb_snapshot_read(snap, 1, &buf), C);
    EXPECT(docdb_snapshot_contains(snap, 1, &flag), C);
    EXPECT(docdb_snapshot_len(snap, &u), C);
    EXPECT(docdb_snapshot_ids(snap, &(docdb_id_list){NULL, 0, 0}), C);
    EXPECT(docdb_snapshot_scan_new(snap, &(docdb_snapshot_scan *){NULL}), C);
    /* A scan reports CLOSED once, then is over. */
    bool done = false;
    EXPECT(docdb_snapshot_scan_next(scan, &u, &buf, &done), C);
    OK(docdb_snapshot_scan_next(scan, &u, &buf, &done));
    CHECK(done);
    /* The finished transaction stays finished. */
    EXPECT(docdb_txn_pending(t, &z), C);
    EXPECT(docdb_txn_rollback(t), C);

    docdb_snapshot_scan_free(scan);
    docdb_snapshot_free(snap);
    docdb_txn_free(t);
    docdb_db_free(db);
    docdb_db_free(db2);
    docdb_store_free(s);
}

static void test_transactions(void) {
    docdb_store *s = open_store(fresh_dir("txn"));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    OK(docdb_db_put(db, 1, B("one"), 3));
    OK(docdb_db_put(db, 2, B("two"), 3));

    docdb_txn *t = NULL;
    OK(docdb_db_begin(db, &t));
    uint64_t rv = 0;
    OK(docdb_txn_read_version(t, &rv));
    CHECK(rv > 0);
    EXPECT(docdb_txn_create(t, 1, B("x"), 1), DOCDB_ALREADY_EXISTS);
    EXPECT(docdb_txn_update(t, 3, B("x"), 1), DOCDB_NOT_FOUND);
    EXPECT(docdb_txn_delete(t, 3), DOCDB_NOT_FOUND);
    OK(docdb_txn_create(t, 3, B("three"), 5));
    OK(docdb_txn_update(t, 1, B("ONE"), 3));
    OK(docdb_txn_delete(t, 2));
    OK(docdb_txn_put(t, 4, B("four"), 4));
    size_t pending = 0;
    OK(docdb_txn_pending(t, &pending));
    CHECK(pending == 4);

    /* The transaction sees its own writes; the database does not yet. */
    docdb_buf buf = {NULL, 0, 0};
    OK(docdb_txn_read(t, 1, &buf));
    CHECK(buf.len == 3 && memcmp(buf.data, "ONE", 3) == 0);
    docdb_buf_free(&buf);
    EXPECT(docdb_txn_read(t, 2, &buf), DOCDB_NOT_FOUND);
    bool has = true;
    OK(docdb_txn_contains(t, 2, &has));
    CHECK(!has);
    OK(docdb_txn_contains(t, 3, &has));
    CHECK(has);
    CHECK(doc_is(db, 1, "one"));
    OK(docdb_db_contains(db, 3, &has));
    CHECK(!has);

    uint64_t version = 0;
    OK(docdb_txn_commit(t, &version));
    CHECK(version > rv);
    CHECK(doc_is(db, 1, "ONE") && doc_is(db, 3, "three") && doc_is(db, 4, "four"));
    OK(docdb_db_contains(db, 2, &has));
    CHECK(!has);
    /* Finished: every further call is CLOSED, including a second commit. */
    EXPECT(docdb_txn_commit(t, &version), DOCDB_CLOSED);
    CHECK(contains_text(docdb_errmsg(), "already committed or rolled back"));
    EXPECT(docdb_txn_rollback(t), DOCDB_CLOSED);
    EXPECT(docdb_txn_put(t, 9, B("x"), 1), DOCDB_CLOSED);
    EXPECT(docdb_txn_read(t, 1, &buf), DOCDB_CLOSED);
    EXPECT(docdb_txn_contains(t, 1, &has), DOCDB_CLOSED);
    EXPECT(docdb_txn_delete(t, 1), DOCDB_CLOSED);
    EXPECT(docdb_txn_read_version(t, &rv), DOCDB_CLOSED);
    docdb_txn_free(t);

    /* Rollback discards. */
    OK(docdb_db_begin(db, &t));
    OK(docdb_txn_put(t, 10, B("ten"), 3));
    OK(docdb_txn_rollback(t));
    EXPECT(docdb_txn_create(t, 11, B("x"), 1), DOCDB_CLOSED);
    EXPECT(docdb_txn_update(t, 1, B("x"), 1), DOCDB_CLOSED);
    docdb_txn_free(t);
    OK(docdb_db_contains(db, 10, &has));
    CHECK(!has);

    /* Freeing an unfinished transaction rolls it back. */
    OK(docdb_db_begin(db, &t));
    OK(docdb_txn_put(t, 12, B("twelve"), 6));
    docdb_txn_free(t);
    OK(docdb_db_contains(db, 12, &has));
    CHECK(!has);

    /* An empty commit returns the read version. */
    OK(docdb_db_begin(db, &t));
    OK(docdb_txn_read_version(t, &rv));
    OK(docdb_txn_commit(t, &version));
    CHECK(version == rv);
    docdb_txn_free(t);

    /* Write-write conflict: first committer wins, the loser applies nothing. */
    docdb_txn *a = NULL, *b = NULL;
    OK(docdb_db_begin(db, &a));
    OK(docdb_db_begin(db, &b));
    OK(docdb_txn_put(a, 1, B("from a"), 6));
    OK(docdb_txn_put(b, 1, B("from b"), 6));
    OK(docdb_txn_put(b, 20, B("b only"), 6));
    OK(docdb_txn_commit(a, NULL));
    EXPECT(docdb_txn_commit(b, &version), DOCDB_CONFLICT);
    CHECK(contains_text(docdb_errmsg(), "conflict on document 1"));
    CHECK(doc_is(db, 1, "from a"));
    OK(docdb_db_contains(db, 20, &has));
    CHECK(!has);
    EXPECT(docdb_txn_commit(b, NULL), DOCDB_CLOSED); /* a failed commit finishes it too */
    docdb_txn_free(a);
    docdb_txn_free(b);

    /* A concurrent plain write to a document the transaction writes is a conflict too. */
    OK(docdb_db_begin(db, &t));
    OK(docdb_txn_delete(t, 3));
    OK(docdb_db_put(db, 3, B("changed"), 7));
    EXPECT(docdb_txn_commit(t, NULL), DOCDB_CONFLICT);
    docdb_txn_free(t);
    CHECK(doc_is(db, 3, "changed"));

    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

static void test_batch(void) {
    docdb_store *s = open_store(fresh_dir("batch"));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    OK(docdb_db_put(db, 1, B("one"), 3));

    docdb_batch_op ops[4] = {
        {DOCDB_BATCH_CREATE, 2, B("two"), 3},
        {DOCDB_BATCH_UPDATE, 2, B("TWO"), 3}, /* sees the create above */
        {DOCDB_BATCH_PUT, 3, B("three"), 5},
        {DOCDB_BATCH_DELETE, 1, NULL, 0},
    };
    docdb_status st[4] = {99, 99, 99, 99};
    uint64_t version = 0;
    OK(docdb_db_batch(db, ops, 4, st, &version));
    CHECK(version > 0);
    for (int i = 0; i < 4; i++) CHECK(st[i] == DOCDB_OK);
    CHECK(doc_is(db, 2, "TWO") && doc_is(db, 3, "three"));
    bool has = true;
    OK(docdb_db_contains(db, 1, &has));
    CHECK(!has);

    /* One bad operation: its status at its index, nothing applied. */
    docdb_batch_op bad[3] = {
        {DOCDB_BATCH_PUT, 10, B("ten"), 3},
        {DOCDB_BATCH_PUT, 11, B("eleven"), 6},
        {DOCDB_BATCH_UPDATE, 99, B("x"), 1},
    };
    uint64_t v2 = 12345;
    EXPECT(docdb_db_batch(db, bad, 3, st, &v2), DOCDB_NOT_FOUND);
    CHECK(st[0] == DOCDB_OK && st[1] == DOCDB_OK && st[2] == DOCDB_NOT_FOUND);
    CHECK(contains_text(docdb_errmsg(), "batch operation #2"));
    CHECK(v2 == 12345);
    OK(docdb_db_contains(db, 10, &has));
    CHECK(!has);

    bad[2] = (docdb_batch_op){DOCDB_BATCH_CREATE, 2, B("dup"), 3};
    EXPECT(docdb_db_batch(db, bad, 3, st, NULL), DOCDB_ALREADY_EXISTS);
    CHECK(st[2] == DOCDB_ALREADY_EXISTS && st[0] == DOCDB_OK);

    /* An unknown kind and a NULL payload are reported at their index. */
    bad[2] = bad[1];
    bad[1] = (docdb_batch_op){77, 11, B("x"), 1};
    EXPECT(docdb_db_batch(db, bad, 3, st, NULL), DOCDB_INVALID_ARGUMENT);
    CHECK(st[0] == DOCDB_OK && st[1] == DOCDB_INVALID_ARGUMENT && st[2] == DOCDB_OK);
    CHECK(contains_text(docdb_errmsg(), "docdb_batch_kind"));
    bad[1] = (docdb_batch_op){DOCDB_BATCH_PUT, 11, NULL, 8};
    EXPECT(docdb_db_batch(db, bad, 3, st, NULL), DOCDB_INVALID_ARGUMENT);
    CHECK(st[1] == DOCDB_INVALID_ARGUMENT);
    /* Every operation's own arguments are checked before the engine's conditions: a bad
     * kind at index 2 is what is reported, not the existing id created at index 1. */
    bad[1] = (docdb_batch_op){DOCDB_BATCH_CREATE, 2, B("dup"), 3};
    bad[2] = (docdb_batch_op){77, 12, B("x"), 1};
    EXPECT(docdb_db_batch(db, bad, 3, st, NULL), DOCDB_INVALID_ARGUMENT);
    CHECK(st[0] == DOCDB_OK && st[1] == DOCDB_OK && st[2] == DOCDB_INVALID_ARGUMENT);

    /* A one-operation batch still reports its operation. */
    docdb_batch_op one = {DOCDB_BATCH_DELETE, 500, NULL, 0};
    st[0] = 99;
    EXPECT(docdb_db_batch(db, &one, 1, st, NULL), DOCDB_NOT_FOUND);
    CHECK(st[0] == DOCDB_NOT_FOUND);

    /* Empty batch: nothing to do, the current version comes back. */
    uint64_t v3 = 0;
    OK(docdb_db_batch(db, NULL, 0, NULL, &v3));
    CHECK(v3 == version);

    /* NULL ops with a count: refused, and statuses not written. */
    st[0] = 99;
    EXPECT(docdb_db_batch(db, NULL, 3, st, NULL), DOCDB_INVALID_ARGUMENT);
    CHECK(st[0] == 99);
    EXPECT(docdb_db_batch(db, ops, SIZE_MAX, NULL, NULL), DOCDB_INVALID_ARGUMENT);

    uint64_t n = 0;
    OK(docdb_db_len(db, &n));
    CHECK(n == 2);
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

static void test_payload_in_batch(void) {
    docdb_options o = fast_options();
    o.max_document_size = 8;
    docdb_store *s = NULL;
    OK(docdb_store_open(fresh_dir("batch-payload"), &o, &s));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    docdb_batch_op ops[2] = {
        {DOCDB_BATCH_PUT, 1, B("small"), 5},
        {DOCDB_BATCH_PUT, 2, B("much too large"), SIZE_MAX},
    };
    docdb_status st[2];
    EXPECT(docdb_db_batch(db, ops, 2, st, NULL), DOCDB_PAYLOAD_TOO_LARGE);
    CHECK(st[0] == DOCDB_OK && st[1] == DOCDB_PAYLOAD_TOO_LARGE);
    ops[1].len = 9;
    EXPECT(docdb_db_batch(db, ops, 2, st, NULL), DOCDB_PAYLOAD_TOO_LARGE);
    CHECK(st[1] == DOCDB_PAYLOAD_TOO_LARGE);
    uint64_t n = 1;
    OK(docdb_db_len(db, &n));
    CHECK(n == 0);
    docdb_db_free(db);
    docdb_store_free(s);
}

static void test_snapshot_and_scan(void) {
    docdb_store *s = open_store(fresh_dir("snapshot"));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    OK(docdb_db_put(db, 30, B("thirty"), 6));
    OK(docdb_db_put(db, 10, B("ten"), 3));
    OK(docdb_db_put(db, 20, B("twenty"), 6));

    docdb_snapshot *snap = NULL;
    OK(docdb_db_snapshot(db, &snap));
    uint64_t sv = 0;
    OK(docdb_snapshot_version(snap, &sv));
    CHECK(sv > 0);

    /* Later writes are invisible to the snapshot. */
    OK(docdb_db_put(db, 10, B("TEN"), 3));
    OK(docdb_db_delete(db, 20));
    OK(docdb_db_put(db, 40, B("forty"), 5));

    docdb_buf buf = {NULL, 0, 0};
    OK(docdb_snapshot_read(snap, 10, &buf));
    CHECK(buf.len == 3 && memcmp(buf.data, "ten", 3) == 0);
    docdb_buf_free(&buf);
    EXPECT(docdb_snapshot_read(snap, 40, &buf), DOCDB_NOT_FOUND);
    bool has = false;
    OK(docdb_snapshot_contains(snap, 20, &has));
    CHECK(has);
    OK(docdb_snapshot_contains(snap, 40, &has));
    CHECK(!has);
    uint64_t n = 0;
    OK(docdb_snapshot_len(snap, &n));
    CHECK(n == 3);

    docdb_id_list ids = {NULL, 0, 0};
    OK(docdb_snapshot_ids(snap, &ids));
    CHECK(ids.len == 3);
    if (ids.len == 3) CHECK(ids.ids[0] == 10 && ids.ids[1] == 20 && ids.ids[2] == 30);
    docdb_id_list_free(&ids);
    CHECK(ids.ids == NULL && ids.len == 0);
    docdb_id_list_free(&ids);

    /* The scan yields the snapshot's documents in ascending id order. */
    docdb_snapshot_scan *scan = NULL, *scan2 = NULL;
    OK(docdb_snapshot_scan_new(snap, &scan));
    OK(docdb_snapshot_scan_new(snap, &scan2));
    docdb_snapshot_free(snap); /* the scans keep the view alive */
    static const uint64_t want_id[] = {10, 20, 30};
    static const char *want_doc[] = {"ten", "twenty", "thirty"};
    int count = 0;
    for (;;) {
        uint64_t id = 0;
        bool done = false;
        docdb_buf doc = {NULL, 0, 0};
        OK(docdb_snapshot_scan_next(scan, &id, &doc, &done));
        if (done) break;
        CHECK(count < 3);
        if (count < 3) {
            CHECK(id == want_id[count]);
            CHECK(doc.len == strlen(want_doc[count]) &&
                  memcmp(doc.data, want_doc[count], doc.len) == 0);
        }
        docdb_buf_free(&doc);
        count++;
    }
    CHECK(count == 3);
    /* Past the end it stays done, and leaves the outputs alone. */
    uint64_t id = 777;
    bool done = false;
    OK(docdb_snapshot_scan_next(scan, &id, &buf, &done));
    CHECK(done && id == 777);
    /* A second scan is independent. */
    OK(docdb_snapshot_scan_next(scan2, &id, &buf, &done));
    CHECK(!done && id == 10);
    docdb_buf_free(&buf);
    docdb_snapshot_scan_free(scan);
    docdb_snapshot_scan_free(scan2);

    /* An empty database scans to nothing. */
    docdb_db *empty = NULL;
    OK(docdb_store_create_db(s, "empty", &empty));
    OK(docdb_db_snapshot(empty, &snap));
    OK(docdb_snapshot_scan_new(snap, &scan));
    OK(docdb_snapshot_scan_next(scan, &id, &buf, &done));
    CHECK(done);
    OK(docdb_snapshot_ids(snap, &ids));
    CHECK(ids.len == 0 && ids.ids != NULL);
    docdb_id_list_free(&ids);
    docdb_snapshot_scan_free(scan);
    docdb_snapshot_free(snap);

    docdb_db_free(empty);
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

static void test_stats_compact_checkpoint_sync(void) {
    docdb_store *s = open_store(fresh_dir("stats"));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    char doc[256];
    memset(doc, 'v', sizeof doc);
    for (int round = 0; round < 20; round++)
        for (uint64_t id = 0; id < 50; id++) OK(docdb_db_put(db, id, B(doc), sizeof doc));

    docdb_db_stats st;
    OK(docdb_db_get_stats(db, &st));
    uint64_t id = 0;
    OK(docdb_db_id(db, &id));
    CHECK(st.id == id);
    CHECK(st.documents == 50);
    CHECK(st.committed_txns == 1000);
    CHECK(st.dead_bytes > st.live_bytes);
    CHECK(st.log_bytes >= st.live_bytes + st.dead_bytes / 2);
    CHECK(st.segments >= 1 && st.last_version >= 1000);
    CHECK(!st.poisoned && st.active_readers == 0);

    uint64_t reclaimed = 0;
    OK(docdb_db_compact(db, &reclaimed));
    CHECK(reclaimed > 0);
    OK(docdb_db_compact(db, NULL));
    docdb_db_stats after;
    OK(docdb_db_get_stats(db, &after));
    CHECK(after.documents == 50);
    CHECK(after.compactions >= 1);
    CHECK(after.log_bytes < st.log_bytes);
    CHECK(after.dead_bytes < st.dead_bytes);
    docdb_buf b = {NULL, 0, 0};
    OK(docdb_db_read(db, 49, &b));
    CHECK(b.len == 256 && b.data[0] == 'v' && b.data[255] == 'v');
    docdb_buf_free(&b);

    uint64_t before_cp = after.checkpoints;
    OK(docdb_db_checkpoint(db));
    OK(docdb_db_get_stats(db, &after));
    CHECK(after.checkpoints == before_cp + 1);
    OK(docdb_db_sync(db));
    OK(docdb_store_checkpoint(s));
    OK(docdb_store_sync(s));

    docdb_snapshot *snap = NULL;
    OK(docdb_db_snapshot(db, &snap));
    OK(docdb_db_get_stats(db, &after));
    CHECK(after.active_readers == 1);
    docdb_snapshot_free(snap);

    docdb_store_stats ss;
    OK(docdb_store_get_stats(s, &ss));
    CHECK(ss.databases_total == 1 && ss.databases_active == 1 && ss.databases_open == 1);
    CHECK(ss.documents == 50);
    CHECK(ss.committed_txns == 1000);
    CHECK(ss.compactions >= 1);
    CHECK(ss.memory_limit == 1u << 30);
    CHECK(ss.memory_used > 0);
    CHECK(ss.log_bytes == after.log_bytes);

    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

static void test_record_cache(void) {
    /* With the cache: the second read of a document is a hit. */
    const char *dir = fresh_dir("cache");
    docdb_store *s = NULL;
    docdb_db *db = NULL;
    OK(docdb_store_open(dir, NULL, &s));
    OK(docdb_store_create_db(s, "c", &db));
    OK(docdb_db_put(db, 1, B("cached"), 6));
    docdb_store_stats st;
    OK(docdb_store_get_stats(s, &st));
    CHECK(st.cache_hits == 0 && st.cache_misses == 0 && st.cache_bytes == 0);
    CHECK(doc_is(db, 1, "cached"));
    CHECK(doc_is(db, 1, "cached"));
    OK(docdb_store_get_stats(s, &st));
    CHECK(st.cache_misses == 1 && st.cache_hits == 1 && st.cache_bytes > 6);
    /* A new version is read from disk, not from the old entry. */
    OK(docdb_db_put(db, 1, B("changed"), 7));
    CHECK(doc_is(db, 1, "changed"));
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);

    /* cache_size 0 turns it off; reads are the same. */
    dir = fresh_dir("no-cache");
    docdb_options o = docdb_options_default();
    o.cache_size = 0;
    OK(docdb_store_open(dir, &o, &s));
    OK(docdb_store_create_db(s, "c", &db));
    OK(docdb_db_put(db, 1, B("uncached"), 8));
    CHECK(doc_is(db, 1, "uncached"));
    CHECK(doc_is(db, 1, "uncached"));
    OK(docdb_store_get_stats(s, &st));
    CHECK(st.cache_hits == 0 && st.cache_bytes == 0);
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

/* docdb_db_read_into: copies into the caller's buffer when it fits, reports the length
   either way; the same bytes from the record cache and from disk. */
static void test_read_into(void) {
    for (int cached = 1; cached >= 0; cached--) {
        const char *dir = fresh_dir(cached ? "read-into" : "read-into-nocache");
        docdb_options o = docdb_options_default();
        if (!cached) o.cache_size = 0;
        docdb_store *s = NULL;
        docdb_db *db = NULL;
        OK(docdb_store_open(dir, &o, &s));
        OK(docdb_store_create_db(s, "r", &db));
        OK(docdb_db_put(db, 1, B("hello world"), 11));
        OK(docdb_db_put(db, 2, NULL, 0));
        for (int pass = 0; pass < 2; pass++) { /* the second pass hits the cache */
            uint8_t dst[16];
            memset(dst, 'z', sizeof dst);
            size_t len = 99;
            OK(docdb_db_read_into(db, 1, dst, sizeof dst, &len));
            CHECK(len == 11 && memcmp(dst, "hello world", 11) == 0 && dst[11] == 'z');
            /* Too small: the length, nothing copied. */
            memset(dst, 'z', sizeof dst);
            len = 0;
            OK(docdb_db_read_into(db, 1, dst, 5, &len));
            CHECK(len == 11 && dst[0] == 'z');
            len = 0;
            OK(docdb_db_read_into(db, 1, NULL, 0, &len)); /* only the length */
            CHECK(len == 11);
            len = 99;
            OK(docdb_db_read_into(db, 2, NULL, 0, &len)); /* an empty document */
            CHECK(len == 0);
            len = 99;
            EXPECT(docdb_db_read_into(db, 3, dst, sizeof dst, &len), DOCDB_NOT_FOUND);
            CHECK(len == 99 && contains_text(docdb_errmsg(), "not found"));
            EXPECT(docdb_db_read_into(db, 1, NULL, 4, &len), DOCDB_INVALID_ARGUMENT);
            EXPECT(docdb_db_read_into(db, 1, dst, sizeof dst, NULL), DOCDB_INVALID_ARGUMENT);
            EXPECT(docdb_db_read_into(NULL, 1, dst, sizeof dst, &len), DOCDB_INVALID_ARGUMENT);
            CHECK(len == 99);
        }
        docdb_store_stats st;
        OK(docdb_store_get_stats(s, &st));
        CHECK(cached ? st.cache_hits > 0 : st.cache_hits == 0);
        OK(docdb_db_close(db));
        size_t len = 0;
        EXPECT(docdb_db_read_into(db, 1, NULL, 0, &len), DOCDB_CLOSED);
        docdb_db_free(db);
        OK(docdb_store_close(s));
        docdb_store_free(s);
    }
}

static void test_persistence(void) {
    const char *dir = fresh_dir("persist");
    docdb_options o = docdb_options_default(); /* SYNC_FULL: every commit fsynced */
    docdb_store *s = NULL;
    OK(docdb_store_open(dir, &o, &s));
    docdb_db *db = NULL, *other = NULL;
    OK(docdb_store_create_db(s, "notes", &db));
    OK(docdb_store_create_db(s, "other", &other));
    OK(docdb_db_create(db, 1, B("first"), 5));
    OK(docdb_db_put(db, 2, B("second"), 6));
    docdb_batch_op ops[2] = {{DOCDB_BATCH_PUT, 3, B("third"), 5},
                             {DOCDB_BATCH_DELETE, 1, NULL, 0}};
    OK(docdb_db_batch(db, ops, 2, NULL, NULL));
    docdb_txn *t = NULL;
    OK(docdb_db_begin(db, &t));
    OK(docdb_txn_update(t, 2, B("SECOND"), 6));
    OK(docdb_txn_commit(t, NULL));
    docdb_txn_free(t);
    OK(docdb_store_drop_db(s, "other"));
    docdb_db_free(other);
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);

    /* Reopen: everything committed is there, the dropped database is gone. */
    OK(docdb_store_open(dir, &o, &s));
    docdb_db_list list = {NULL, 0};
    OK(docdb_store_list_dbs(s, &list));
    CHECK(list.len == 1 && strcmp(list.items[0].name, "notes") == 0);
    docdb_db_list_free(&list);
    OK(docdb_store_open_db(s, "notes", &db));
    uint64_t n = 0;
    OK(docdb_db_len(db, &n));
    CHECK(n == 2);
    CHECK(doc_is(db, 2, "SECOND") && doc_is(db, 3, "third"));
    EXPECT(docdb_db_read(db, 1, &(docdb_buf){NULL, 0, 0}), DOCDB_NOT_FOUND);
    docdb_db_free(db);

    /* Freed without close (as after a crash of the caller's logic): replayed from the log. */
    OK(docdb_store_open_db(s, "notes", &db));
    OK(docdb_db_put(db, 4, B("fourth"), 6));
    docdb_db_free(db);
    docdb_store_free(s);
    OK(docdb_store_open(dir, &o, &s));
    OK(docdb_store_open_db(s, "notes", &db));
    CHECK(doc_is(db, 4, "fourth"));
    docdb_db_free(db);
    docdb_store_free(s);
}

/* Finds the first log segment `db-<id>/<16 hex>.log` of the only database in `dir`. */
static int find_segment(const char *dir, char *out, size_t cap) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    char dbdir[600] = "";
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "db-", 3) == 0) snprintf(dbdir, sizeof dbdir, "%s/%s", dir, e->d_name);
    closedir(d);
    if (!dbdir[0] || !(d = opendir(dbdir))) return 0;
    int found = 0;
    while (!found && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len == 20 && strcmp(e->d_name + 16, ".log") == 0) {
            snprintf(out, cap, "%s/%s", dbdir, e->d_name);
            found = 1;
        }
    }
    closedir(d);
    return found;
}

static long file_find(const char *path, const char *needle) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    static char data[1 << 16];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(data + i, needle, k) == 0) return (long)i;
    return -1;
}

static int file_patch(const char *path, long offset, const void *bytes, size_t len) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return 0;
    ssize_t w = pwrite(fd, bytes, len, offset);
    close(fd);
    return w == (ssize_t)len;
}

static void test_corruption(void) {
    const char *dir = fresh_dir("corrupt");
    docdb_store *s = open_store(dir);
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    char doc[1000];
    memset(doc, 'A', sizeof doc);
    memcpy(doc, "MARKER", 6);
    OK(docdb_db_put(db, 1, B(doc), sizeof doc));
    OK(docdb_db_put(db, 2, B("after"), 5));
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);

    char seg[700];
    CHECK(find_segment(dir, seg, sizeof seg));
    long at = file_find(seg, "MARKER");
    CHECK(at > 0);
    CHECK(file_patch(seg, at + 500, "B", 1)); /* one flipped byte inside document 1 */

    s = open_store(dir);
    /* The database opens (the checkpoint covers the damaged record); reading it fails. */
    OK(docdb_store_open_db(s, "d", &db));
    EXPECT(docdb_db_read(db, 1, &(docdb_buf){NULL, 0, 0}), DOCDB_CORRUPTION);
    CHECK(contains_text(docdb_errmsg(), ".log"));
    CHECK(contains_text(docdb_errmsg(), "corruption"));
    CHECK(doc_is(db, 2, "after")); /* the damage stays local */
    /* A scan reports the damaged document and goes on with the next one. */
    docdb_snapshot *snap = NULL;
    OK(docdb_db_snapshot(db, &snap));
    docdb_snapshot_scan *scan = NULL;
    OK(docdb_snapshot_scan_new(snap, &scan));
    uint64_t id = 0;
    bool done = true;
    docdb_buf buf = {NULL, 0, 0};
    EXPECT(docdb_snapshot_scan_next(scan, &id, &buf, &done), DOCDB_CORRUPTION);
    OK(docdb_snapshot_scan_next(scan, &id, &buf, &done));
    CHECK(!done && id == 2 && buf.len == 5);
    docdb_buf_free(&buf);
    docdb_snapshot_scan_free(scan);
    docdb_snapshot_free(snap);
    docdb_db_free(db);
    docdb_store_free(s);
}

static uint32_t crc32_ieee(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void test_unsupported_version(void) {
    const char *dir = fresh_dir("version");
    docdb_store *s = open_store(dir);
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    OK(docdb_db_put(db, 1, B("x"), 1));
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);

    /* Rewrite the segment header as a future format version 3 with a valid checksum. */
    char seg[700];
    CHECK(find_segment(dir, seg, sizeof seg));
    uint8_t h[32];
    FILE *f = fopen(seg, "rb");
    CHECK(f != NULL && fread(h, 1, 32, f) == 32);
    if (f) fclose(f);
    CHECK(memcmp(h, "DOCDBLOG", 8) == 0);
    h[8] = 3, h[9] = 0, h[10] = 0, h[11] = 0;
    uint32_t crc = crc32_ieee(h, 28);
    for (int i = 0; i < 4; i++) h[28 + i] = (uint8_t)(crc >> (8 * i));
    CHECK(file_patch(seg, 0, h, 32));

    s = open_store(dir);
    db = (docdb_db *)0x1;
    EXPECT(docdb_store_open_db(s, "d", &db), DOCDB_UNSUPPORTED_VERSION);
    CHECK(contains_text(docdb_errmsg(), "unsupported format version 3"));
    CHECK(db == (docdb_db *)0x1);
    docdb_store_free(s);
}

/* ---- threads ------------------------------------------------------------------------ */

enum { THREADS = 4, PER_THREAD = 150 };

struct worker {
    docdb_db *db;
    int index;
    int errors;
    char errmsg_seen[64];
};

static void *writer_thread(void *arg) {
    struct worker *w = arg;
    char doc[32];
    for (int i = 0; i < PER_THREAD; i++) {
        uint64_t id = (uint64_t)w->index * 1000 + (uint64_t)i;
        int n = snprintf(doc, sizeof doc, "t%d-%d", w->index, i);
        if (docdb_db_create(w->db, id, B(doc), (size_t)n) != DOCDB_OK) w->errors++;
        if (i % 10 == 0) {
            /* Reads and snapshots run alongside the writers. */
            docdb_snapshot *snap = NULL;
            if (docdb_db_snapshot(w->db, &snap) != DOCDB_OK) {
                w->errors++;
                continue;
            }
            uint64_t len = 0;
            if (docdb_snapshot_len(snap, &len) != DOCDB_OK) w->errors++;
            docdb_snapshot_free(snap);
        }
    }
    /* Each thread has its own last-error message. */
    if (docdb_db_create(w->db, (uint64_t)w->index * 1000, B("dup"), 3) != DOCDB_ALREADY_EXISTS)
        w->errors++;
    snprintf(w->errmsg_seen, sizeof w->errmsg_seen, "%s", docdb_errmsg());
    return NULL;
}

struct racer {
    docdb_db *db;
    int committed;
    int conflicts;
    int errors;
};

/* Read-modify-write of one counter document in transactions: conflicts are retried. */
static void *counter_thread(void *arg) {
    struct racer *r = arg;
    for (int i = 0; i < 25;) {
        docdb_txn *t = NULL;
        if (docdb_db_begin(r->db, &t) != DOCDB_OK) {
            r->errors++;
            return NULL;
        }
        docdb_buf buf = {NULL, 0, 0};
        long value = 0;
        if (docdb_txn_read(t, 7, &buf) == DOCDB_OK) {
            char tmp[32] = "";
            memcpy(tmp, buf.data, buf.len < 31 ? buf.len : 31);
            value = strtol(tmp, NULL, 10);
            docdb_buf_free(&buf);
        } else {
            r->errors++;
        }
        char next[32];
        int n = snprintf(next, sizeof next, "%ld", value + 1);
        if (docdb_txn_put(t, 7, B(next), (size_t)n) != DOCDB_OK) r->errors++;
        docdb_status st = docdb_txn_commit(t, NULL);
        docdb_txn_free(t);
        if (st == DOCDB_OK) {
            r->committed++;
            i++;
        } else if (st == DOCDB_CONFLICT) {
            r->conflicts++;
        } else {
            r->errors++;
            return NULL;
        }
    }
    return NULL;
}

static void test_threads(void) {
    docdb_store *s = open_store(fresh_dir("threads"));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "shared", &db));

    /* One handle shared by every thread. */
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){db, i, 0, ""};
        CHECK(pthread_create(&th[i], NULL, writer_thread, &w[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        CHECK(w[i].errors == 0);
        CHECK(contains_text(w[i].errmsg_seen, "already exists"));
    }
    uint64_t n = 0;
    OK(docdb_db_len(db, &n));
    CHECK(n == THREADS * PER_THREAD);
    CHECK(doc_is(db, 3 * 1000 + 149, "t3-149") && doc_is(db, 0, "t0-0"));

    /* Lost updates are impossible: every committed increment counts. */
    OK(docdb_db_put(db, 7, B("0"), 1));
    struct racer r[THREADS];
    for (int i = 0; i < THREADS; i++) {
        r[i] = (struct racer){db, 0, 0, 0};
        CHECK(pthread_create(&th[i], NULL, counter_thread, &r[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    int total = 0;
    for (int i = 0; i < THREADS; i++) {
        CHECK(r[i].errors == 0);
        total += r[i].committed;
    }
    CHECK(total == THREADS * 25);
    char want[16];
    snprintf(want, sizeof want, "%d", total);
    CHECK(doc_is(db, 7, want));

    /* The main thread's message was not touched by the workers' failures. */
    EXPECT(docdb_db_read(db, 123456, &(docdb_buf){NULL, 0, 0}), DOCDB_NOT_FOUND);
    CHECK(contains_text(docdb_errmsg(), "123456"));

    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

/* Progress reported to the backup callback, through user_data. */
struct backup_progress {
    int calls;
    int monotonic;
    uint64_t done, total;
};

static void on_backup_progress(uint64_t done, uint64_t total, void *user_data) {
    struct backup_progress *p = user_data;
    if (p->calls > 0 && (done < p->done || total != p->total)) p->monotonic = 0;
    p->calls++;
    p->done = done;
    p->total = total;
}

/* Writes ids 50, 51, ... in order until told to stop (`stop` and `written` under `lock`). */
struct backup_writer {
    docdb_db *db;
    pthread_mutex_t lock;
    int stop;
    uint64_t written;
};

static void *backup_writer_thread(void *arg) {
    struct backup_writer *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        int stop = w->stop;
        uint64_t next = w->written;
        pthread_mutex_unlock(&w->lock);
        if (stop || docdb_db_put(w->db, next, B("w"), 1) != DOCDB_OK) return NULL;
        pthread_mutex_lock(&w->lock);
        w->written = next + 1;
        pthread_mutex_unlock(&w->lock);
    }
}

static void test_backup_under_writes(void) {
    docdb_store *s = open_store(fresh_dir("backup-busy"));
    struct backup_writer w;
    w.db = NULL;
    w.stop = 0;
    w.written = 50;
    pthread_mutex_init(&w.lock, NULL);
    OK(docdb_store_create_db(s, "d", &w.db));
    for (uint64_t id = 0; id < 50; id++) OK(docdb_db_put(w.db, id, B("w"), 1));
    pthread_t th;
    CHECK(pthread_create(&th, NULL, backup_writer_thread, &w) == 0);
    char dest[512];
    snprintf(dest, sizeof dest, "%s", fresh_dir("backup-busy-copy"));
    OK(docdb_store_backup(s, dest, NULL, NULL));
    pthread_mutex_lock(&w.lock);
    w.stop = 1;
    pthread_mutex_unlock(&w.lock);
    pthread_join(th, NULL);
    pthread_mutex_destroy(&w.lock);

    /* The copy holds ids 0..k-1 for some k: a prefix of the acknowledged writes. */
    docdb_store *copy = open_store(dest);
    docdb_db *cdb = NULL;
    docdb_snapshot *snap = NULL;
    OK(docdb_store_open_db(copy, "d", &cdb));
    OK(docdb_db_snapshot(cdb, &snap));
    docdb_id_list ids = {NULL, 0, 0};
    OK(docdb_snapshot_ids(snap, &ids));
    CHECK(ids.len >= 50 && ids.len <= w.written);
    int prefix = 1;
    for (size_t i = 0; i < ids.len; i++) prefix &= ids.ids[i] == i;
    CHECK(prefix);
    docdb_id_list_free(&ids);
    docdb_snapshot_free(snap);
    docdb_db_free(cdb);
    OK(docdb_store_close(copy));
    docdb_store_free(copy);
    docdb_db_free(w.db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

static void test_backup(void) {
    docdb_store *s = open_store(fresh_dir("backup-src"));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    for (uint64_t id = 0; id < 200; id++) OK(docdb_db_put(db, id, B("backed up"), 9));
    OK(docdb_db_put(db, 1000, NULL, 0));

    char dest[512];
    snprintf(dest, sizeof dest, "%s", fresh_dir("backup-copy"));
    struct backup_progress p = {0, 1, 0, 0};
    OK(docdb_store_backup(s, dest, on_backup_progress, &p));
    CHECK(p.calls >= 2 && p.monotonic);
    CHECK(p.total > 200 * 9 && p.done == p.total);

    /* The copy is a store of its own, with every document. */
    docdb_store *copy = open_store(dest);
    docdb_db *cdb = NULL;
    OK(docdb_store_open_db(copy, "d", &cdb));
    CHECK(doc_is(cdb, 0, "backed up") && doc_is(cdb, 199, "backed up"));
    CHECK(doc_is(cdb, 1000, ""));
    docdb_db_free(cdb);
    OK(docdb_store_close(copy));
    docdb_store_free(copy);

    /* A destination that is not empty is refused and left as it was. */
    EXPECT(docdb_store_backup(s, dest, NULL, NULL), DOCDB_ALREADY_EXISTS);
    CHECK(contains_text(docdb_errmsg(), "not empty"));
    EXPECT(docdb_store_backup(s, fresh_dir("backup-src/inside"), NULL, NULL),
           DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_store_backup(NULL, fresh_dir("backup-x"), NULL, NULL),
           DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_store_backup(s, NULL, NULL, NULL), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_store_backup(s, "", NULL, NULL), DOCDB_INVALID_ARGUMENT);

    /* No callback is fine. */
    OK(docdb_store_backup(s, fresh_dir("backup-quiet"), NULL, NULL));

    docdb_db_free(db);
    OK(docdb_store_close(s));
    EXPECT(docdb_store_backup(s, fresh_dir("backup-late"), NULL, NULL), DOCDB_CLOSED);
    docdb_store_free(s);
}

static int ids_are(const uint64_t *got, size_t n, const uint64_t *want, size_t wn) {
    return n == wn && (n == 0 || memcmp(got, want, n * sizeof *got) == 0);
}

static void put_d(const docdb_db *db, uint64_t id) {
    char d[32];
    snprintf(d, sizeof d, "d%llu", (unsigned long long)id);
    OK(docdb_db_put(db, id, B(d), strlen(d)));
}

static void test_ranges(void) {
    docdb_store *s = open_store(fresh_dir("ranges"));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "d", &db));
    for (uint64_t id = 10; id <= 50; id += 10) put_d(db, id);
    docdb_snapshot *snap = NULL;
    OK(docdb_db_snapshot(db, &snap));
    put_d(db, 60); /* after the snapshot: not in its ranges */

    docdb_snapshot_scan *scan = NULL;
    uint64_t got[16];
    size_t n;
    uint64_t count = 0;

    /* NULL and a zero-initialised range are every document, ascending. */
    static const uint64_t all[] = {10, 20, 30, 40, 50};
    OK(docdb_snapshot_range_new(snap, NULL, &scan));
    n = drain_scan(scan, "d", 0, got, 16);
    CHECK(ids_are(got, n, all, 5));
    docdb_range r;
    memset(&r, 0, sizeof r);
    OK(docdb_snapshot_range_new(snap, &r, &scan));
    n = drain_scan(scan, "d", 0, got, 16);
    CHECK(ids_are(got, n, all, 5));

    /* Inclusive and exclusive bounds; reverse; a limit. */
    r.start_kind = DOCDB_BOUND_INCLUDED, r.start = 20;
    r.end_kind = DOCDB_BOUND_EXCLUDED, r.end = 50;
    OK(docdb_snapshot_range_new(snap, &r, &scan));
    n = drain_scan(scan, "d", 0, got, 16);
    static const uint64_t mid[] = {20, 30, 40};
    CHECK(ids_are(got, n, mid, 3));
    OK(docdb_snapshot_count(snap, &r, &count));
    CHECK(count == 3);
    r.reverse = true, r.has_limit = true, r.limit = 2;
    OK(docdb_snapshot_range_new(snap, &r, &scan));
    n = drain_scan(scan, "d", 0, got, 16);
    static const uint64_t down[] = {40, 30};
    CHECK(ids_are(got, n, down, 2));
    OK(docdb_snapshot_count(snap, &r, &count));
    CHECK(count == 2);
    /* has_limit with limit 0 reads nothing; without has_limit the limit is ignored. */
    r.limit = 0;
    OK(docdb_snapshot_range_new(snap, &r, &scan));
    CHECK(drain_scan(scan, "d", 0, got, 16) == 0);
    OK(docdb_snapshot_count(snap, &r, &count));
    CHECK(count == 0);
    r.has_limit = false;
    OK(docdb_snapshot_count(snap, &r, &count));
    CHECK(count == 3);

    /* Inverted bounds are an empty range, not an error. */
    r.start_kind = DOCDB_BOUND_EXCLUDED, r.start = 40;
    r.end_kind = DOCDB_BOUND_INCLUDED, r.end = 20;
    OK(docdb_snapshot_range_new(snap, &r, &scan));
    CHECK(drain_scan(scan, "d", 0, got, 16) == 0);

    /* Keyset paging, pages of 2, descending: every document once. */
    memset(&r, 0, sizeof r);
    r.reverse = true, r.has_limit = true, r.limit = 2;
    size_t seen = 0;
    uint64_t pages[16];
    for (int page = 0; page < 10; page++) {
        OK(docdb_snapshot_range_new(snap, &r, &scan));
        n = drain_scan(scan, "d", 0, got, 16);
        if (n == 0) break;
        memcpy(pages + seen, got, n * sizeof *got);
        seen += n;
        r.end_kind = DOCDB_BOUND_EXCLUDED, r.end = got[n - 1];
    }
    static const uint64_t rev[] = {50, 40, 30, 20, 10};
    CHECK(ids_are(pages, seen, rev, 5));

    /* A bad bound kind is refused, and nothing is written to *out. */
    r.start_kind = 3;
    scan = (docdb_snapshot_scan *)0x1;
    EXPECT(docdb_snapshot_range_new(snap, &r, &scan), DOCDB_INVALID_ARGUMENT);
    CHECK(scan == (docdb_snapshot_scan *)0x1);
    CHECK(contains_text(docdb_errmsg(), "start_kind"));
    EXPECT(docdb_snapshot_count(snap, &r, &count), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_db_range_new(db, &r, &scan), DOCDB_INVALID_ARGUMENT);
    r.start_kind = DOCDB_BOUND_UNBOUNDED, r.end_kind = 99;
    EXPECT(docdb_db_count(db, &r, &count), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_snapshot_range_new(NULL, NULL, &scan), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_snapshot_range_new(snap, NULL, NULL), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_snapshot_count(NULL, NULL, &count), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_snapshot_count(snap, NULL, NULL), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_db_range_new(NULL, NULL, &scan), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_db_count(db, NULL, NULL), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_txn_range_new(NULL, NULL, &scan), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_txn_count(NULL, NULL, &count), DOCDB_INVALID_ARGUMENT);

    /* The one-shot database forms see the database as it is now; the scan holds its own
     * snapshot, so later writes do not show in it. */
    memset(&r, 0, sizeof r);
    r.start_kind = DOCDB_BOUND_INCLUDED, r.start = 40;
    OK(docdb_db_range_new(db, &r, &scan));
    put_d(db, 70);
    n = drain_scan(scan, "d", 0, got, 16);
    static const uint64_t now[] = {40, 50, 60};
    CHECK(ids_are(got, n, now, 3));
    OK(docdb_db_count(db, &r, &count));
    CHECK(count == 4);

    /* A transaction's range: its own writes and deletions, pages longer than one. */
    docdb_txn *t = NULL;
    OK(docdb_db_begin(db, &t));
    OK(docdb_txn_delete(t, 30));
    OK(docdb_txn_put(t, 35, B("d35"), 3));
    for (uint64_t id = 1000; id < 1600; id++) {
        char d[32];
        snprintf(d, sizeof d, "d%llu", (unsigned long long)id);
        OK(docdb_txn_put(t, id, B(d), strlen(d)));
    }
    memset(&r, 0, sizeof r);
    r.end_kind = DOCDB_BOUND_INCLUDED, r.end = 1000;
    OK(docdb_txn_range_new(t, &r, &scan));
    n = drain_scan(scan, "d", 0, got, 16);
    static const uint64_t own[] = {10, 20, 35, 40, 50, 60, 70, 1000};
    CHECK(ids_are(got, n, own, 8));
    r.end_kind = DOCDB_BOUND_UNBOUNDED, r.start_kind = DOCDB_BOUND_INCLUDED, r.start = 1000;
    r.has_limit = true, r.limit = 555;
    OK(docdb_txn_range_new(t, &r, &scan));
    n = drain_scan(scan, "d", 0, got, 1);
    CHECK(n == 555 && got[0] == 1000);
    r.reverse = true, r.has_limit = false;
    OK(docdb_txn_range_new(t, &r, &scan));
    n = drain_scan(scan, "d", 0, got, 1);
    CHECK(n == 600 && got[0] == 1599);
    /* Its count sees the same documents: 30 deleted, 35 and 1000..1599 staged. */
    OK(docdb_txn_count(t, NULL, &count));
    CHECK(count == 607);
    OK(docdb_txn_count(t, &r, &count));
    CHECK(count == 600);
    r.has_limit = true, r.limit = 555;
    OK(docdb_txn_count(t, &r, &count));
    CHECK(count == 555);
    r.limit = 0;
    OK(docdb_txn_count(t, &r, &count));
    CHECK(count == 0);
    memset(&r, 0, sizeof r);
    r.start_kind = DOCDB_BOUND_EXCLUDED, r.start = 20;
    r.end_kind = DOCDB_BOUND_EXCLUDED, r.end = 50;
    OK(docdb_txn_count(t, &r, &count));
    CHECK(count == 2); /* 35, 40 */
    r.start_kind = 7;
    count = 42;
    EXPECT(docdb_txn_count(t, &r, &count), DOCDB_INVALID_ARGUMENT);
    CHECK(count == 42);
    EXPECT(docdb_txn_count(t, NULL, NULL), DOCDB_INVALID_ARGUMENT);
    /* A scan of a finished transaction is CLOSED at its next document, then over. */
    OK(docdb_txn_range_new(t, NULL, &scan));
    uint64_t id = 0;
    bool done = false;
    docdb_buf buf = {NULL, 0, 0};
    OK(docdb_snapshot_scan_next(scan, &id, &buf, &done));
    CHECK(!done && id == 10);
    docdb_buf_free(&buf);
    OK(docdb_txn_rollback(t));
    EXPECT(docdb_snapshot_scan_next(scan, &id, &buf, &done), DOCDB_CLOSED);
    OK(docdb_snapshot_scan_next(scan, &id, &buf, &done));
    CHECK(done);
    EXPECT(docdb_txn_range_new(t, NULL, &scan), DOCDB_CLOSED);
    EXPECT(docdb_txn_count(t, NULL, &count), DOCDB_CLOSED);
    docdb_snapshot_scan_free(scan);
    docdb_txn_free(t);
    /* Freeing the transaction first is fine too: the scan then reports CLOSED. */
    OK(docdb_db_begin(db, &t));
    OK(docdb_txn_range_new(t, NULL, &scan));
    docdb_txn_free(t);
    EXPECT(docdb_snapshot_scan_next(scan, &id, &buf, &done), DOCDB_CLOSED);
    docdb_snapshot_scan_free(scan);

    /* Scans opened before the store is closed end with CLOSED at their next document,
     * a transaction's too (its first page is already read), then are over. */
    docdb_snapshot_scan *open_scans[3] = {NULL, NULL, NULL};
    OK(docdb_db_begin(db, &t));
    open_ranges(t, snap, db, open_scans);

    /* A closed store: every range is CLOSED. */
    OK(docdb_store_close(s));
    check_closed_ranges(t, open_scans);
    EXPECT(docdb_snapshot_range_new(snap, NULL, &scan), DOCDB_CLOSED);
    EXPECT(docdb_snapshot_count(snap, NULL, &count), DOCDB_CLOSED);
    EXPECT(docdb_db_range_new(db, NULL, &scan), DOCDB_CLOSED);
    EXPECT(docdb_db_count(db, NULL, &count), DOCDB_CLOSED);
    docdb_snapshot_free(snap);
    docdb_db_free(db);
    docdb_store_free(s);
}

static void test_ranges_at_the_id_edges(void) {
    docdb_store *s = open_store(fresh_dir("id-edges"));
    check_id_edges(s, "edges");
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(g_root, sizeof g_root, "%s/docdb-ctest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_root)) {
        perror("mkdtemp");
        return 2;
    }

    RUN(test_version_status_errmsg); /* first: checks the initial empty message */
    RUN(test_options_default);
    RUN(test_documents_crud);
    RUN(test_databases);
    RUN(test_null_arguments);
    RUN(test_payload_too_large);
    RUN(test_payload_in_batch);
    RUN(test_largest_document);
    RUN(test_memory_limit);
    RUN(test_shared_open);
    RUN(test_fork_child_is_refused);
    RUN(test_io_error);
    RUN(test_close_semantics);
    RUN(test_transactions);
    RUN(test_batch);
    RUN(test_snapshot_and_scan);
    RUN(test_ranges);
    RUN(test_ranges_at_the_id_edges);
    RUN(test_stats_compact_checkpoint_sync);
    RUN(test_record_cache);
    RUN(test_read_into);
    RUN(test_persistence);
    RUN(test_corruption);
    RUN(test_unsupported_version);
    RUN(test_threads);
    RUN(test_backup);
    RUN(test_backup_under_writes);

    rm_rf(g_root);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
