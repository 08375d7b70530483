"""Binding overhead from Python, run by `docdb-bench --python PY`.

usage: bindings.py DIR DOCS READS COMMITS

Loads DOCS 1 KiB documents, then times READS random point reads (warm: one untimed pass
over the same ids first) and COMMITS single-document durable commits, for DocDB and for
the Python peers: stdlib sqlite3 (WAL, synchronous=FULL) and py-lmdb (default sync).
Prints one line per figure: "STORE WORKLOAD OPS_PER_SEC"; "py-docdb-into" reads into one
reused bytearray (`read_into`).
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import time
from typing import Callable, List

import docdb

DOC = 1024


def rate(n: int, f: Callable[[], None]) -> float:
    t = time.perf_counter()
    f()
    return n / max(time.perf_counter() - t, 1e-9)


def bench_docdb(d: str, docs: int, ids: List[int], commits: int) -> None:
    store = docdb.open(d)
    db = store.create_db("bench")
    with db.transaction() as tx:
        for i in range(docs):
            tx.put(i, os.urandom(DOC))
    read = db.read

    def reads() -> None:
        for i in ids:
            read(i)

    reads()
    print("py-docdb read", rate(len(ids), reads))
    read_into, target = db.read_into, bytearray(4096)

    def reads_into() -> None:
        for i in ids:
            read_into(i, target)

    reads_into()
    print("py-docdb-into read", rate(len(ids), reads_into))
    payload = os.urandom(DOC)

    def puts() -> None:
        for i in range(commits):
            db.put(docs + i, payload)

    print("py-docdb commit", rate(commits, puts))
    store.close()


def bench_sqlite(d: str, docs: int, ids: List[int], commits: int) -> None:
    conn = sqlite3.connect(os.path.join(d, "sqlite.db"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO docs VALUES (?, ?)", ((i, os.urandom(DOC)) for i in range(docs))
    )
    conn.execute("COMMIT")

    def reads() -> None:
        ex = conn.execute
        for i in ids:
            ex("SELECT data FROM docs WHERE id = ?", (i,)).fetchone()

    reads()
    print("py-sqlite3 read", rate(len(ids), reads))
    payload = os.urandom(DOC)

    def puts() -> None:
        # Autocommit mode: each statement is one durable transaction.
        for i in range(commits):
            conn.execute("INSERT OR REPLACE INTO docs VALUES (?, ?)", (docs + i, payload))

    print("py-sqlite3 commit", rate(commits, puts))
    conn.close()


def bench_lmdb(d: str, docs: int, ids: List[int], commits: int) -> None:
    import lmdb  # type: ignore[import-not-found,unused-ignore]

    env = lmdb.open(os.path.join(d, "lmdb"), map_size=64 << 30)
    key = lambda i: i.to_bytes(8, "big")  # noqa: E731
    with env.begin(write=True) as tx:
        for i in range(docs):
            tx.put(key(i), os.urandom(DOC))
    keys = [key(i) for i in ids]

    def reads() -> None:
        # One read transaction for the loop (LMDB's cheapest way), as in the Rust runs.
        with env.begin(buffers=True) as tx:
            get = tx.get
            for k in keys:
                get(k)

    reads()
    print("py-lmdb read", rate(len(ids), reads))
    payload = os.urandom(DOC)

    def puts() -> None:
        for i in range(commits):
            with env.begin(write=True) as tx:
                tx.put(key(docs + i), payload)

    print("py-lmdb commit", rate(commits, puts))
    env.close()


def main() -> None:
    d, docs, reads, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(11)
    ids = [rng.randrange(docs) for _ in range(reads)]
    for name, f in (("docdb", bench_docdb), ("sqlite3", bench_sqlite), ("lmdb", bench_lmdb)):
        sub = os.path.join(d, name)
        os.makedirs(sub)
        try:
            f(sub, docs, ids, commits)
        except ImportError as e:  # py-lmdb missing: report the others
            print(f"# {name} skipped: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
