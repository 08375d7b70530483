"""Persistence across close/reopen, and acknowledged commits surviving SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import docdb


def test_persistence_across_reopen(store_path: Path) -> None:
    with docdb.open(store_path) as s:
        a = s.create_db("a")
        b = s.create_db("b")
        for i in range(100):
            a.put(i, f"a{i}".encode())
        a.delete(50)
        b.put_json(1, {"x": [1, 2, 3]})
        with a.transaction() as tx:
            tx.update(1, b"tx")
        a.batch([("put", 1000, b"batch"), ("delete", 0)])
        s.drop_db("b")
        s.create_db("c").put(7, b"seven")
    with docdb.open(store_path) as s:
        assert [i.name for i in s.list_dbs()] == ["a", "c"]
        a = s.open_db("a")
        assert len(a) == 99
        assert a.read(1) == b"tx" and a.read(99) == b"a99" and a.read(1000) == b"batch"
        assert 0 not in a and 50 not in a
        assert s.open_db("c").read(7) == b"seven"
        with pytest.raises(docdb.NotFoundError):
            s.open_db("b")


def test_reopen_without_close_after_compaction(store_path: Path) -> None:
    s = docdb.open(store_path, sync="normal")
    db = s.create_db("n")
    for i in range(300):
        db.put(i % 30, bytes([i % 256]) * 64)
    db.compact()
    db.put(31, b"after compaction")
    s.close()
    with docdb.open(store_path) as s2:
        db2 = s2.open_db("n")
        assert len(db2) == 31
        assert db2.read(29) == bytes([299 % 256]) * 64
        assert db2.read(31) == b"after compaction"


CHILD = textwrap.dedent(
    """
    import sys, docdb
    store = docdb.open(sys.argv[1], sync=sys.argv[2])
    db = store.open_or_create_db("crash")
    i = 0
    while True:
        if i % 3 == 0:
            db.put(i, b"doc-%d" % i * 20)
        elif i % 3 == 1:
            db.batch([("put", i, b"doc-%d" % i * 20), ("put", 10**9 + i, b"twin")])
        else:
            with db.transaction() as tx:
                tx.put(i, b"doc-%d" % i * 20)
        print(i, flush=True)   # acknowledged: the commit call returned
        i += 1
    """
)


@pytest.mark.parametrize("sync", ["full", "normal"])
def test_acknowledged_commits_survive_sigkill(store_path: Path, sync: str) -> None:
    """A child commits forever, printing each acknowledged id; we SIGKILL it mid-write.

    Both modes survive a process crash (the data is in the OS page cache either way); only
    sync="full" also survives power loss, which a test cannot simulate here.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store_path), sync],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    acked: list[int] = []
    deadline = time.monotonic() + 60
    try:
        while len(acked) < 300 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            acked.append(int(line))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    # Lines printed before the kill were acknowledged too. Read them through the same
    # buffered file (communicate() would skip what readline() already buffered).
    rest = proc.stdout.read()
    assert proc.stderr is not None
    err = proc.stderr.read()
    acked += [int(x) for x in rest.split()]
    assert proc.returncode == -signal.SIGKILL, err
    assert len(acked) >= 300, f"child made too little progress: {err}"
    assert acked == list(range(len(acked)))

    with docdb.open(store_path) as s:
        db = s.open_db("crash")
        for i in acked:
            assert db.read(i) == b"doc-%d" % i * 20
            if i % 3 == 1:
                assert db.read(10**9 + i) == b"twin"
        # At most the one commit in flight at the kill may have landed on top.
        n = len(acked)
        with db.snapshot() as snap:
            extra = [i for i in snap.ids() if n <= i < 10**9]
        assert extra in ([], [n])
        assert db.stats().poisoned is False
