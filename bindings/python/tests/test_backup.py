"""Store.backup: a consistent, verified copy taken while another thread writes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import docdb


def test_backup_while_writing_is_a_prefix_of_the_writes(store: docdb.Store, tmp_path: Path) -> None:
    db = store.create_db("d")
    for i in range(100):
        db.put(i, str(i).encode())
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        i = 100
        while not stop.is_set():
            db.put(i, str(i).encode())
            written.append(i)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    calls: list[tuple[int, int]] = []
    try:
        # The GIL is released during the backup: the writer keeps going meanwhile.
        store.backup(tmp_path / "copy", progress=lambda done, total: calls.append((done, total)))
    finally:
        stop.set()
        t.join()
    assert calls and calls[-1][0] == calls[-1][1] > 0
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))

    with docdb.open(tmp_path / "copy") as copy:
        ids = sorted(copy.open_db("d").snapshot().ids())
        # Writes are acknowledged in id order, so the copy holds ids 0..k for some k.
        assert ids == list(range(len(ids)))
        assert len(ids) >= 100
        assert copy.open_db("d").read(len(ids) - 1) == str(len(ids) - 1).encode()


def test_backup_refuses_a_directory_that_is_not_empty(store: docdb.Store, tmp_path: Path) -> None:
    store.create_db("d").put(1, b"x")
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep").write_bytes(b"mine")
    with pytest.raises(docdb.AlreadyExistsError, match="not empty"):
        store.backup(full)
    assert [p.name for p in full.iterdir()] == ["keep"]
    with pytest.raises(docdb.InvalidArgumentError):
        assert store.path is not None
        store.backup(store.path / "inside")


def test_an_exception_in_progress_is_raised_after_the_backup(store: docdb.Store, tmp_path: Path) -> None:
    store.create_db("d").put(1, b"x")
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        raise RuntimeError("stop reporting")

    with pytest.raises(RuntimeError, match="stop reporting"):
        store.backup(str(tmp_path / "copy"), progress)
    assert len(seen) == 1  # no further calls once it raised
    with docdb.open(tmp_path / "copy") as copy:
        assert copy.open_db("d").read(1) == b"x"


def test_backup_of_a_closed_store(store_path: Path, tmp_path: Path) -> None:
    s = docdb.open(store_path)
    s.close()
    with pytest.raises(docdb.ClosedError):
        s.backup(tmp_path / "late")
    assert not (tmp_path / "late").exists()
