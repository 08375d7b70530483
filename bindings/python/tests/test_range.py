"""Ordered ranges by id and their counts: Snapshot, Database and Transaction .range() and
.count()."""

from __future__ import annotations

from typing import Iterable, Tuple

import pytest

import docdb


def doc(i: int) -> bytes:
    return f"doc {i}".encode()


def fill(db: docdb.Database, ids: Iterable[int]) -> None:
    db.batch([("put", i, doc(i)) for i in ids])


def ids_of(pairs: Iterable[Tuple[int, bytes]]) -> list[int]:
    out = []
    for i, data in pairs:
        assert data == doc(i)
        out.append(i)
    return out


EVENS = range(0, 100, 2)


def test_bounds_are_start_inclusive_stop_exclusive(db: docdb.Database) -> None:
    fill(db, EVENS)
    with db.snapshot() as snap:
        assert ids_of(snap.range()) == list(EVENS)
        assert ids_of(snap.range(10, 20)) == [10, 12, 14, 16, 18]
        assert ids_of(snap.range(start=11, stop=21)) == [12, 14, 16, 18, 20]
        assert ids_of(snap.range(stop=5)) == [0, 2, 4]
        assert ids_of(snap.range(start=95)) == [96, 98]
        # Empty, not an error: start >= stop, or nothing in between.
        assert list(snap.range(20, 20)) == []
        assert list(snap.range(30, 10)) == []
        assert list(snap.range(11, 12)) == []
        # 2**64 lies past every id: the page after the largest id is empty.
        assert list(snap.range(start=2**64)) == []
        assert ids_of(snap.range(start=96, stop=2**64)) == [96, 98]
    assert ids_of(db.range(10, 20)) == [10, 12, 14, 16, 18]


def test_largest_id_is_reachable(db: docdb.Database) -> None:
    top = 2**64 - 1
    fill(db, [0, top - 1, top])
    assert ids_of(db.range(start=top)) == [top]
    assert ids_of(db.range(start=top - 1, reverse=True)) == [top, top - 1]
    assert ids_of(db.range(stop=top)) == [0, top - 1]
    assert db.count(start=1) == 2


def test_reverse_and_limit(db: docdb.Database) -> None:
    fill(db, EVENS)
    assert ids_of(db.range(reverse=True, limit=3)) == [98, 96, 94]
    assert ids_of(db.range(10, 20, reverse=True)) == [18, 16, 14, 12, 10]
    assert ids_of(db.range(10, 20, limit=2)) == [10, 12]
    assert ids_of(db.range(10, 20, reverse=True, limit=2)) == [18, 16]
    assert list(db.range(limit=0)) == []
    assert len(list(db.range(limit=10**30))) == len(EVENS)


def test_paging_forward_and_backward_visits_every_document_once(db: docdb.Database) -> None:
    fill(db, range(1, 1000, 3))
    seen: list[int] = []
    last = -1
    while True:
        page = ids_of(db.range(start=last + 1, limit=50))
        if not page:
            break
        assert len(page) <= 50
        seen += page
        last = page[-1]
    assert seen == list(range(1, 1000, 3))

    seen = []
    stop = None
    while True:
        page = ids_of(db.range(stop=stop, reverse=True, limit=50))
        if not page:
            break
        seen += page
        stop = page[-1]
    assert seen == list(reversed(range(1, 1000, 3)))


def test_count(db: docdb.Database) -> None:
    fill(db, EVENS)
    assert db.count() == len(db) == 50
    assert db.count(10, 20) == 5
    assert db.count(start=90) == 5
    assert db.count(stop=1) == 1
    assert db.count(10, 20, limit=3) == 3
    assert db.count(20, 10) == 0
    with db.snapshot() as snap:
        db.delete(10)
        assert snap.count(10, 20) == 5
        assert db.count(10, 20) == 4
        assert snap.count(limit=7) == 7


