/*
 * The C tests' harness: CHECK/EXPECT/OK/RUN, and a temporary root for their directories.
 * Include after the system headers (needs <stdio.h>, <ftw.h>) and "docdb.h".
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

#endif
