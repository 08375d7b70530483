/*
 * One C client of the eight-process test (workload: README.md), linked to libdocdb and
 * connected to the server with docdb_store_connect.
 *
 *   worker URL W SYNC_DIR      prints one JSON line with its model; exit 1 on any failure
 */
#define _POSIX_C_SOURCE 200809L
#include <docdb.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define K 40
#define STEPS 400

/* The model: the value of each of this worker's ids, "" when absent. */
static char model[K][64];
static int present[K];

static void die(const char *what, docdb_status st) {
    fprintf(stderr, "worker.c: %s: %s: %s\n", what, docdb_status_str(st), docdb_errmsg());
    exit(1);
}

static void check(const char *what, docdb_status st) {
    if (st != DOCDB_OK) die(what, st);
}

static const uint8_t *bytes(const char *s) { return (const uint8_t *)s; }

/* Reads `id`: 1 and its value in `out` (NUL-terminated), 0 if absent. */
static int read_doc(const docdb_db *db, uint64_t id, char *out, size_t cap) {
    docdb_buf b = {0};
    docdb_status st = docdb_db_read(db, id, &b);
    if (st == DOCDB_NOT_FOUND) return 0;
    check("read", st);
    size_t n = b.len < cap - 1 ? b.len : cap - 1;
    memcpy(out, b.data, n);
    out[n] = '\0';
    docdb_buf_free(&b);
    return 1;
}

static void wait_for(const char *path) {
    struct timespec pause = {0, 5 * 1000 * 1000};
    while (access(path, F_OK) != 0) nanosleep(&pause, NULL);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: worker URL W SYNC_DIR\n");
        return 2;
    }
    const char *url = argv[1];
    int w = atoi(argv[2]);
    char path[4096];

    docdb_store *store = NULL;
    docdb_db *db = NULL;
    check("connect", docdb_store_connect(url, NULL, &store));
    check("open_db", docdb_store_open_db(store, "shared", &db));
    snprintf(path, sizeof path, "%s/ready.%d", argv[3], w);
    FILE *ready = fopen(path, "w");
    if (ready == NULL) return 1;
    fclose(ready);
    snprintf(path, sizeof path, "%s/go", argv[3]);
    wait_for(path);

    uint64_t base = (uint64_t)(w + 1) * 1000000;
    int increments = 0, conflicts = 0;
    char value[64], value2[64], got[64];
    for (int i = 0; i < STEPS; i++) {
        int k = (i * 7) % K;
        uint64_t id = base + (uint64_t)k;
        snprintf(value, sizeof value, "w%d:%" PRIu64 ":%d", w, id, i);
        size_t len = strlen(value);
        switch (i % 8) {
        case 0:
        case 1:
        case 2:
            check("put", docdb_db_put(db, id, bytes(value), len));
            strcpy(model[k], value);
            present[k] = 1;
            break;
        case 3:
            if (present[k]) {
                check("delete", docdb_db_delete(db, id));
                present[k] = 0;
            } else {
                check("create", docdb_db_create(db, id, bytes(value), len));
                strcpy(model[k], value);
                present[k] = 1;
            }
            break;
        case 4: {
            int k2 = (i * 7 + 1) % K;
            uint64_t id2 = base + (uint64_t)k2;
            snprintf(value2, sizeof value2, "w%d:%" PRIu64 ":%d", w, id2, i);
            docdb_batch_op ops[2] = {
                {DOCDB_BATCH_PUT, id, bytes(value), len},
                {DOCDB_BATCH_PUT, id2, bytes(value2), strlen(value2)},
            };
            docdb_status statuses[2];
            check("batch", docdb_db_batch(db, ops, 2, statuses, NULL));
            strcpy(model[k], value);
            strcpy(model[k2], value2);
            present[k] = present[k2] = 1;
            break;
        }
        case 5: {
            int found = read_doc(db, id, got, sizeof got);
            if (found != present[k] || (found && strcmp(got, model[k]) != 0)) {
                fprintf(stderr, "worker.c: read of %" PRIu64 " gave %s, model %s\n", id,
                        found ? got : "(none)", present[k] ? model[k] : "(none)");
                return 1;
            }
            break;
        }
        case 6: {
            int other = (w + 1) % 8;
            uint64_t oid = (uint64_t)(other + 1) * 1000000 + (uint64_t)k;
            char prefix[64];
            snprintf(prefix, sizeof prefix, "w%d:%" PRIu64 ":", other, oid);
            if (read_doc(db, oid, got, sizeof got) && strncmp(got, prefix, strlen(prefix)) != 0) {
                fprintf(stderr, "worker.c: read of %" PRIu64 " gave %s\n", oid, got);
                return 1;
            }
            break;
        }
        default:
            for (;;) {
                docdb_txn *tx = NULL;
                check("begin", docdb_db_begin(db, &tx));
                docdb_buf b = {0};
                check("txn read", docdb_txn_read(tx, 1, &b));
                char counter[32];
                size_t n = b.len < sizeof counter - 1 ? b.len : sizeof counter - 1;
                memcpy(counter, b.data, n);
                counter[n] = '\0';
                docdb_buf_free(&b);
                snprintf(counter, sizeof counter, "%llu", strtoull(counter, NULL, 10) + 1);
                check("txn put", docdb_txn_put(tx, 1, bytes(counter), strlen(counter)));
                check("txn put", docdb_txn_put(tx, id, bytes(value), len));
                docdb_status st = docdb_txn_commit(tx, NULL);
                docdb_txn_free(tx);
                if (st == DOCDB_CONFLICT) {
                    conflicts++;
                    continue;
                }
                check("commit", st);
                break;
            }
            strcpy(model[k], value);
            present[k] = 1;
            increments++;
        }
    }

    /* The final check: a range read of this worker's ids equals the model. */
    docdb_range own = {DOCDB_BOUND_INCLUDED, base, DOCDB_BOUND_EXCLUDED, base + K, false, false, 0};
    docdb_snapshot_scan *scan = NULL;
    int seen[K] = {0};
    check("range", docdb_db_range_new(db, &own, &scan));
    for (;;) {
        uint64_t id = 0;
        docdb_buf b = {0};
        bool done = false;
        check("range next", docdb_snapshot_scan_next(scan, &id, &b, &done));
        if (done) break;
        int k = (int)(id - base);
        int same = k >= 0 && k < K && present[k] && b.len == strlen(model[k]) &&
                   memcmp(b.data, model[k], b.len) == 0;
        docdb_buf_free(&b);
        if (!same) {
            fprintf(stderr, "worker.c: the range gave %" PRIu64 " differing from the model\n", id);
            return 1;
        }
        seen[k] = 1;
    }
    docdb_snapshot_scan_free(scan);
    for (int k = 0; k < K; k++) {
        if (seen[k] != present[k]) {
            fprintf(stderr, "worker.c: the range misses %" PRIu64 "\n", base + (uint64_t)k);
            return 1;
        }
    }

    printf("{\"worker\": %d, \"lang\": \"c\", \"increments\": %d, \"conflicts\": %d, \"model\": {",
           w, increments, conflicts);
    int first = 1;
    for (int k = 0; k < K; k++) {
        if (!present[k]) continue;
        printf("%s\"%" PRIu64 "\": \"%s\"", first ? "" : ", ", base + (uint64_t)k, model[k]);
        first = 0;
    }
    printf("}}\n");
    docdb_db_free(db);
    check("close", docdb_store_close(store));
    docdb_store_free(store);
    return 0;
}
