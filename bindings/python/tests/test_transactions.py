"""Atomic batches, transactions and snapshots."""

from __future__ import annotations

import pytest

import docdb


def test_batch_applies_everything(db: docdb.Database) -> None:
    db.put(9, b"old")
    ops: list[docdb.BatchOp] = [
        ("create", 1, b"a"),
        ("put", 2, bytearray(b"b")),
        ("update", 9, memoryview(b"new")),
        ("delete", 2),
    ]
    version = db.batch(ops)
    assert isinstance(version, int) and version > 0
    assert db.read(1) == b"a"
    assert db.read(9) == b"new"
    assert 2 not in db
    more: list[docdb.BatchOp] = [("put", 3, b"c")]
    assert db.batch(iter(more)) > version


def test_batch_is_atomic(db: docdb.Database) -> None:
    db.put(1, b"keep")
    with pytest.raises(docdb.NotFoundError) as info:
        db.batch([("put", 5, b"x"), ("delete", 1), ("update", 77, b"y")])
    assert info.value.batch_index == 2
    assert info.value.code == "NOT_FOUND"
    assert db.read(1) == b"keep"
    assert 5 not in db
    with pytest.raises(docdb.AlreadyExistsError) as info2:
        db.batch([("create", 1, b"x")])
    assert info2.value.batch_index == 0


def test_batch_bad_operations(db: docdb.Database) -> None:
    with pytest.raises(docdb.InvalidArgumentError) as info:
        db.batch([("put", 1, b"x"), ("upsert", 2, b"y")])  # type: ignore[list-item]
    assert info.value.batch_index == 1
    bad: list[object] = [
        ["put", 1],
        ("delete", 1, b"x"),
        (),
        "put",
        (1, 2, 3),
        ("put", "id", b"x"),
        ("put", 1, "text"),
    ]
    for op in bad:
        with pytest.raises(TypeError, match="batch operation #0"):
            db.batch([op])  # type: ignore[list-item]
    with pytest.raises(OverflowError, match="batch operation #1"):
        db.batch([("put", 1, b"x"), ("put", -1, b"x")])
    with pytest.raises(TypeError):
        db.batch(5)  # type: ignore[arg-type]
    assert len(db) == 0


def test_batch_accepts_lists(db: docdb.Database) -> None:
    db.batch([["put", 1, b"x"]])  # type: ignore[list-item]
    assert db.read(1) == b"x"


def test_transaction_commits_on_success(db: docdb.Database) -> None:
    db.put(1, b"one")
    with db.transaction() as tx:
        assert tx.active
        assert tx.read(1) == b"one"
        tx.update(1, b"uno")
        tx.create(2, b"two")
        tx.put(3, b"three")
        tx.delete(3)
        assert tx.read(1) == b"uno"  # own writes are visible
        assert tx.contains(2) and not tx.contains(3)
        assert tx.pending() == 3
        assert 2 not in db  # not visible outside before commit
    assert not tx.active
    assert db.read(1) == b"uno" and db.read(2) == b"two" and 3 not in db


def test_transaction_rolls_back_on_exception(db: docdb.Database) -> None:
    db.put(1, b"one")
    with pytest.raises(RuntimeError, match="boom"):
        with db.transaction() as tx:
            tx.put(1, b"changed")
            tx.create(2, b"new")
            raise RuntimeError("boom")
    assert not tx.active
    assert db.read(1) == b"one" and 2 not in db
    assert "rolled back" in repr(tx)


def test_transaction_isolation(db: docdb.Database) -> None:
    db.put(1, b"before")
    tx = db.transaction()
    db.put(1, b"after")
    db.put(2, b"new")
    assert tx.read(1) == b"before"
    assert not tx.contains(2)
    assert tx.read_version < db.stats().last_version
    tx.rollback()


