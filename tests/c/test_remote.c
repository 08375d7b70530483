/*
 * C tests of docdb_store_connect: a store served by `docdb serve` behaves through the same
 * functions as a local one; bad URLs and options, an unreachable server, a wrong token,
 * and a server killed under the client (DOCDB_UNAVAILABLE, never a hang; the same handle
 * works again once the server is back). Usage: test_remote PATH/TO/docdb. Run under
 * valgrind by `make test-c` (the server itself runs natively: valgrind does not follow
 * exec). Prints "N passed, M failed" last; exits non-zero on any failure.
 */
#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "docdb.h"

#include "harness.h"

static const char *g_docdb;     /* the docdb executable */
static char g_data[512];        /* the served data directory */
static char g_sock[512];        /* its Unix socket */
static char g_url[600];         /* unix://<g_sock> */
static char g_token_file[512];
static const char *TOKEN = "s3cret-token";
static pid_t g_server = -1;

static const uint8_t *B(const char *s) { return (const uint8_t *)s; }

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static docdb_connect_options token_options(void) {
    docdb_connect_options o = docdb_connect_options_default();
    o.token = TOKEN;
    o.connect_timeout_ms = 5000;
    return o;
}

/* Starts `docdb serve` on g_data/g_sock with the token and waits until it answers. */
static int start_server(void) {
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        execl(g_docdb, "docdb", "serve", "--data", g_data, "--unix", g_sock, "--token-file",
              g_token_file, "--auth-delay", "10ms", "--log-level", "error", (char *)NULL);
        _exit(127);
    }
    g_server = pid;
    docdb_connect_options o = token_options();
    for (int i = 0; i < 3000; i++) {
        docdb_store *s = NULL;
        if (docdb_store_connect(g_url, &o, &s) == DOCDB_OK) {
            docdb_store_free(s);
            return 1;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "  the server exited at start (status %d)\n", st);
            g_server = -1;
            return 0;
        }
        sleep_ms(10);
    }
    return 0;
}

static void kill_server(void) {
    if (g_server > 0) {
        kill(g_server, SIGKILL);
        waitpid(g_server, NULL, 0);
        g_server = -1;
    }
}

static docdb_store *connect_ok(void) {
    docdb_connect_options o = token_options();
    docdb_store *s = NULL;
    OK(docdb_store_connect(g_url, &o, &s));
    CHECK(s != NULL);
    return s;
}

