"""A store inherited through fork() (multiprocessing's fork start method, gunicorn
--preload) refuses every call in the child with ClosedError; the parent goes on."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Callable

import docdb


def _child_calls(db: docdb.Database, store: docdb.Store) -> list[str]:
    """Runs every kind of call; returns the ones that were not refused as expected."""
    calls: dict[str, Callable[[], object]] = {
        "put": lambda: db.put(2, b"from the child"),
        "read": lambda: db.read(1),
        "contains": lambda: 1 in db,
        "len": lambda: len(db),
        "snapshot": lambda: db.snapshot(),
        "transaction": lambda: db.transaction(),
        "open_db": lambda: store.open_db("shared"),
        "stats": lambda: store.stats(),
    }
    wrong = []
    for name, call in calls.items():
        try:
            call()
            wrong.append(f"{name}: no error")
        except docdb.ClosedError as e:
            if "fork" not in str(e):
                wrong.append(f"{name}: {e}")
        except Exception as e:  # noqa: BLE001 - any other outcome is the failure reported
            wrong.append(f"{name}: {type(e).__name__}: {e}")
    return wrong


def test_a_forked_child_is_refused_and_the_parent_goes_on(store_path: Path) -> None:
    store = docdb.open(store_path)
    db = store.create_db("shared")
    db.put(1, b"from the parent")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running the parent's cleanup
        os.close(read_end)
        wrong = _child_calls(db, store)
        os.write(write_end, "\n".join(wrong).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as r:
        report = r.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert report == "", f"calls in the forked child that were not refused:\n{report}"

    db.put(3, b"parent again")
    store.close()
    with docdb.open(store_path) as again:
        d = again.open_db("shared")
        assert d.read(1) == b"from the parent"
        assert d.read(3) == b"parent again"
        assert 2 not in d


def _write_in_own_store(path: str) -> None:
    with docdb.open(path) as s:
        s.open_db("shared").put(10, b"child opened it itself")


def test_multiprocessing_fork_children_open_the_store_themselves(store_path: Path) -> None:
    with docdb.open(store_path) as s:
        s.create_db("shared").put(1, b"x")
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=_write_in_own_store, args=(str(store_path),))
    p.start()
    p.join(30)
    assert p.exitcode == 0
    with docdb.open(store_path) as s:
        assert s.open_db("shared").read(10) == b"child opened it itself"
