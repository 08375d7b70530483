"""The GIL is released during engine calls: Python threads make progress at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import docdb


def test_python_keeps_running_during_a_slow_commit(store_path: Path) -> None:
    """While one thread is inside a long durable write, another runs Python code.

    If the binding held the GIL, no Python bytecode could run in the middle of the call: the
    only gaps would be the switch interval (5 ms) at its edges. We count the other thread's
    loop iterations in the middle half of the call, which lasts at least 100 ms.
    """
    with docdb.open(
        store_path, max_document_size=1 << 30, segment_size=3 << 30, db_memory_limit=1 << 30
    ) as store:
        db = store.create_db("big")
        size = 8 << 20
        while True:
            payload = b"\xab" * size
            stamps: list[float] = []
            stop = threading.Event()

            def spin() -> None:
                while not stop.is_set():
                    stamps.append(time.perf_counter())

            spinner = threading.Thread(target=spin)
            spinner.start()
            time.sleep(0.01)
            t0 = time.perf_counter()
            db.put(1, payload)
            t1 = time.perf_counter()
            stop.set()
            spinner.join()
            duration = t1 - t0
            if duration >= 0.1 or size >= 512 << 20:
                break
            size *= 4
        assert duration >= 0.1, f"could not make a write last 100 ms ({duration:.3f} s)"
        lo, hi = t0 + duration / 4, t1 - duration / 4
        inside = [s for s in stamps if lo <= s <= hi]
        assert len(inside) > 10, (
            f"no Python progress during the middle of a {duration:.3f} s commit: "
            f"{len(inside)} iterations"
        )
        assert db.read(1) == payload


def test_concurrent_committers(store_path: Path) -> None:
    """Threads committing durably at once all succeed, and none of their writes is lost."""
    threads_n, per_thread = 8, 40
    with docdb.open(store_path) as store:
        db = store.create_db("c")
        errors: list[BaseException] = []
        barrier = threading.Barrier(threads_n)

        def writer(t: int) -> None:
            try:
                barrier.wait()
                for i in range(per_thread):
                    doc_id = t * 1000 + i
                    db.create(doc_id, f"{t}:{i}".encode())
                    assert db.read(doc_id) == f"{t}:{i}".encode()
                with db.transaction() as tx:
                    tx.put(t * 1000 + 999, b"tx")
            except BaseException as e:  # reported to the main thread
                errors.append(e)

        workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert errors == []
        assert len(db) == threads_n * (per_thread + 1)
        assert db.stats().committed_txns == threads_n * (per_thread + 1)
        with db.snapshot() as snap:
            assert snap.read(7039) == b"7:39"


def test_shared_handles_across_threads(db: docdb.Database) -> None:
    """One transaction and one snapshot used from several threads stay consistent."""
    db.put(0, b"base")
    snap = db.snapshot()
    tx = db.transaction()
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(100):
                tx.put(t * 100 + i + 1, b"v")
                assert snap.read(0) == b"base"
                assert len(snap) == 1
        except BaseException as e:
            errors.append(e)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert tx.pending() == 400
    tx.commit()
    snap.close()
    assert len(db) == 401
