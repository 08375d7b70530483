/*
 * notes: a small command-line notes store on DocDB's C API.
 *
 *   notes DIR add TEXT        add a note, print its id
 *   notes DIR edit ID TEXT    replace a note
 *   notes DIR rm ID           delete a note
 *   notes DIR show ID         print one note
 *   notes DIR list            print every note, by id
 *   notes DIR stats           print the database's statistics
 *
 * Build: cc -std=c99 notes.c $(pkg-config --cflags --libs docdb) -o notes
 */
#include <docdb.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the failed call's status and message, and returns the exit code 1. */
static int fail(const char *what, docdb_status st) {
    fprintf(stderr, "notes: %s: %s: %s\n", what, docdb_status_str(st), docdb_errmsg());
    return 1;
}

static int parse_id(const char *s, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
        fprintf(stderr, "notes: '%s' is not a note id\n", s);
        return 0;
    }
    *out = (uint64_t)v;
    return 1;
}

/* The next free id: one past the largest, found from a snapshot's id list. */
static docdb_status next_id(const docdb_db *db, uint64_t *out) {
    docdb_snapshot *snap = NULL;
    docdb_status st = docdb_db_snapshot(db, &snap);
    if (st != DOCDB_OK) return st;
    docdb_id_list ids = {NULL, 0, 0};
    st = docdb_snapshot_ids(snap, &ids);
    if (st == DOCDB_OK) {
        *out = ids.len == 0 ? 1 : ids.ids[ids.len - 1] + 1;
        docdb_id_list_free(&ids);
    }
    docdb_snapshot_free(snap);
    return st;
}

static int cmd_add(const docdb_db *db, const char *text) {
    /* Read the next id and create the note in one transaction: two concurrent `add`s
       cannot both take the same id (the loser gets DOCDB_CONFLICT and retries). */
    for (int attempt = 0; attempt < 5; attempt++) {
        uint64_t id = 0;
        docdb_status st = next_id(db, &id);
        if (st != DOCDB_OK) return fail("add", st);
        docdb_txn *txn = NULL;
        st = docdb_db_begin(db, &txn);
        if (st != DOCDB_OK) return fail("add", st);
        st = docdb_txn_create(txn, id, (const uint8_t *)text, strlen(text));
        if (st == DOCDB_OK) st = docdb_txn_commit(txn, NULL);
        docdb_txn_free(txn);
        if (st == DOCDB_OK) {
            printf("added note %" PRIu64 "\n", id);
            return 0;
        }
        if (st != DOCDB_CONFLICT && st != DOCDB_ALREADY_EXISTS) return fail("add", st);
    }
    fprintf(stderr, "notes: add: too much contention, try again\n");
    return 1;
}

static int cmd_edit(const docdb_db *db, uint64_t id, const char *text) {
    docdb_status st = docdb_db_update(db, id, (const uint8_t *)text, strlen(text));
    if (st != DOCDB_OK) return fail("edit", st);
    printf("edited note %" PRIu64 "\n", id);
    return 0;
}

static int cmd_rm(const docdb_db *db, uint64_t id) {
    docdb_status st = docdb_db_delete(db, id);
    if (st != DOCDB_OK) return fail("rm", st);
    printf("removed note %" PRIu64 "\n", id);
    return 0;
}

static int cmd_show(const docdb_db *db, uint64_t id) {
    docdb_buf buf = {NULL, 0, 0};
    docdb_status st = docdb_db_read(db, id, &buf);
    if (st != DOCDB_OK) return fail("show", st);
    printf("%4" PRIu64 "  %.*s\n", id, (int)buf.len, (const char *)buf.data);
    docdb_buf_free(&buf);
    return 0;
}

static int cmd_list(const docdb_db *db) {
    docdb_snapshot *snap = NULL;
    docdb_status st = docdb_db_snapshot(db, &snap);
    if (st != DOCDB_OK) return fail("list", st);
    docdb_snapshot_scan *scan = NULL;
    st = docdb_snapshot_scan_new(snap, &scan);
    docdb_snapshot_free(snap); /* the scan keeps the snapshot's view */
    if (st != DOCDB_OK) return fail("list", st);
    uint64_t count = 0;
    for (;;) {
        uint64_t id = 0;
        bool done = false;
        docdb_buf doc = {NULL, 0, 0};
        st = docdb_snapshot_scan_next(scan, &id, &doc, &done);
        if (st != DOCDB_OK) {
            /* A damaged note is reported and skipped; a closed store ends the scan. */
            fprintf(stderr, "notes: list: %s: %s\n", docdb_status_str(st), docdb_errmsg());
            if (st == DOCDB_CLOSED) break;
            continue;
        }
        if (done) break;
        printf("%4" PRIu64 "  %.*s\n", id, (int)doc.len, (const char *)doc.data);
        docdb_buf_free(&doc);
        count++;
    }
    docdb_snapshot_scan_free(scan);
    printf("(%" PRIu64 " notes)\n", count);
    return 0;
}

static int cmd_stats(const docdb_store *store, const docdb_db *db) {
    docdb_db_stats s;
    docdb_status st = docdb_db_get_stats(db, &s);
    if (st != DOCDB_OK) return fail("stats", st);
    docdb_store_stats ss;
    st = docdb_store_get_stats(store, &ss);
    if (st != DOCDB_OK) return fail("stats", st);
    printf("notes: %" PRIu64 " documents, %" PRIu64 " log bytes (%" PRIu64 " live, %" PRIu64
           " dead) in %" PRIu64 " segment(s), version %" PRIu64 "\n",
           s.documents, s.log_bytes, s.live_bytes, s.dead_bytes, s.segments, s.last_version);
    printf("store: %" PRIu64 " database(s), memory %" PRIu64 " of %" PRIu64 " bytes, docdb %s\n",
           ss.databases_active, ss.memory_used, ss.memory_limit, docdb_version());
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: notes DIR add TEXT | edit ID TEXT | rm ID | show ID | list | stats\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *dir = argv[1], *cmd = argv[2];

    docdb_store *store = NULL;
    docdb_status st = docdb_store_open(dir, NULL, &store);
    if (st != DOCDB_OK) return fail("open", st);
    docdb_db *db = NULL;
    st = docdb_store_open_or_create_db(store, "notes", &db);
    if (st != DOCDB_OK) {
        docdb_store_free(store);
        return fail("open notes", st);
    }

    int rc = 0;
    uint64_t id = 0;
    if (strcmp(cmd, "add") == 0 && argc == 4) {
        rc = cmd_add(db, argv[3]);
    } else if (strcmp(cmd, "edit") == 0 && argc == 5) {
        rc = parse_id(argv[3], &id) ? cmd_edit(db, id, argv[4]) : 2;
    } else if (strcmp(cmd, "rm") == 0 && argc == 4) {
        rc = parse_id(argv[3], &id) ? cmd_rm(db, id) : 2;
    } else if (strcmp(cmd, "show") == 0 && argc == 4) {
        rc = parse_id(argv[3], &id) ? cmd_show(db, id) : 2;
    } else if (strcmp(cmd, "list") == 0 && argc == 3) {
        rc = cmd_list(db);
    } else if (strcmp(cmd, "stats") == 0 && argc == 3) {
        rc = cmd_stats(store, db);
    } else {
        rc = usage();
    }

    docdb_db_free(db);
    /* Close to see its errors (free would close silently). */
    st = docdb_store_close(store);
    if (st != DOCDB_OK && rc == 0) rc = fail("close", st);
    docdb_store_free(store);
    return rc;
}
