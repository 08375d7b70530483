/*
 * The C tests' harness: CHECK/EXPECT/OK/RUN, and a temporary root for their directories.
 * Include after the system headers (needs <stdio.h>, <string.h>, <ftw.h>) and "docdb.h".
 */
#ifndef DOCDB_TEST_HARNESS_H
#define DOCDB_TEST_HARNESS_H

/* ---- a tiny test harness ------------------------------------------------------------ */

static int g_passed, g_failed, t_ok;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed (errmsg: %s)\n", __FILE__,        \
                    __LINE__, #cond, docdb_errmsg());                                    \
            t_ok = 0;                                                                    \
        }                                                                                \
    } while (0)

#define EXPECT(expr, want)                                                               \
    do {                                                                                 \
        docdb_status st_ = (expr);                                                       \
        if (st_ != (docdb_status)(want)) {                                               \
            fprintf(stderr, "  %s:%d: %s returned %s, expected %s (errmsg: %s)\n",        \
                    __FILE__, __LINE__, #expr, docdb_status_str(st_),                    \
                    docdb_status_str(want), docdb_errmsg());                             \
            t_ok = 0;                                                                    \
        }                                                                                \
    } while (0)

#define OK(expr) EXPECT(expr, DOCDB_OK)

#define RUN(fn)                                                                          \
    do {                                                                                 \
        t_ok = 1;                                                                        \
        fn();                                                                            \
        if (t_ok) {                                                                      \
            g_passed++;                                                                  \
            printf("ok   %s\n", #fn);                                                    \
        } else {                                                                         \
            g_failed++;                                                                  \
            printf("FAIL %s\n", #fn);                                                    \
        }                                                                                \
        fflush(stdout);                                                                  \
    } while (0)

static char g_root[256];

/* A fresh, empty directory path under the run's temporary root (not created). */
static inline const char *fresh_dir(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", g_root, name);
    return path;
}

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void rm_rf(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Drains `scan` and frees it: checks each document is `prefix` then its id (as "d42"), and
 * the ids' order (`order` > 0 ascending, < 0 descending, 0 unchecked); keeps the first `cap`
 * ids in `ids` (NULL when cap is 0); returns the number of documents. */
static inline size_t drain_scan(docdb_snapshot_scan *scan, const char *prefix, int order,
                                uint64_t *ids, size_t cap) {
    size_t n = 0;
    uint64_t prev = 0;
    for (;;) {
        uint64_t id = 0;
        bool done = false;
        docdb_buf doc = {NULL, 0, 0};
        char want[48];
        OK(docdb_snapshot_scan_next(scan, &id, &doc, &done));
        if (done || !t_ok) break;
        snprintf(want, sizeof want, "%s%llu", prefix, (unsigned long long)id);
        CHECK(doc.len == strlen(want) && memcmp(doc.data, want, doc.len) == 0);
        docdb_buf_free(&doc);
        if (n > 0 && order != 0) CHECK(order > 0 ? id > prev : id < prev);
        if (n < cap) ids[n] = id;
        prev = id;
        n++;
    }
    docdb_snapshot_scan_free(scan);
    return n;
}

/* Opens a range of the transaction `t`, of `snap` and of `db` (all ids) into `scans`, each
 * with its first page read, for check_closed_ranges once the store is closed. */
static inline void open_ranges(docdb_txn *t, docdb_snapshot *snap, docdb_db *db,
                               docdb_snapshot_scan *scans[3]) {
    OK(docdb_txn_range_new(t, NULL, &scans[0]));
    OK(docdb_snapshot_range_new(snap, NULL, &scans[1]));
    OK(docdb_db_range_new(db, NULL, &scans[2]));
}

/* After the store of open_ranges' handles was closed: each range ends with CLOSED at its
 * next document (the page it holds is not served), then is over; a count of `t` is CLOSED.
 * Frees the scans and `t`. */
static inline void check_closed_ranges(docdb_txn *t, docdb_snapshot_scan *scans[3]) {
    uint64_t id = 0, count = 0;
    for (int i = 0; i < 3; i++) {
        docdb_buf buf = {NULL, 0, 0};
        bool done = false;
        EXPECT(docdb_snapshot_scan_next(scans[i], &id, &buf, &done), DOCDB_CLOSED);
        OK(docdb_snapshot_scan_next(scans[i], &id, &buf, &done));
        CHECK(done);
        docdb_snapshot_scan_free(scans[i]);
    }
    EXPECT(docdb_txn_count(t, NULL, &count), DOCDB_CLOSED);
    docdb_txn_free(t);
}

/* Ranges at the ends of the id space (0 and UINT64_MAX), through a snapshot, the database
 * and a transaction, with their counts, and keyset paging one document at a time to the
 * end in both directions: in a database `name` of `store`, local or remote. */
static inline void check_id_edges(docdb_store *store, const char *name) {
    enum { U = DOCDB_BOUND_UNBOUNDED, I = DOCDB_BOUND_INCLUDED, X = DOCDB_BOUND_EXCLUDED };
    static const uint64_t ids[] = {0, 1, UINT64_MAX - 1, UINT64_MAX};
    static const struct {
        uint32_t sk;
        uint64_t s;
        uint32_t ek;
        uint64_t e;
        bool reverse;
        size_t n;
        uint64_t first;
    } cases[] = {
        {I, 0, I, 0, false, 1, 0},
        {X, 0, U, 0, false, 3, 1},
        {U, 0, X, 0, false, 0, 0},
        {I, UINT64_MAX, U, 0, false, 1, UINT64_MAX},
        {X, UINT64_MAX, U, 0, false, 0, 0},
        {X, UINT64_MAX, U, 0, true, 0, 0},
        {U, 0, X, UINT64_MAX, true, 3, UINT64_MAX - 1},
        {U, 0, I, UINT64_MAX, true, 4, UINT64_MAX},
        {X, UINT64_MAX - 1, I, UINT64_MAX, true, 1, UINT64_MAX},
        {I, UINT64_MAX, I, 0, false, 0, 0},
        {X, 0, X, 1, false, 0, 0},
    };
    docdb_db *db = NULL;
    docdb_snapshot *snap = NULL;
    docdb_txn *txn = NULL;
    OK(docdb_store_create_db(store, name, &db));
    for (size_t i = 0; i < 4; i++) {
        char d[32];
        snprintf(d, sizeof d, "e%llu", (unsigned long long)ids[i]);
        OK(docdb_db_put(db, ids[i], (const uint8_t *)d, strlen(d)));
    }
    OK(docdb_db_snapshot(db, &snap));
    OK(docdb_db_begin(db, &txn));
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        docdb_range r;
        memset(&r, 0, sizeof r);
        r.start_kind = cases[c].sk, r.start = cases[c].s;
        r.end_kind = cases[c].ek, r.end = cases[c].e, r.reverse = cases[c].reverse;
        for (int face = 0; face < 3; face++) {
            docdb_snapshot_scan *scan = NULL;
            uint64_t first = 0, count = 0;
            if (face == 0) OK(docdb_snapshot_range_new(snap, &r, &scan));
            if (face == 1) OK(docdb_db_range_new(db, &r, &scan));
            if (face == 2) OK(docdb_txn_range_new(txn, &r, &scan));
            size_t n = scan ? drain_scan(scan, "e", r.reverse ? -1 : 1, &first, 1) : 0;
            if (n != cases[c].n || (n > 0 && first != cases[c].first)) {
                fprintf(stderr, "  id edges case %zu through %d: %zu documents from %llu\n", c,
                        face, n, (unsigned long long)first);
                t_ok = 0;
            }
            if (face == 0) OK(docdb_snapshot_count(snap, &r, &count));
            if (face == 1) OK(docdb_db_count(db, &r, &count));
            if (face == 2) OK(docdb_txn_count(txn, &r, &count));
            CHECK(count == cases[c].n);
        }
    }
    for (int reverse = 0; reverse < 2; reverse++) {
        docdb_range r;
        memset(&r, 0, sizeof r);
        r.reverse = reverse, r.has_limit = true, r.limit = 1;
        size_t seen = 0;
        for (int page = 0; page < 8; page++) {
            docdb_snapshot_scan *scan = NULL;
            uint64_t id = 0;
            OK(docdb_txn_range_new(txn, &r, &scan));
            if (!scan || drain_scan(scan, "e", 0, &id, 1) == 0) break;
            CHECK(id == ids[reverse ? 3 - seen : seen]);
            seen++;
            if (reverse) r.end_kind = DOCDB_BOUND_EXCLUDED, r.end = id;
            else r.start_kind = DOCDB_BOUND_EXCLUDED, r.start = id;
        }
        CHECK(seen == 4);
    }
    docdb_txn_free(txn);
    docdb_snapshot_free(snap);
    docdb_db_free(db);
}

#endif
