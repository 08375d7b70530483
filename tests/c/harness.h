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

#endif
