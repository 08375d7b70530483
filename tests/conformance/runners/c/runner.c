/* The conformance scenarios (tests/conformance/README.md), run through the C face.
 *
 *   conformance FILE.json...    runs every scenario of the files, prints one line each,
 *                               exits 1 if any failed
 *   conformance --remote DOCDB FILE.json...
 *                               the same, remote mode: each store is served by `DOCDB serve`
 *                               (a server per data directory, started at the first open and
 *                               stopped when its last handle closes, as a local store's files
 *                               close) and opened with docdb_store_connect; scenarios marked
 *                               "local_only" are listed, not run
 *   conformance --open PATH     (used by open_in_other_process) opens and closes PATH;
 *                               the exit status is the docdb_status
 *
 * Contains a small JSON reader (enough for the scenario files: UTF-8 text, \u escapes of
 * the Basic Multilingual Plane and surrogate pairs, numbers up to 2^53). Results of calls
 * are built as the same JSON values, so that one function compares them with `expect`. */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "docdb.h"

/* ------------------------------------------------------------------------------------ */
/* JSON values                                                                          */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct json {
    jtype t;
    bool b;        /* J_BOOL; for J_STR: true if the string holds raw document bytes */
    double num;    /* J_NUM */
    char *str;     /* J_STR (NUL-terminated, may hold NULs when bytes) */
    size_t n;      /* J_STR: length; J_ARR/J_OBJ: number of items */
    struct json *items;
    char **keys;   /* J_OBJ */
} json;

static void kill_servers(void);

static void die(const char *fmt, ...) {
    va_list ap;
    kill_servers();
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) die("out of memory");
    return q;
}

static void push(json *arr, json item, char *key) {
    arr->items = xrealloc(arr->items, (arr->n + 1) * sizeof *arr->items);
    if (arr->t == J_OBJ) {
        arr->keys = xrealloc(arr->keys, (arr->n + 1) * sizeof *arr->keys);
        arr->keys[arr->n] = key;
    }
    arr->items[arr->n++] = item;
}