def test_a_range_reads_its_snapshot(db: docdb.Database) -> None:
    fill(db, range(10))
    with db.snapshot() as snap:
        it = snap.range(2, 8)
        db.delete(3)
        db.put(4, b"changed")
        db.put(5, b"ignored")
        db.delete(5)
        assert ids_of(it) == [2, 3, 4, 5, 6, 7]
        assert ids_of(snap.range(2, 8)) == [2, 3, 4, 5, 6, 7]
    # Database.range takes its own snapshot when called, and holds it while iterating.
    it = db.range(0, 5)
    db.delete(0)
    db.put(4, b"later")
    assert next(it) == (0, doc(0))
    assert [i for i, _ in it] == [1, 2, 4]
    assert ids_of(db.range(0, 4)) == [1, 2]


def test_a_transaction_range_sees_its_own_writes(db: docdb.Database) -> None:
    fill(db, range(10))
    with db.transaction() as tx:
        tx.delete(3)
        tx.put(4, b"mine")
        tx.put(15, b"new")
        db.put(6, b"committed by another")
        got = list(tx.range(2, 20))
        assert [i for i, _ in got] == [2, 4, 5, 6, 7, 8, 9, 15]
        assert dict(got)[4] == b"mine" and dict(got)[6] == doc(6)
        assert [i for i, _ in tx.range(reverse=True, limit=3)] == [15, 9, 8]
        assert [i for i, _ in tx.range(start=16)] == []
        tx.rollback()


def test_a_transaction_range_longer_than_a_page(db: docdb.Database) -> None:
    # The iterator reads 64 documents at a time: cross several pages both ways, with staged
    # writes and deletions on either side of the page edges.
    fill(db, range(0, 600, 2))
    with db.transaction() as tx:
        expected = set(range(0, 600, 2))
        for i in range(1, 600, 7):
            tx.put(i, doc(i))
            expected.add(i)
        for i in range(0, 600, 10):
            tx.delete(i)
            expected.discard(i)
        assert ids_of(tx.range()) == sorted(expected)
        assert ids_of(tx.range(reverse=True)) == sorted(expected, reverse=True)
        assert ids_of(tx.range(100, 400, limit=130)) == sorted(i for i in expected if 100 <= i < 400)[:130]
        assert ids_of(tx.range(100, 400, reverse=True, limit=70)) == sorted(
            (i for i in expected if 100 <= i < 400), reverse=True
        )[:70]
        tx.rollback()


def test_a_transaction_count_sees_its_own_writes(db: docdb.Database) -> None:
    fill(db, range(10))
    with db.transaction() as tx:
        tx.delete(3)
        tx.put(4, b"replaced, still one document")
        tx.put(15, b"new")
        tx.create(20, b"new")
        db.put(6, b"committed by another: not a new id")
        db.put(12, b"committed by another after the transaction began")
        assert tx.count() == 11
        assert tx.count(2, 20) == 8
        assert tx.count(3, 4) == 0
        assert tx.count(start=10) == 2
        assert tx.count(stop=4) == 3
        assert tx.count(2, 20, limit=4) == 4
        assert tx.count(limit=0) == 0
        assert tx.count(limit=10**30) == 11
        assert tx.count(20, 2) == 0
        assert tx.count(start=2**64) == 0
        # The same documents as its range() sees, whatever the staged writes.
        for start, stop in [(None, None), (0, 5), (3, 16), (14, 21)]:
            assert tx.count(start, stop) == len(list(tx.range(start, stop)))
        tx.delete(15)
        tx.put(3, b"back")
        assert tx.count(2, 20) == 8
        assert tx.count(14, 16) == 0
        with pytest.raises(docdb.InvalidArgumentError):
            tx.count(limit=-1)
        with pytest.raises(OverflowError):
            tx.count(stop=2**64 + 1)
        with pytest.raises(TypeError):
            tx.count(start="1")  # type: ignore[arg-type]
        tx.rollback()
    # Nothing staged was applied; a new transaction sees every commit.
    with db.transaction() as tx:
        assert tx.count() == len(db) == 11
        tx.commit()
    with pytest.raises(docdb.ClosedError):
        tx.count()