static int doc_is(const docdb_db *db, uint64_t id, const char *want) {
    docdb_buf b = {0};
    if (docdb_db_read(db, id, &b) != DOCDB_OK) return 0;
    int same = b.len == strlen(want) && memcmp(b.data, want, b.len) == 0;
    docdb_buf_free(&b);
    return same;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_connect_options_default(void) {
    docdb_connect_options o = docdb_connect_options_default();
    CHECK(o.token == NULL && o.tls_ca_file == NULL && o.tls_server_name == NULL);
    CHECK(o.connect_timeout_ms == 10000);
    CHECK(o.request_timeout_ms == 300000);
    CHECK(o.pool_size == 8);
}

static void test_bad_urls_and_options(void) {
    docdb_store *s = (docdb_store *)0x1;
    EXPECT(docdb_store_connect(NULL, NULL, &s), DOCDB_INVALID_ARGUMENT);
    CHECK(strstr(docdb_errmsg(), "url is NULL") != NULL);
    EXPECT(docdb_store_connect(g_url, NULL, NULL), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_store_connect("http://localhost:80", NULL, &s), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_store_connect("unix://", NULL, &s), DOCDB_INVALID_ARGUMENT);
    EXPECT(docdb_store_connect("tcp://no-port", NULL, &s), DOCDB_INVALID_ARGUMENT);
    docdb_connect_options o = docdb_connect_options_default();
    o.connect_timeout_ms = 0;
    EXPECT(docdb_store_connect(g_url, &o, &s), DOCDB_INVALID_ARGUMENT);
    CHECK(strstr(docdb_errmsg(), "connect_timeout_ms") != NULL);
    CHECK(s == (docdb_store *)0x1); /* on failure *out is unchanged */
    /* tls:// without a CA file: the message names the C field. */
    o = docdb_connect_options_default();
    EXPECT(docdb_store_connect("tls://localhost:7707", &o, &s), DOCDB_INVALID_ARGUMENT);
    CHECK(strstr(docdb_errmsg(), "tls_ca_file") != NULL);
}

static void test_unreachable_server(void) {
    docdb_store *s = (docdb_store *)0x1;
    char url[600];
    snprintf(url, sizeof url, "unix://%s/nobody-listens.sock", g_root);
    EXPECT(docdb_store_connect(url, NULL, &s), DOCDB_UNAVAILABLE);
    /* Port 1 on the loopback: nothing listens there, the connection is refused. */
    EXPECT(docdb_store_connect("tcp://127.0.0.1:1", NULL, &s), DOCDB_UNAVAILABLE);
    CHECK(s == (docdb_store *)0x1);
}

static void test_wrong_token(void) {
    docdb_connect_options o = token_options();
    o.token = "not-the-token";
    docdb_store *s = (docdb_store *)0x1;
    EXPECT(docdb_store_connect(g_url, &o, &s), DOCDB_INVALID_ARGUMENT);
    CHECK(strstr(docdb_errmsg(), "token") != NULL);
    o.token = NULL;
    EXPECT(docdb_store_connect(g_url, &o, &s), DOCDB_INVALID_ARGUMENT);
    CHECK(s == (docdb_store *)0x1);
}

static void test_remote_operations(void) {
    docdb_store *s = connect_ok();
    CHECK(strcmp(docdb_store_path(s), g_url) == 0);
    CHECK(!docdb_store_is_closed(s));
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "people", &db));
    EXPECT(docdb_store_create_db(s, "people", &db), DOCDB_ALREADY_EXISTS);
    EXPECT(docdb_store_open_db(s, "nobody", &db), DOCDB_NOT_FOUND);
    EXPECT(docdb_store_create_db(s, "bad name", &db), DOCDB_INVALID_NAME);
    CHECK(strcmp(docdb_db_name(db), "people") == 0);

    OK(docdb_db_create(db, 1, B("ada"), 3));
    EXPECT(docdb_db_create(db, 1, B("ada"), 3), DOCDB_ALREADY_EXISTS);
    OK(docdb_db_update(db, 1, B("Ada"), 3));
    OK(docdb_db_put(db, 2, B("Charles"), 7));
    CHECK(doc_is(db, 1, "Ada"));
    EXPECT(docdb_db_update(db, 3, B("x"), 1), DOCDB_NOT_FOUND);
    uint8_t small[4];
    size_t n = 0;
    OK(docdb_db_read_into(db, 2, small, sizeof small, &n));
    CHECK(n == 7); /* too small: the length is reported, nothing copied */
    uint8_t big[16];
    OK(docdb_db_read_into(db, 2, big, sizeof big, &n));
    CHECK(n == 7 && memcmp(big, "Charles", 7) == 0);
    bool found = false;
    OK(docdb_db_contains(db, 2, &found));
    CHECK(found);
    uint64_t len = 0;
    OK(docdb_db_len(db, &len));
    CHECK(len == 2);

    docdb_batch_op ops[2] = {
        {.kind = DOCDB_BATCH_PUT, .id = 3, .data = B("three"), .len = 5},
        {.kind = DOCDB_BATCH_CREATE, .id = 1, .data = B("dup"), .len = 3},
    };
    docdb_status statuses[2] = {DOCDB_IO, DOCDB_IO};
    uint64_t version = 0;
    EXPECT(docdb_db_batch(db, ops, 2, statuses, &version), DOCDB_ALREADY_EXISTS);
    CHECK(statuses[0] == DOCDB_OK && statuses[1] == DOCDB_ALREADY_EXISTS);
    OK(docdb_db_contains(db, 3, &found));
    CHECK(!found);
    OK(docdb_db_batch(db, ops, 1, NULL, &version));
    CHECK(version > 0);

    docdb_txn *t1 = NULL, *t2 = NULL;
    OK(docdb_db_begin(db, &t1));
    OK(docdb_db_begin(db, &t2));
    OK(docdb_txn_put(t1, 1, B("t1"), 2));
    OK(docdb_txn_put(t2, 1, B("t2"), 2));
    size_t pending = 0;
    OK(docdb_txn_pending(t1, &pending));
    CHECK(pending == 1);
    OK(docdb_txn_commit(t1, &version));
    EXPECT(docdb_txn_commit(t2, &version), DOCDB_CONFLICT);
    EXPECT(docdb_txn_put(t2, 9, B("x"), 1), DOCDB_CLOSED);
    docdb_txn_free(t1);
    docdb_txn_free(t2);
    CHECK(doc_is(db, 1, "t1"));

    docdb_snapshot *snap = NULL;
    OK(docdb_db_snapshot(db, &snap));
    OK(docdb_db_delete(db, 2));
    EXPECT(docdb_db_delete(db, 2), DOCDB_NOT_FOUND);
    OK(docdb_snapshot_len(snap, &len));
    CHECK(len == 3);
    docdb_snapshot_scan *scan = NULL;
    OK(docdb_snapshot_scan_new(snap, &scan));
    docdb_snapshot_free(snap); /* the scan keeps the view */
    uint64_t ids[4] = {0}, id = 0;
    int count = 0;
    for (;;) {
        docdb_buf doc = {0};
        bool done = false;
        OK(docdb_snapshot_scan_next(scan, &id, &doc, &done));
        if (done || count == 4) break;
        ids[count++] = id;
        docdb_buf_free(&doc);
    }
    docdb_snapshot_scan_free(scan);
    CHECK(count == 3 && ids[0] == 1 && ids[1] == 2 && ids[2] == 3);

    docdb_db_stats dst;
    OK(docdb_db_get_stats(db, &dst));
    CHECK(dst.documents == 2);
    docdb_store_stats sst;
    OK(docdb_store_get_stats(s, &sst));
    CHECK(sst.databases_active >= 1);
    uint64_t reclaimed = 0;
    OK(docdb_db_compact(db, &reclaimed));
    OK(docdb_db_checkpoint(db));
    OK(docdb_db_sync(db));
    OK(docdb_store_checkpoint(s));
    OK(docdb_store_sync(s));
    docdb_db_list list = {0};
    OK(docdb_store_list_dbs(s, &list));
    CHECK(list.len == 1 && strcmp(list.items[0].name, "people") == 0);
    docdb_db_list_free(&list);

    char dest[600];
    snprintf(dest, sizeof dest, "%s/remote-backup", g_root);
    EXPECT(docdb_store_backup(s, dest, NULL, NULL), DOCDB_INVALID_ARGUMENT);
    CHECK(strstr(docdb_errmsg(), "host of the server") != NULL);
    CHECK(access(dest, F_OK) != 0);

    /* Closing the client leaves the server and its data alone. */
    OK(docdb_store_close(s));
    CHECK(docdb_store_is_closed(s));
    EXPECT(docdb_db_put(db, 5, B("x"), 1), DOCDB_CLOSED);
    docdb_db_free(db);
    docdb_store_free(s);
    s = connect_ok();
    OK(docdb_store_open_db(s, "people", &db));
    CHECK(doc_is(db, 3, "three"));
    OK(docdb_store_drop_db(s, "people"));
    EXPECT(docdb_db_read(db, 3, &(docdb_buf){0}), DOCDB_CLOSED);
    docdb_db_free(db);
    docdb_store_free(s);
}