def test_transaction_errors_and_finish(db: docdb.Database) -> None:
    db.put(1, b"x")
    tx = db.transaction()
    with pytest.raises(docdb.AlreadyExistsError):
        tx.create(1, b"y")
    with pytest.raises(docdb.NotFoundError):
        tx.update(2, b"y")
    with pytest.raises(docdb.NotFoundError):
        tx.delete(2)
    with pytest.raises(docdb.NotFoundError):
        tx.read(2)
    with pytest.raises(TypeError):
        tx.put(3, "text")  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        tx.put(-3, b"x")
    tx.put(3, b"z")
    v = tx.commit()
    assert v == db.stats().last_version
    assert "committed" in repr(tx)
    with pytest.raises(docdb.ClosedError, match="committed"):
        tx.commit()
    with pytest.raises(docdb.ClosedError):
        tx.put(4, b"w")
    with pytest.raises(docdb.ClosedError):
        tx.read(1)
    with pytest.raises(docdb.ClosedError):
        tx.pending()
    with pytest.raises(docdb.ClosedError):
        tx.rollback()  # finished: CLOSED, as in every face
    assert db.read(3) == b"z"


def test_explicit_commit_inside_with(db: docdb.Database) -> None:
    with db.transaction() as tx:
        tx.put(1, b"x")
        tx.commit()
    assert db.read(1) == b"x"


def test_empty_transaction_commit(db: docdb.Database) -> None:
    tx = db.transaction()
    assert tx.commit() == tx_version_or_zero(db)


def tx_version_or_zero(db: docdb.Database) -> int:
    return db.stats().last_version


def test_transaction_json(db: docdb.Database) -> None:
    with db.transaction() as tx:
        tx.create_json(1, {"a": 1})
        tx.put_json(2, [1])
        tx.update_json(1, {"a": 2})
        assert tx.read_json(1) == {"a": 2}
    assert db.read_json(1) == {"a": 2} and db.read_json(2) == [1]


def test_conflicting_transaction_in_with(db: docdb.Database) -> None:
    db.put(1, b"v")
    with pytest.raises(docdb.ConflictError):
        with db.transaction() as tx:
            tx.put(1, b"mine")
            db.put(1, b"theirs")
    assert db.read(1) == b"theirs"
    # The transaction is over, and says why (not "already committed").
    with pytest.raises(docdb.ClosedError, match="its commit failed"):
        tx.put(2, b"after")
    assert "commit failed" in repr(tx)


def test_snapshot_view(db: docdb.Database) -> None:
    for i in (5, 1, 3):
        db.put(i, f"v{i}".encode())
    with db.snapshot() as snap:
        db.put(2, b"later")
        db.delete(5)
        db.update(1, b"changed")
        assert list(snap) == [(1, b"v1"), (3, b"v3"), (5, b"v5")]
        assert len(snap) == 3
        assert 5 in snap and 2 not in snap
        assert snap.contains(3)
        assert snap.read(1) == b"v1"
        assert snap.ids() == [1, 3, 5]
        assert snap.version < db.stats().last_version
        with pytest.raises(docdb.NotFoundError):
            snap.read(2)
        # Iterating twice gives the same.
        assert [i for i, _ in snap] == [1, 3, 5]
        assert db.stats().active_readers == 1
    assert snap.closed
    assert db.stats().active_readers == 0
    with pytest.raises(docdb.ClosedError):
        snap.read(1)
    with pytest.raises(docdb.ClosedError):
        iter(snap)
    snap.close()  # idempotent


def test_snapshot_json_and_repr(db: docdb.Database) -> None:
    db.put_json(1, {"k": "v"})
    snap = db.snapshot()
    assert snap.read_json(1) == {"k": "v"}
    assert f"version={snap.version}" in repr(snap)
    snap.close()
    assert "closed" in repr(snap)


def test_iterator_stops_when_snapshot_closes(db: docdb.Database) -> None:
    for i in range(5):
        db.put(i, b"x")
    snap = db.snapshot()
    it = iter(snap)
    assert next(it) == (0, b"x")
    assert iter(it) is it
    snap.close()
    with pytest.raises(docdb.ClosedError):
        next(it)
    with pytest.raises(StopIteration):
        next(it)


def test_large_scan_is_ordered(db: docdb.Database) -> None:
    import random

    ids = random.Random(7).sample(range(10**12), 500)
    db.batch([("put", i, i.to_bytes(8, "little")) for i in ids])
    with db.snapshot() as snap:
        got = list(snap)
    assert [i for i, _ in got] == sorted(ids)
    assert all(int.from_bytes(d, "little") == i for i, d in got)