def test_ranges_stream_large_documents(db: docdb.Database) -> None:
    big = 512 * 1024
    for i in range(8):
        db.put(i, bytes([i]) * big)
    assert [len(v) for _, v in db.range()] == [big] * 8
    with db.transaction() as tx:
        tx.put(8, b"x" * big)
        assert [i for i, _ in tx.range()] == list(range(9))


def test_finished_transaction_or_closed_handles_are_closed_errors(
    store: docdb.Store, db: docdb.Database
) -> None:
    fill(db, range(200))
    tx = db.transaction()
    it = tx.range()
    assert next(it)[0] == 0
    tx.commit()
    with pytest.raises(docdb.ClosedError):
        next(it)
    assert list(it) == []
    with pytest.raises(docdb.ClosedError):
        tx.range()

    snap = db.snapshot()
    sit = snap.range(10)
    snap.close()
    with pytest.raises(docdb.ClosedError):
        next(sit)
    with pytest.raises(docdb.ClosedError):
        snap.range()
    with pytest.raises(docdb.ClosedError):
        snap.count()

    dit = db.range()
    assert next(dit)[0] == 0
    store.close()
    with pytest.raises(docdb.ClosedError):
        next(dit)
    with pytest.raises(docdb.ClosedError):
        db.range()
    with pytest.raises(docdb.ClosedError):
        db.count()


def test_bad_arguments_are_typed_errors(db: docdb.Database) -> None:
    with pytest.raises(OverflowError):
        db.range(start=-1)
    with pytest.raises(OverflowError):
        db.range(stop=2**64 + 1)
    with pytest.raises(OverflowError):
        db.count(start=2**70)
    with pytest.raises(TypeError):
        db.range(start="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        db.range(stop=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        db.range(reverse=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        db.range(limit="5")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        db.range(1, 2, True)  # type: ignore[call-arg]
    with pytest.raises(docdb.InvalidArgumentError) as info:
        db.range(limit=-1)
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(docdb.InvalidArgumentError):
        db.count(limit=-(2**80))
    with db.transaction() as tx, pytest.raises(docdb.InvalidArgumentError):
        tx.range(limit=-5)


def test_a_transaction_range_reads_its_first_page_when_called(
    store: docdb.Store, db: docdb.Database
) -> None:
    # As in C (docdb_txn_range_new) and remotely: the first page is read by the call, so
    # its errors are raised there and a write staged after it shows only in later pages.
    fill(db, range(0, 10, 2))
    tx = db.transaction()
    it = tx.range()
    tx.put(3, b"staged after the call")
    tx.delete(4)
    assert [i for i, _ in it] == [0, 2, 4, 6, 8]
    assert [i for i, _ in tx.range()] == [0, 2, 3, 6, 8]
    held = tx.range()
    assert next(held)[0] == 0
    store.close()
    with pytest.raises(docdb.ClosedError):
        tx.range()
    # The rest of its page is not handed out either, as by a local scan of the store.
    with pytest.raises(docdb.ClosedError):
        next(held)
    assert list(held) == []


def test_closing_a_snapshot_releases_what_its_iterators_hold(db: docdb.Database) -> None:
    fill(db, range(10))
    before = db.stats().active_readers
    snap = db.snapshot()
    iterators = [snap.range(), iter(snap), snap.items(), snap.range(5, reverse=True)]
    assert next(iterators[0])[0] == 0
    assert db.stats().active_readers > before
    snap.close()
    # The old versions are released at close(), not when each iterator is next stepped.
    assert db.stats().active_readers == before
    for it in iterators:
        with pytest.raises(docdb.ClosedError):
            next(it)
        assert list(it) == []