/* Two clients of one server see each other's commits at once. */
static void test_two_clients_share_one_store(void) {
    docdb_store *a = connect_ok(), *b = connect_ok();
    docdb_db *da = NULL, *db = NULL;
    OK(docdb_store_open_or_create_db(a, "shared", &da));
    OK(docdb_store_open_or_create_db(b, "shared", &db));
    OK(docdb_db_put(da, 7, B("from a"), 6));
    CHECK(doc_is(db, 7, "from a"));
    docdb_db_free(da);
    docdb_db_free(db);
    docdb_store_free(a);
    docdb_store_free(b);
}

/* A server that accepts but never answers (stopped): connecting fails within the connect
 * timeout, even without a request timeout, and the message says which timeout. */
static void test_stopped_server_and_the_connect_timeout(void) {
    docdb_connect_options o = token_options();
    o.connect_timeout_ms = 300, o.request_timeout_ms = 0;
    docdb_store *s = (docdb_store *)0x1;
    CHECK(kill(g_server, SIGSTOP) == 0);
    /* kill only queues the signal: wait until the server has stopped, or it could still
     * answer the handshake. */
    int st = 0;
    CHECK(waitpid(g_server, &st, WUNTRACED) == g_server && WIFSTOPPED(st));
    alarm(60);
    EXPECT(docdb_store_connect(g_url, &o, &s), DOCDB_UNAVAILABLE);
    alarm(0);
    CHECK(kill(g_server, SIGCONT) == 0);
    CHECK(strstr(docdb_errmsg(), "connect timeout") != NULL);
    CHECK(strstr(docdb_errmsg(), "outcome") == NULL); /* nothing was asked of the store */
    CHECK(s == (docdb_store *)0x1);
    OK(docdb_store_connect(g_url, &o, &s));
    docdb_store_free(s);
}