static void json_free(json *v) {
    size_t i;
    free(v->str);
    for (i = 0; i < v->n && (v->t == J_ARR || v->t == J_OBJ); i++) {
        json_free(&v->items[i]);
        if (v->t == J_OBJ) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

typedef struct {
    const char *p;
    const char *file;
} reader;

static void skip_ws(reader *r) {
    while (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t') r->p++;
}

static void put_utf8(char **buf, size_t *len, unsigned long c) {
    char tmp[4];
    size_t n = 0;
    if (c < 0x80) {
        tmp[n++] = (char)c;
    } else if (c < 0x800) {
        tmp[n++] = (char)(0xC0 | (c >> 6));
        tmp[n++] = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        tmp[n++] = (char)(0xE0 | (c >> 12));
        tmp[n++] = (char)(0x80 | ((c >> 6) & 0x3F));
        tmp[n++] = (char)(0x80 | (c & 0x3F));
    } else {
        tmp[n++] = (char)(0xF0 | (c >> 18));
        tmp[n++] = (char)(0x80 | ((c >> 12) & 0x3F));
        tmp[n++] = (char)(0x80 | ((c >> 6) & 0x3F));
        tmp[n++] = (char)(0x80 | (c & 0x3F));
    }
    *buf = xrealloc(*buf, *len + n + 1);
    memcpy(*buf + *len, tmp, n);
    *len += n;
}

static unsigned long hex4(reader *r) {
    unsigned long c = 0;
    int i;
    for (i = 0; i < 4; i++) {
        char h = *r->p++;
        c <<= 4;
        if (h >= '0' && h <= '9') c |= (unsigned long)(h - '0');
        else if (h >= 'a' && h <= 'f') c |= (unsigned long)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F') c |= (unsigned long)(h - 'A' + 10);
        else die("%s: bad \\u escape", r->file);
    }
    return c;
}

static char *parse_string(reader *r, size_t *out_len) {
    char *buf = xrealloc(NULL, 1);
    size_t len = 0;
    if (*r->p++ != '"') die("%s: expected a string", r->file);
    while (*r->p != '"') {
        char c = *r->p++;
        if (c == '\0') die("%s: unterminated string", r->file);
        if (c == '\\') {
            char e = *r->p++;
            unsigned long u;
            switch (e) {
            case '"': case '\\': case '/': c = e; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u':
                u = hex4(r);
                if (u >= 0xD800 && u < 0xDC00 && r->p[0] == '\\' && r->p[1] == 'u') {
                    r->p += 2;
                    u = 0x10000 + ((u - 0xD800) << 10) + (hex4(r) - 0xDC00);
                }
                put_utf8(&buf, &len, u);
                continue;
            default: die("%s: bad escape \\%c", r->file, e);
            }
        }
        buf = xrealloc(buf, len + 2);
        buf[len++] = c;
    }
    r->p++;
    buf[len] = '\0';
    *out_len = len;
    return buf;
}

static json parse_value(reader *r) {
    json v;
    memset(&v, 0, sizeof v);
    skip_ws(r);
    if (*r->p == '{' || *r->p == '[') {
        char close = *r->p == '{' ? '}' : ']';
        v.t = *r->p == '{' ? J_OBJ : J_ARR;
        r->p++;
        skip_ws(r);
        if (*r->p == close) {
            r->p++;
            return v;
        }
        for (;;) {
            char *key = NULL;
            json item;
            skip_ws(r);
            if (v.t == J_OBJ) {
                size_t klen;
                key = parse_string(r, &klen);
                skip_ws(r);
                if (*r->p++ != ':') die("%s: expected ':'", r->file);
            }
            item = parse_value(r);
            push(&v, item, key);
            skip_ws(r);
            if (*r->p == ',') {
                r->p++;
                continue;
            }
            if (*r->p++ != close) die("%s: expected '%c'", r->file, close);
            return v;
        }
    }
    if (*r->p == '"') {
        v.t = J_STR;
        v.str = parse_string(r, &v.n);
        return v;
    }
    if (strncmp(r->p, "true", 4) == 0 || strncmp(r->p, "false", 5) == 0) {
        v.t = J_BOOL;
        v.b = *r->p == 't';
        r->p += v.b ? 4 : 5;
        return v;
    }
    if (strncmp(r->p, "null", 4) == 0) {
        r->p += 4;
        return v;
    }
    {
        char *end;
        v.t = J_NUM;
        v.num = strtod(r->p, &end);
        if (end == r->p) die("%s: unexpected text near '%.20s'", r->file, r->p);
        r->p = end;
    }
    return v;
}

static const json *get(const json *obj, const char *key) {
    size_t i;
    if (!obj || obj->t != J_OBJ) return NULL;
    for (i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

static json j_container(jtype t) {
    json v;
    memset(&v, 0, sizeof v);
    v.t = t;
    return v;
}

static json j_num(double x) {
    json v = j_container(J_NUM);
    v.num = x;
    return v;
}

static json j_bool(bool b) {
    json v = j_container(J_BOOL);
    v.b = b;
    return v;
}

static json j_bytes(const uint8_t *p, size_t n) {
    json v = j_container(J_STR);
    v.b = true;
    v.str = xrealloc(NULL, n + 1);
    if (n) memcpy(v.str, p, n);
    v.str[n] = '\0';
    v.n = n;
    return v;
}

static json j_string(const char *s) {
    json v = j_bytes((const uint8_t *)s, strlen(s));
    v.b = false;
    return v;
}

static void set(json *obj, const char *key, json v) {
    char *k = xrealloc(NULL, strlen(key) + 1);
    strcpy(k, key);
    push(obj, v, k);
}

/* Document data of the format: a string is UTF-8, {"hex": ...} raw bytes. The caller
 * frees the returned buffer. */
static uint8_t *data_of(const json *v, size_t *len) {
    const json *hex = get(v, "hex");
    uint8_t *out;
    size_t i;
    if (v && v->t == J_STR) {
        out = xrealloc(NULL, v->n);
        memcpy(out, v->str, v->n);
        *len = v->n;
        return out;
    }
    if (!hex || hex->t != J_STR || hex->n % 2) die("bad data value");
    *len = hex->n / 2;
    out = xrealloc(NULL, *len);
    for (i = 0; i < *len; i++) {
        unsigned x;
        if (sscanf(hex->str + 2 * i, "%2x", &x) != 1) die("bad hex data");
        out[i] = (uint8_t)x;
    }
    return out;
}

/* Compares a call's result with the format's expected value. */
static bool matches(const json *want, const json *got) {
    size_t i;
    if (got->t == J_STR && got->b) {
        size_t len;
        uint8_t *bytes;
        bool same;
        if (want->t != J_STR && !get(want, "hex")) return false;
        bytes = data_of(want, &len);
        same = len == got->n && (len == 0 || memcmp(bytes, got->str, len) == 0);
        free(bytes);
        return same;
    }
    if (got->t == J_OBJ) {
        if (want->t != J_OBJ) return false;
        for (i = 0; i < want->n; i++) {
            const json *have = get(got, want->keys[i]);
            const json *w = &want->items[i];
            if (!have) return false;
            if (w->t == J_STR && strcmp(w->str, "*") == 0) continue;
            if (!matches(w, have)) return false;
        }
        return true;
    }
    if (got->t != want->t) return false;
    switch (got->t) {
    case J_NULL: return true;
    case J_BOOL: return got->b == want->b;
    case J_NUM: return got->num == want->num;
    case J_STR: return got->n == want->n && memcmp(got->str, want->str, got->n) == 0;
    case J_ARR:
        if (got->n != want->n) return false;
        for (i = 0; i < got->n; i++)
            if (!matches(&want->items[i], &got->items[i])) return false;
        return true;
    default: return false;
    }
}

static void print_json(FILE *f, const json *v) {
    size_t i;
    switch (v->t) {
    case J_NULL: fputs("null", f); break;
    case J_BOOL: fputs(v->b ? "true" : "false", f); break;
    case J_NUM: fprintf(f, "%.17g", v->num); break;
    case J_STR:
        if (v->b) {
            fputs("bytes:", f);
            for (i = 0; i < v->n && i < 64; i++) fprintf(f, "%02x", (unsigned char)v->str[i]);
        } else {
            fprintf(f, "\"%s\"", v->str);
        }
        break;
    case J_ARR:
    case J_OBJ:
        fputc(v->t == J_ARR ? '[' : '{', f);
        for (i = 0; i < v->n; i++) {
            if (i) fputc(',', f);
            if (v->t == J_OBJ) fprintf(f, "\"%s\":", v->keys[i]);
            print_json(f, &v->items[i]);
        }
        fputc(v->t == J_ARR ? ']' : '}', f);
        break;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Handles                                                                              */

typedef enum { H_STORE, H_DB, H_TXN, H_SNAP } htype;

typedef struct {
    char *name;
    htype t;
    void *p;
    bool freed; /* a snapshot released by snap.close (C has no separate close) */
} var;

/* Remote mode: one `docdb serve` per data directory of the scenario. */
typedef struct {
    char dir[4096]; /* realpath of the data directory */
    char url[600];
    pid_t pid;      /* 0 once stopped */
    int clients;    /* store handles connected and not closed */
} server;

typedef struct {
    var *vars;
    size_t n;
    const char *self;   /* this program, for open_in_other_process */
    const char *docdb;  /* remote mode: the docdb executable; NULL for local mode */
    char sockdir[64];   /* remote mode: where the sockets are */
    server servers[16];
    size_t n_servers;
    /* Which server each connected store handle counts on (index), or -1. */
    struct { const void *store; int server; } conns[64];
    size_t n_conns;
} runner;

static runner *g_runner; /* for release(), which frees stores, and die() */

/* die() leaves no server behind. */
static void kill_servers(void) {
    size_t i;
    for (i = 0; g_runner && i < g_runner->n_servers; i++) {
        if (g_runner->servers[i].pid > 0) {
            kill(g_runner->servers[i].pid, SIGKILL);
            waitpid(g_runner->servers[i].pid, NULL, 0);
            g_runner->servers[i].pid = 0;
        }
    }
}

/* Stops server i (SIGTERM: it checkpoints, closes the store and exits, as a local close). */
static void stop_server(runner *r, size_t i) {
    int status;
    if (r->servers[i].pid <= 0) return;
    kill(r->servers[i].pid, SIGTERM);
    if (waitpid(r->servers[i].pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
        die("docdb serve of %s did not stop cleanly", r->servers[i].dir);
    r->servers[i].pid = 0;
}

/* A store handle is closed or freed: its server stops with its last client. */
static void disconnect(runner *r, const void *store) {
    size_t i;
    for (i = 0; i < r->n_conns; i++) {
        if (r->conns[i].store == store) {
            server *sv = &r->servers[r->conns[i].server];
            r->conns[i] = r->conns[--r->n_conns];
            if (--sv->clients == 0) stop_server(r, (size_t)(sv - r->servers));
            return;
        }
    }
}

static void release(var *v) {
    if (!v->freed) {
        switch (v->t) {
        case H_STORE:
            docdb_store_free(v->p);
            if (g_runner) disconnect(g_runner, v->p);
            break;
        case H_DB: docdb_db_free(v->p); break;
        case H_TXN: docdb_txn_free(v->p); break;
        case H_SNAP: docdb_snapshot_free(v->p); break;
        }
    }
    free(v->name);
}

static void release_all(runner *r) {
    size_t i;
    /* Stores last: handles obtained from a store stay valid to free either way, but
     * this way the last free of a store closes it with nothing else left behind. */
    for (i = 0; i < r->n; i++)
        if (r->vars[i].t != H_STORE) release(&r->vars[i]);
    for (i = 0; i < r->n; i++)
        if (r->vars[i].t == H_STORE) release(&r->vars[i]);
    free(r->vars);
    r->vars = NULL;
    r->n = 0;
}

static void bind(runner *r, const char *name, htype t, void *p) {
    size_t i;
    for (i = 0; i < r->n; i++) {
        if (strcmp(r->vars[i].name, name) == 0) {
            release(&r->vars[i]);
            r->vars[i] = r->vars[--r->n];
            break;
        }
    }
    r->vars = xrealloc(r->vars, (r->n + 1) * sizeof *r->vars);
    r->vars[r->n].name = xrealloc(NULL, strlen(name) + 1);
    strcpy(r->vars[r->n].name, name);
    r->vars[r->n].t = t;
    r->vars[r->n].p = p;
    r->vars[r->n].freed = false;
    r->n++;
}

static var *lookup(runner *r, const char *name) {
    size_t i;
    for (i = 0; name && i < r->n; i++)
        if (strcmp(r->vars[i].name, name) == 0) return &r->vars[i];
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Calls                                                                                */

/* The outcome of one call: a status, and on success a value and maybe a handle. */
typedef struct {
    docdb_status st;
    json value;
    htype ht;
    void *handle;
    long batch_index;    /* for a failed batch: the operation whose status is not OK */
    bool failed_outside; /* the runner itself refused the step (message in `why`) */
    char why[256];
} outcome;

static uint64_t u64_arg(const json *args, const char *key) {
    const json *v = get(args, key);
    if (!v || v->t != J_NUM) die("missing number argument '%s'", key);
    return (uint64_t)v->num;
}

static const char *str_arg(const json *args, const char *key) {
    const json *v = get(args, key);
    if (!v || v->t != J_STR) die("missing string argument '%s'", key);
    return v->str;
}

static bool options_of(const json *o, docdb_options *out) {
    size_t i;
    *out = docdb_options_default();
    for (i = 0; o && i < o->n; i++) {
        const char *k = o->keys[i];
        const json *v = &o->items[i];
        uint64_t u = (uint64_t)v->num;
        if (strcmp(k, "sync") == 0) {
            out->sync = strcmp(v->str, "full") == 0     ? (uint32_t)DOCDB_SYNC_FULL
                        : strcmp(v->str, "normal") == 0 ? (uint32_t)DOCDB_SYNC_NORMAL
                                                        : 99u;
        } else if (strcmp(k, "max_document_size") == 0) out->max_document_size = u;
        else if (strcmp(k, "memory_limit") == 0) out->memory_limit = u;
        else if (strcmp(k, "db_memory_limit") == 0) out->db_memory_limit = u;
        else if (strcmp(k, "segment_size") == 0) out->segment_size = u;
        else if (strcmp(k, "compaction_min_dead_bytes") == 0) out->compaction_min_dead_bytes = u;
        else if (strcmp(k, "compaction_dead_ratio") == 0) out->compaction_dead_ratio = v->num;
        else if (strcmp(k, "auto_compact") == 0) out->auto_compact = v->b;
        else if (strcmp(k, "checkpoint_bytes") == 0) out->checkpoint_bytes = u;
        else if (strcmp(k, "index_shards") == 0) out->index_shards = u;
        else if (strcmp(k, "cache_size") == 0) out->cache_size = u;
        else return false;
    }
    return true;
}

static json db_stats_json(const docdb_db *db, const docdb_db_stats *s) {
    json o = j_container(J_OBJ);
    set(&o, "id", j_num((double)s->id));
    set(&o, "name", j_string(docdb_db_name(db)));
    set(&o, "documents", j_num((double)s->documents));
    set(&o, "live_bytes", j_num((double)s->live_bytes));
    set(&o, "dead_bytes", j_num((double)s->dead_bytes));
    set(&o, "log_bytes", j_num((double)s->log_bytes));
    set(&o, "segments", j_num((double)s->segments));
    set(&o, "committed_txns", j_num((double)s->committed_txns));
    set(&o, "compactions", j_num((double)s->compactions));
    set(&o, "checkpoints", j_num((double)s->checkpoints));
    set(&o, "last_version", j_num((double)s->last_version));
    set(&o, "active_readers", j_num((double)s->active_readers));
    set(&o, "memory_used", j_num((double)s->memory_used));
    set(&o, "memory_limit", j_num((double)s->memory_limit));
    set(&o, "poisoned", j_bool(s->poisoned));
    set(&o, "recovered_truncated_bytes", j_num((double)s->recovered_truncated_bytes));
    set(&o, "recovered_replayed_bytes", j_num((double)s->recovered_replayed_bytes));
    return o;
}

static json store_stats_json(const docdb_store_stats *s) {
    json o = j_container(J_OBJ);
    set(&o, "databases_total", j_num((double)s->databases_total));
    set(&o, "databases_active", j_num((double)s->databases_active));
    set(&o, "databases_open", j_num((double)s->databases_open));
    set(&o, "documents", j_num((double)s->documents));
    set(&o, "committed_txns", j_num((double)s->committed_txns));
    set(&o, "log_bytes", j_num((double)s->log_bytes));
    set(&o, "live_bytes", j_num((double)s->live_bytes));
    set(&o, "dead_bytes", j_num((double)s->dead_bytes));
    set(&o, "compactions", j_num((double)s->compactions));
    set(&o, "memory_used", j_num((double)s->memory_used));
    set(&o, "memory_limit", j_num((double)s->memory_limit));
    set(&o, "cache_bytes", j_num((double)s->cache_bytes));
    set(&o, "cache_hits", j_num((double)s->cache_hits));
    set(&o, "cache_misses", j_num((double)s->cache_misses));
    return o;
}

/* The range of a step's bound arguments (gte/gt, lte/lt, reverse, limit). */
static docdb_range range_of(const json *args) {
    docdb_range r;
    const json *v;
    memset(&r, 0, sizeof r);
    if ((v = get(args, "gte"))) r.start_kind = DOCDB_BOUND_INCLUDED, r.start = (uint64_t)v->num;
    if ((v = get(args, "gt"))) r.start_kind = DOCDB_BOUND_EXCLUDED, r.start = (uint64_t)v->num;
    if ((v = get(args, "lte"))) r.end_kind = DOCDB_BOUND_INCLUDED, r.end = (uint64_t)v->num;
    if ((v = get(args, "lt"))) r.end_kind = DOCDB_BOUND_EXCLUDED, r.end = (uint64_t)v->num;
    if ((v = get(args, "reverse"))) r.reverse = v->b;
    if ((v = get(args, "limit"))) r.has_limit = true, r.limit = (uint64_t)v->num;
    return r;
}

/* Drains a scan into [id, data] pairs; st is the status of the call that made it (call
 * that first: C leaves the order of a call's arguments unspecified). */
static docdb_status scan_pairs(docdb_status st, docdb_snapshot_scan *scan, json *out) {
    *out = j_container(J_ARR);
    while (st == DOCDB_OK) {
        uint64_t id = 0;
        docdb_buf buf = {NULL, 0, 0};
        bool done = false;
        json pair;
        st = docdb_snapshot_scan_next(scan, &id, &buf, &done);
        if (st != DOCDB_OK || done) break;
        pair = j_container(J_ARR);
        push(&pair, j_num((double)id), NULL);
        push(&pair, j_bytes(buf.data, buf.len), NULL);
        push(out, pair, NULL);
        docdb_buf_free(&buf);
    }
    docdb_snapshot_scan_free(scan);
    return st;
}

/* A snapshot's documents as [id, data] pairs (`pairs`), or its ids. */
static docdb_status snapshot_list(const docdb_snapshot *snap, bool pairs, json *out) {
    docdb_snapshot_scan *scan = NULL;
    docdb_status st;
    *out = j_container(J_ARR);
    if (!pairs) {
        docdb_id_list ids = {NULL, 0, 0};
        size_t i;
        st = docdb_snapshot_ids(snap, &ids);
        for (i = 0; st == DOCDB_OK && i < ids.len; i++) push(out, j_num((double)ids.ids[i]), NULL);
        docdb_id_list_free(&ids);
        return st;
    }
    json_free(out);
    st = docdb_snapshot_scan_new(snap, &scan);
    return scan_pairs(st, scan, out); /* st is computed first: scan is set */
}

/* The same over a snapshot of `db` taken now (the idiomatic iterations). */
static docdb_status db_list(const docdb_db *db, int what, json *out) {
    docdb_snapshot *snap = NULL;
    docdb_status st = docdb_db_snapshot(db, &snap);
    size_t i;
    *out = j_container(J_ARR);
    if (st != DOCDB_OK) return st;
    st = snapshot_list(snap, what != 0, out);
    docdb_snapshot_free(snap);
    if (st == DOCDB_OK && what == 2) { /* values */
        for (i = 0; i < out->n; i++) {
            json pair = out->items[i];
            out->items[i] = pair.items[1];
            json_free(&pair.items[0]);
            free(pair.items);
        }
    }
    return st;
}

/* A call's number or bool output as the result (the call has returned when these run). */
static docdb_status as_num(docdb_status st, const uint64_t *v, json *out) {
    *out = j_num((double)*v);
    return st;
}

static docdb_status as_bool(docdb_status st, const bool *b, json *out) {
    *out = j_bool(*b);
    return st;
}

static docdb_status read_into(docdb_status st, docdb_buf *buf, json *value) {
    if (st == DOCDB_OK) *value = j_bytes(buf->data, buf->len);
    docdb_buf_free(buf);
    return st;
}

static docdb_status other_process(runner *r, const char *path) {
    int status = 0;
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        execl(r->self, r->self, "--open", path, (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) == 127)
        die("the other process did not run");
    return (docdb_status)WEXITSTATUS(status);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void mkdirs_for(const char *path) {
    char buf[4096];
    char *slash;
    snprintf(buf, sizeof buf, "%s", path);
    for (slash = strchr(buf + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(buf, 0755);
        *slash = '/';
    }
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static json list_dir(const char *path) {
    json out = j_container(J_ARR);
    DIR *d = opendir(path);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, i;
    if (!d) return out;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n] = xrealloc(NULL, strlen(e->d_name) + 1);
        strcpy(names[n++], e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (i = 0; i < n; i++) {
        push(&out, j_string(names[i]), NULL);
        free(names[i]);
    }
    free(names);
    return out;
}

/* Remote mode's `open`: connects to the server of `path`, starting it first if none runs. */
static docdb_status remote_open(runner *r, const char *path, docdb_store **out, char *why,
                                size_t why_len) {
    char dir[4096];
    size_t i;
    server *sv = NULL;
    int tries;
    docdb_status st;
    mkdirs_for(path);
    mkdir(path, 0755);
    if (!realpath(path, dir)) {
        snprintf(why, why_len, "remote mode: cannot resolve %s (scenario should be local_only)",
                 path);
        return DOCDB_INTERNAL;
    }
    for (i = 0; i < r->n_servers; i++)
        if (r->servers[i].pid > 0 && strcmp(r->servers[i].dir, dir) == 0) sv = &r->servers[i];
    if (!sv) {
        char sock[128];
        pid_t pid;
        if (r->n_servers == sizeof r->servers / sizeof r->servers[0]) die("too many servers");
        sv = &r->servers[r->n_servers];
        snprintf(sock, sizeof sock, "%s/s%lu.sock", r->sockdir, (unsigned long)r->n_servers);
        r->n_servers++;
        snprintf(sv->dir, sizeof sv->dir, "%s", dir);
        snprintf(sv->url, sizeof sv->url, "unix://%s", sock);
        sv->clients = 0;
        pid = fork();
        if (pid < 0) die("fork: %s", strerror(errno));
        if (pid == 0) {
            execl(r->docdb, r->docdb, "serve", "--data", dir, "--unix", sock, "--log-level",
                  "error", (char *)NULL);
            _exit(127);
        }
        sv->pid = pid;
    }
    /* Wait for the socket (a fresh server takes a few milliseconds). */
    for (tries = 0;; tries++) {
        int status;
        st = docdb_store_connect(sv->url, NULL, out);
        if (st != DOCDB_UNAVAILABLE || tries == 6000) break;
        if (waitpid(sv->pid, &status, WNOHANG) == sv->pid) {
            sv->pid = 0;
            snprintf(why, why_len, "remote mode: docdb serve of %s exited at start", dir);
            return DOCDB_INTERNAL;
        }
        nanosleep(&(struct timespec){0, 5000000L}, NULL);
    }
    if (st == DOCDB_OK) {
        if (r->n_conns == sizeof r->conns / sizeof r->conns[0]) die("too many connections");
        r->conns[r->n_conns].store = *out;
        r->conns[r->n_conns].server = (int)(sv - r->servers);
        r->n_conns++;
        sv->clients++;
    }
    return st;
}

#define IS(name) (strcmp(call, name) == 0)

/* Runs one step's call; `bytes` is its `data` argument, if any. */
static outcome dispatch(runner *r, const json *step, const uint8_t *bytes, size_t len) {
    outcome o;
    docdb_buf buf = {NULL, 0, 0};
    const char *call = get(step, "call")->str;
    const json *args = get(step, "args");
    const json *on = get(step, "on");
    var *h = lookup(r, on ? on->str : NULL);
    uint64_t n = 0; /* number and bool outputs of the calls */
    bool b = false;
    memset(&o, 0, sizeof o);
    o.st = DOCDB_OK;
    o.batch_index = -1;

    if (IS("fs.write")) {
        FILE *f;
        mkdirs_for(str_arg(args, "path"));
        f = fopen(str_arg(args, "path"), "wb");
        if (!f || (len && fwrite(bytes, 1, len, f) != len)) die("fs.write failed");
        fclose(f);
        return o;
    }
    if (IS("fs.list")) {
        o.value = list_dir(str_arg(args, "path"));
        return o;
    }
    if (IS("fs.exists")) {
        struct stat sb;
        o.value = j_bool(stat(str_arg(args, "path"), &sb) == 0);
        return o;
    }
    if (IS("open") && r->docdb) {
        docdb_store *s = NULL;
        if (get(args, "options")) {
            o.failed_outside = true;
            snprintf(o.why, sizeof o.why,
                     "remote mode: options are the server's (mark the scenario local_only)");
            return o;
        }
        o.st = remote_open(r, str_arg(args, "path"), &s, o.why, sizeof o.why);
        o.failed_outside = o.st == DOCDB_INTERNAL;
        o.ht = H_STORE;
        o.handle = s;
        return o;
    }
    if (IS("open")) {
        docdb_options opts;
        docdb_store *s = NULL;
        if (!options_of(get(args, "options"), &opts)) die("unknown option in %s", call);
        o.st = docdb_store_open(str_arg(args, "path"), &opts, &s);
        o.ht = H_STORE;
        o.handle = s;
        return o;
    }
    if (IS("open_in_other_process")) {
        o.st = other_process(r, str_arg(args, "path"));
        return o;
    }
    if (!h) {
        o.failed_outside = true;
        snprintf(o.why, sizeof o.why, "step names no known handle");
        return o;
    }
    if (h->freed) {
        /* snap.close freed it: C has no separate close (docs/errors.md). */
        o.st = DOCDB_CLOSED;
        return o;
    }

    if (h->t == H_STORE && strncmp(call, "store.", 6) == 0) {
        const docdb_store *s = h->p;
        if (IS("store.close")) {
            o.st = docdb_store_close(s);
            if (o.st == DOCDB_OK) disconnect(r, s);
        }
        else if (IS("store.closed")) o.value = j_bool(docdb_store_is_closed(s));
        else if (IS("store.create_db") || IS("store.open_db") || IS("store.open_or_create_db")) {
            docdb_db *db = NULL;
            const char *name = str_arg(args, "name");
            o.st = IS("store.create_db") ? docdb_store_create_db(s, name, &db)
                   : IS("store.open_db") ? docdb_store_open_db(s, name, &db)
                                         : docdb_store_open_or_create_db(s, name, &db);
            o.ht = H_DB;
            o.handle = db;
        } else if (IS("store.drop_db")) o.st = docdb_store_drop_db(s, str_arg(args, "name"));
        else if (IS("store.list_dbs")) {
            docdb_db_list list = {NULL, 0};
            size_t i;
            o.st = docdb_store_list_dbs(s, &list);
            o.value = j_container(J_ARR);
            for (i = 0; o.st == DOCDB_OK && i < list.len; i++)
                push(&o.value, j_string(list.items[i].name), NULL);
            docdb_db_list_free(&list);
        } else if (IS("store.stats")) {
            docdb_store_stats st;
            o.st = docdb_store_get_stats(s, &st);
            if (o.st == DOCDB_OK) o.value = store_stats_json(&st);
        } else if (IS("store.checkpoint")) o.st = docdb_store_checkpoint(s);
        else if (IS("store.sync")) o.st = docdb_store_sync(s);
        else goto unknown;
        return o;
    }

    if (h->t == H_DB && strncmp(call, "db.", 3) == 0) {
        const docdb_db *db = h->p;
        if (IS("db.create")) o.st = docdb_db_create(db, u64_arg(args, "id"), bytes, len);
        else if (IS("db.update")) o.st = docdb_db_update(db, u64_arg(args, "id"), bytes, len);
        else if (IS("db.put") || IS("db.setitem"))
            o.st = docdb_db_put(db, u64_arg(args, "id"), bytes, len);
        else if (IS("db.read") || IS("db.getitem"))
            o.st = read_into(docdb_db_read(db, u64_arg(args, "id"), &buf), &buf, &o.value);
        else if (IS("db.get")) {
            o.st = read_into(docdb_db_read(db, u64_arg(args, "id"), &buf), &buf, &o.value);
            if (o.st == DOCDB_NOT_FOUND) {
                size_t dlen;
                uint8_t *d = data_of(get(args, "default"), &dlen);
                o.st = DOCDB_OK;
                o.value = j_bytes(d, dlen);
                free(d);
            }
        } else if (IS("db.delete") || IS("db.delitem"))
            o.st = docdb_db_delete(db, u64_arg(args, "id"));
        else if (IS("db.contains") || IS("db.in"))
            o.st = as_bool(docdb_db_contains(db, u64_arg(args, "id"), &b), &b, &o.value);
        else if (IS("db.len") || IS("db.size")) o.st = as_num(docdb_db_len(db, &n), &n, &o.value);
        else if (IS("db.batch")) {
            const json *ops = get(args, "ops");
            docdb_batch_op *cops = xrealloc(NULL, ops->n * sizeof *cops);
            docdb_status *statuses = xrealloc(NULL, ops->n * sizeof *statuses);
            uint8_t **datas = xrealloc(NULL, ops->n * sizeof *datas);
            uint64_t version = 0;
            size_t i;
            for (i = 0; i < ops->n; i++) {
                const char *op = get(&ops->items[i], "op")->str;
                const json *d = get(&ops->items[i], "data");
                cops[i].kind = strcmp(op, "create") == 0   ? (uint32_t)DOCDB_BATCH_CREATE
                               : strcmp(op, "update") == 0 ? (uint32_t)DOCDB_BATCH_UPDATE
                               : strcmp(op, "put") == 0    ? (uint32_t)DOCDB_BATCH_PUT
                               : strcmp(op, "delete") == 0 ? (uint32_t)DOCDB_BATCH_DELETE
                                                           : 99u;
                cops[i].id = u64_arg(&ops->items[i], "id");
                datas[i] = d ? data_of(d, &cops[i].len) : NULL;
                if (!d) cops[i].len = 0;
                cops[i].data = datas[i];
            }
            o.st = docdb_db_batch(db, cops, ops->n, statuses, &version);
            o.value = j_num((double)version);
            for (i = 0; o.st != DOCDB_OK && i < ops->n; i++)
                if (statuses[i] != DOCDB_OK) o.batch_index = (long)i;
            free(statuses);
            for (i = 0; i < ops->n; i++) free(datas[i]);
            free(datas);
            free(cops);
        } else if (IS("db.begin")) {
            docdb_txn *t = NULL;
            o.st = docdb_db_begin(db, &t);
            o.ht = H_TXN;
            o.handle = t;
        } else if (IS("db.snapshot")) {
            docdb_snapshot *p = NULL;
            o.st = docdb_db_snapshot(db, &p);
            o.ht = H_SNAP;
            o.handle = p;
        } else if (IS("db.stats")) {
            docdb_db_stats st;
            o.st = docdb_db_get_stats(db, &st);
            if (o.st == DOCDB_OK) o.value = db_stats_json(db, &st);
        } else if (IS("db.compact")) o.st = as_num(docdb_db_compact(db, &n), &n, &o.value);
        else if (IS("db.checkpoint")) o.st = docdb_db_checkpoint(db);
        else if (IS("db.sync")) o.st = docdb_db_sync(db);
        else if (IS("db.iter")) o.st = db_list(db, 0, &o.value);
        else if (IS("db.items") || IS("db.items_async")) o.st = db_list(db, 1, &o.value);
        else if (IS("db.values")) o.st = db_list(db, 2, &o.value);
        else if (IS("db.range")) {
            docdb_range rg = range_of(args);
            docdb_snapshot_scan *scan = NULL;
            o.st = docdb_db_range_new(db, &rg, &scan);
            o.st = scan_pairs(o.st, scan, &o.value);
        } else if (IS("db.count")) {
            docdb_range rg = range_of(args);
            o.st = as_num(docdb_db_count(db, &rg, &n), &n, &o.value);
        }
        else goto unknown;
        return o;
    }

    if (h->t == H_TXN && strncmp(call, "txn.", 4) == 0) {
        const docdb_txn *t = h->p;
        if (IS("txn.create")) o.st = docdb_txn_create(t, u64_arg(args, "id"), bytes, len);
        else if (IS("txn.update")) o.st = docdb_txn_update(t, u64_arg(args, "id"), bytes, len);
        else if (IS("txn.put")) o.st = docdb_txn_put(t, u64_arg(args, "id"), bytes, len);
        else if (IS("txn.read"))
            o.st = read_into(docdb_txn_read(t, u64_arg(args, "id"), &buf), &buf, &o.value);
        else if (IS("txn.delete")) o.st = docdb_txn_delete(t, u64_arg(args, "id"));
        else if (IS("txn.contains"))
            o.st = as_bool(docdb_txn_contains(t, u64_arg(args, "id"), &b), &b, &o.value);
        else if (IS("txn.pending")) {
            size_t z = 0;
            o.st = docdb_txn_pending(t, &z);
            o.value = j_num((double)z);
        } else if (IS("txn.read_version"))
            o.st = as_num(docdb_txn_read_version(t, &n), &n, &o.value);
        else if (IS("txn.commit")) o.st = as_num(docdb_txn_commit(t, &n), &n, &o.value);
        else if (IS("txn.rollback")) o.st = docdb_txn_rollback(t);
        else if (IS("txn.range")) {
            docdb_range rg = range_of(args);
            docdb_snapshot_scan *scan = NULL;
            o.st = docdb_txn_range_new(t, &rg, &scan);
            o.st = scan_pairs(o.st, scan, &o.value);
        } else if (IS("txn.count")) {
            docdb_range rg = range_of(args);
            o.st = as_num(docdb_txn_count(t, &rg, &n), &n, &o.value);
        }
        else goto unknown;
        return o;
    }

    if (h->t == H_SNAP && strncmp(call, "snap.", 5) == 0) {
        const docdb_snapshot *p = h->p;
        if (IS("snap.read"))
            o.st = read_into(docdb_snapshot_read(p, u64_arg(args, "id"), &buf), &buf, &o.value);
        else if (IS("snap.contains"))
            o.st = as_bool(docdb_snapshot_contains(p, u64_arg(args, "id"), &b), &b, &o.value);
        else if (IS("snap.len")) o.st = as_num(docdb_snapshot_len(p, &n), &n, &o.value);
        else if (IS("snap.version")) o.st = as_num(docdb_snapshot_version(p, &n), &n, &o.value);
        else if (IS("snap.ids")) o.st = snapshot_list(p, false, &o.value);
        else if (IS("snap.scan") || IS("snap.items") || IS("snap.items_async"))
            o.st = snapshot_list(p, true, &o.value);
        else if (IS("snap.range")) {
            docdb_range rg = range_of(args);
            docdb_snapshot_scan *scan = NULL;
            o.st = docdb_snapshot_range_new(p, &rg, &scan);
            o.st = scan_pairs(o.st, scan, &o.value);
        } else if (IS("snap.count")) {
            docdb_range rg = range_of(args);
            o.st = as_num(docdb_snapshot_count(p, &rg, &n), &n, &o.value);
        } else if (IS("snap.close")) {
            docdb_snapshot_free(h->p);
            h->freed = true;
        } else goto unknown;
        return o;
    }

unknown:
    o.failed_outside = true;
    snprintf(o.why, sizeof o.why, "unknown call %s on this handle", call);
    return o;
}

static outcome run_call(runner *r, const json *step) {
    const json *data = get(get(step, "args"), "data");
    size_t len = 0;
    uint8_t *bytes = data ? data_of(data, &len) : NULL;
    outcome o = dispatch(r, step, bytes, len);
    free(bytes);
    return o;
}

/* Runs one scenario; returns true if every step met its expectation. */
static bool run_scenario(runner *r, const json *scenario) {
    const json *steps = get(scenario, "steps");
    const char *name = get(scenario, "name")->str;
    const json *local_only = get(scenario, "local_only");
    char tmpl[] = "/tmp/docdb-conformance-XXXXXX";
    char before[4096];
    bool ok = true;
    size_t i;
    if (local_only && (local_only->t != J_STR || local_only->n == 0))
        die("%s: \"local_only\" must be a string saying why", name);
    if (local_only && r->docdb) {
        printf("local-only %s (%s)\n", name, local_only->str);
        return true;
    }
    if (!getcwd(before, sizeof before) || !mkdtemp(tmpl) || chdir(tmpl) != 0)
        die("cannot make the scenario's directory");
    for (i = 0; ok && i < steps->n; i++) {
        const json *step = &steps->items[i];
        const json *expect = get(step, "expect");
        const json *as = get(step, "as");
        outcome o = run_call(r, step);
        const char *code = docdb_status_str(o.st);
        long index = o.batch_index;
        if (o.failed_outside) {
            ok = false;
        } else if (!expect) {
            ok = o.st == DOCDB_OK;
        } else if (get(expect, "error")) {
            const json *bi = get(expect, "batch_index");
            ok = o.st != DOCDB_OK && strcmp(code, get(expect, "error")->str) == 0 &&
                 (!bi || (long)bi->num == index);
        } else {
            ok = o.st == DOCDB_OK && matches(get(expect, "ok"), &o.value);
        }
        if (o.st == DOCDB_OK && o.handle && as) bind(r, as->str, o.ht, o.handle);
        else if (o.handle) {
            var tmp = {NULL, o.ht, o.handle, false};
            release(&tmp);
        }
        if (!ok) {
            printf("FAIL %s\n  step %lu (%s): expected ", name, (unsigned long)i,
                   get(step, "call")->str);
            if (expect) print_json(stdout, expect); else fputs("success", stdout);
            if (o.failed_outside) printf(", runner: %s\n", o.why);
            else if (o.st != DOCDB_OK)
                printf(", got error %s (batch_index=%ld): %s\n", code, index, docdb_errmsg());
            else {
                fputs(", got ok ", stdout);
                print_json(stdout, &o.value);
                fputc('\n', stdout);
            }
        }
        json_free(&o.value);
    }
    release_all(r);
    for (i = 0; i < r->n_servers; i++) stop_server(r, i);
    r->n_servers = 0;
    r->n_conns = 0;
    if (chdir(before) != 0) die("cannot return to %s", before);
    nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (ok) printf("ok   %s\n", name);
    return ok;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, got;
    char chunk[8192];
    if (!f) die("cannot read %s", path);
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf = xrealloc(buf, len + got + 1);
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(f);
    buf = xrealloc(buf, len + 1);
    buf[len] = '\0';
    return buf;
}

int main(int argc, char **argv) {
    runner r;
    int i, first = 1, passed = 0, failed = 0, local_only = 0;
    memset(&r, 0, sizeof r);
    g_runner = &r;
    if (argc == 3 && strcmp(argv[1], "--open") == 0) {
        docdb_store *s = NULL;
        docdb_status st = docdb_store_open(argv[2], NULL, &s);
        if (st == DOCDB_OK) st = docdb_store_close(s);
        docdb_store_free(s);
        return (int)st;
    }
    /* The runner re-executes itself for open_in_other_process; scenarios change the
     * current directory, so the path must be absolute. */
    r.self = realpath("/proc/self/exe", NULL);
    if (!r.self) die("cannot find this program");
    if (argc > 2 && strcmp(argv[1], "--remote") == 0) {
        r.docdb = realpath(argv[2], NULL);
        if (!r.docdb) die("no docdb executable at %s", argv[2]);
        snprintf(r.sockdir, sizeof r.sockdir, "/tmp/docdb-conf-sock-XXXXXX");
        if (!mkdtemp(r.sockdir)) die("cannot make the sockets' directory");
        first = 3;
    }
    for (i = first; i < argc; i++) {
        char *text = read_file(argv[i]);
        reader rd = {text, argv[i]};
        json file = parse_value(&rd);
        const json *scenarios = get(&file, "scenarios");
        size_t k;
        if (!scenarios || scenarios->t != J_ARR) die("%s: no \"scenarios\" array", argv[i]);
        for (k = 0; k < scenarios->n; k++) {
            const json *sc = &scenarios->items[k];
            if (r.docdb && get(sc, "local_only")) local_only++;
            if (!run_scenario(&r, sc)) failed++;
            else if (!(r.docdb && get(sc, "local_only"))) passed++;
        }
        json_free(&file);
        free(text);
    }
    free((void *)r.self);
    if (r.docdb) {
        rmdir(r.sockdir);
        free((void *)r.docdb);
    }
    printf("conformance (C%s): %d scenarios passed, %d failed, %d local-only not run\n",
           r.docdb ? ", remote" : "", passed, failed, local_only);
    if (passed + failed < 60) {
        printf("conformance (C): fewer than 60 scenarios\n");
        return 1;
    }
    return failed ? 1 : 0;
}