/* kill -9 of the server: every call fails with UNAVAILABLE (SIGALRM ends the run if one
 * hangs), and once it is back the same handles work again with every acknowledged write. */
static void test_server_killed(void) {
    docdb_store *s = connect_ok();
    docdb_db *db = NULL;
    OK(docdb_store_open_or_create_db(s, "survivor", &db));
    OK(docdb_db_put(db, 1, B("acknowledged"), 12));
    docdb_txn *txn = NULL;
    OK(docdb_db_begin(db, &txn));
    OK(docdb_txn_put(txn, 2, B("in flight"), 9));

    kill_server();
    alarm(120);
    docdb_buf b = {0};
    EXPECT(docdb_db_read(db, 1, &b), DOCDB_UNAVAILABLE);
    EXPECT(docdb_db_put(db, 3, B("x"), 1), DOCDB_UNAVAILABLE);
    uint64_t v = 0;
    EXPECT(docdb_txn_commit(txn, &v), DOCDB_UNAVAILABLE);
    docdb_txn_free(txn);
    docdb_store *other = (docdb_store *)0x1;
    docdb_connect_options o = token_options();
    EXPECT(docdb_store_connect(g_url, &o, &other), DOCDB_UNAVAILABLE);
    alarm(0);

    CHECK(start_server());
    CHECK(doc_is(db, 1, "acknowledged"));
    bool found = true;
    OK(docdb_db_contains(db, 2, &found));
    CHECK(!found); /* the transaction died with its connection */
    docdb_db_free(db);
    docdb_store_free(s);
}

/* Ranges over the server: more documents than a server page (1,024) and than a
 * transaction batch of the C scan (256), from a snapshot, the database and a transaction. */
static void test_remote_ranges(void) {
    docdb_store *s = connect_ok();
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "ranges", &db));
    enum { N = 3000 };
    static docdb_batch_op ops[N];
    static char data[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(data[i], sizeof data[i], "r%d", 2 * i);
        ops[i].kind = DOCDB_BATCH_PUT, ops[i].id = 2 * (uint64_t)i;
        ops[i].data = B(data[i]), ops[i].len = strlen(data[i]);
    }
    OK(docdb_db_batch(db, ops, N, NULL, NULL));
    docdb_snapshot *snap = NULL;
    OK(docdb_db_snapshot(db, &snap));
    OK(docdb_db_put(db, 1, B("r1"), 2)); /* after the snapshot */

    docdb_snapshot_scan *scan = NULL;
    uint64_t first = 0, count = 0;
    OK(docdb_snapshot_range_new(snap, NULL, &scan));
    CHECK(drain_scan(scan, "r", 1, &first, 1) == N && first == 0);
    docdb_range r;
    memset(&r, 0, sizeof r);
    r.start_kind = DOCDB_BOUND_EXCLUDED, r.start = 10;
    r.end_kind = DOCDB_BOUND_INCLUDED, r.end = 5000;
    r.reverse = true, r.has_limit = true, r.limit = 2000;
    OK(docdb_snapshot_range_new(snap, &r, &scan));
    CHECK(drain_scan(scan, "r", -1, &first, 1) == 2000 && first == 5000);
    OK(docdb_snapshot_count(snap, &r, &count));
    CHECK(count == 2000);
    r.has_limit = false;
    OK(docdb_snapshot_count(snap, &r, &count));
    CHECK(count == 2495); /* 12, 14, ..., 5000 */

    /* The database as it is now (id 1 included), in one scan over several pages. */
    OK(docdb_db_range_new(db, NULL, &scan));
    CHECK(drain_scan(scan, "r", 1, &first, 1) == N + 1 && first == 0);
    OK(docdb_db_count(db, NULL, &count));
    CHECK(count == N + 1);

    /* A transaction's view, with its own writes, over several batches and pages. */
    docdb_txn *t = NULL;
    OK(docdb_db_begin(db, &t));
    OK(docdb_txn_delete(t, 0));
    OK(docdb_txn_put(t, 3, B("r3"), 2));
    memset(&r, 0, sizeof r);
    r.end_kind = DOCDB_BOUND_EXCLUDED, r.end = 4000;
    OK(docdb_txn_range_new(t, &r, &scan));
    CHECK(drain_scan(scan, "r", 1, &first, 1) == 2001 && first == 1); /* 1, 2, 3, 4, ..., 3998 */
    OK(docdb_txn_count(t, &r, &count));
    CHECK(count == 2001);
    r.reverse = true, r.has_limit = true, r.limit = 1500;
    OK(docdb_txn_count(t, &r, &count));
    CHECK(count == 1500);
    OK(docdb_txn_count(t, NULL, &count));
    CHECK(count == N + 1); /* 0 deleted, 3 staged */
    OK(docdb_txn_rollback(t));
    EXPECT(docdb_txn_count(t, NULL, &count), DOCDB_CLOSED);
    docdb_txn_free(t);

    /* Scans opened before the store is closed end with CLOSED at their next document, as
     * locally, though the client holds a page of each. */
    docdb_snapshot_scan *open_scans[3] = {NULL, NULL, NULL};
    OK(docdb_db_begin(db, &t));
    open_ranges(t, snap, db, open_scans);
    docdb_snapshot_free(snap);
    OK(docdb_store_close(s));
    check_closed_ranges(t, open_scans);
    EXPECT(docdb_db_range_new(db, NULL, &scan), DOCDB_CLOSED);
    EXPECT(docdb_db_count(db, NULL, &count), DOCDB_CLOSED);
    docdb_db_free(db);
    docdb_store_free(s);
}

/* A batch larger than one request (the server's --max-frame, 32 MiB) fails as a whole
 * with PAYLOAD_TOO_LARGE, nothing applied; the connection stays usable. */
static void test_remote_batch_over_one_request(void) {
    docdb_store *s = connect_ok();
    docdb_db *db = NULL;
    OK(docdb_store_create_db(s, "bigbatch", &db));
    size_t size = 12u << 20;
    uint8_t *doc = calloc(size, 1);
    CHECK(doc != NULL);
    docdb_batch_op ops[3] = {{DOCDB_BATCH_PUT, 1, doc, size},
                             {DOCDB_BATCH_PUT, 2, doc, size},
                             {DOCDB_BATCH_PUT, 3, doc, size}};
    docdb_status st[3] = {DOCDB_IO, DOCDB_IO, DOCDB_IO};
    EXPECT(docdb_db_batch(db, ops, 3, st, NULL), DOCDB_PAYLOAD_TOO_LARGE);
    CHECK(st[0] == DOCDB_OK && st[1] == DOCDB_OK && st[2] == DOCDB_OK);
    uint64_t n = 99;
    OK(docdb_db_len(db, &n));
    CHECK(n == 0);
    OK(docdb_db_batch(db, ops, 2, st, NULL)); /* 24 MiB: one request */
    OK(docdb_db_len(db, &n));
    CHECK(n == 2);
    free(doc);
    docdb_db_free(db);
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

static void test_remote_ranges_at_the_id_edges(void) {
    docdb_store *s = connect_ok();
    check_id_edges(s, "edges");
    OK(docdb_store_close(s));
    docdb_store_free(s);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH/TO/docdb\n", argv[0]);
        return 2;
    }
    g_docdb = argv[1];
    snprintf(g_root, sizeof g_root, "/tmp/docdb-c-remote-XXXXXX");
    if (mkdtemp(g_root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(g_data, sizeof g_data, "%s/data", g_root);
    snprintf(g_sock, sizeof g_sock, "%s/docdb.sock", g_root);
    snprintf(g_url, sizeof g_url, "unix://%s", g_sock);
    snprintf(g_token_file, sizeof g_token_file, "%s/token", g_root);
    FILE *f = fopen(g_token_file, "w");
    if (f == NULL || fputs(TOKEN, f) < 0 || fclose(f) != 0) {
        perror("token file");
        return 1;
    }

    RUN(test_connect_options_default);
    RUN(test_bad_urls_and_options);
    RUN(test_unreachable_server);
    if (!start_server()) {
        fprintf(stderr, "cannot start %s serve\n", g_docdb);
        rm_rf(g_root);
        return 1;
    }
    RUN(test_wrong_token);
    RUN(test_remote_operations);
    RUN(test_remote_ranges);
    RUN(test_remote_ranges_at_the_id_edges);
    RUN(test_remote_batch_over_one_request);
    RUN(test_two_clients_share_one_store);
    RUN(test_stopped_server_and_the_connect_timeout);
    RUN(test_server_killed);

    kill_server();
    rm_rf(g_root);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
