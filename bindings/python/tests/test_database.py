"""Documents, arguments, JSON, stats and maintenance of Database and Store."""

from __future__ import annotations

import array
import collections.abc
from pathlib import Path

import pytest

import docdb


def test_create_read_update_put_delete(db: docdb.Database) -> None:
    db.create(1, b"one")
    assert db.read(1) == b"one"
    assert isinstance(db.read(1), bytes)
    db.update(1, b"uno")
    assert db.read(1) == b"uno"
    db.put(1, b"eins")
    db.put(2, b"zwei")
    assert db.read(1) == b"eins" and db.read(2) == b"zwei"
    db.delete(1)
    assert not db.contains(1)
    assert 1 not in db and 2 in db
    assert len(db) == 1
    with pytest.raises(docdb.NotFoundError):
        db.read(1)
    with pytest.raises(docdb.NotFoundError):
        db.update(1, b"x")
    with pytest.raises(docdb.NotFoundError):
        db.delete(1)
    with pytest.raises(docdb.AlreadyExistsError):
        db.create(2, b"again")
    assert db.read(2) == b"zwei"


def test_empty_and_binary_documents(db: docdb.Database) -> None:
    blob = bytes(range(256)) * 3
    db.put(7, blob)
    db.put(8, b"")
    assert db.read(7) == blob
    assert db.read(8) == b""


def test_bytes_like_data(db: docdb.Database) -> None:
    db.put(1, bytearray(b"ba"))
    db.put(2, memoryview(b"xmvx")[1:3])
    db.put(3, array.array("B", [1, 2, 3]))
    db.create(4, memoryview(bytearray(b"c")))
    assert db.read(1) == b"ba"
    assert db.read(2) == b"mv"
    assert db.read(3) == b"\x01\x02\x03"
    assert db.read(4) == b"c"


def test_bytearray_is_copied(db: docdb.Database) -> None:
    buf = bytearray(b"before")
    db.put(1, buf)
    buf[:] = b"after!"
    assert db.read(1) == b"before"


@pytest.mark.parametrize("bad", ["text", 5, None, 1.5, [1, 2], object()])
def test_non_bytes_data_is_type_error(db: docdb.Database, bad: object) -> None:
    for write in (db.create, db.update, db.put):
        with pytest.raises(TypeError, match="bytes-like"):
            write(1, bad)  # type: ignore[arg-type]
    assert 1 not in db


def test_str_error_suggests_json(db: docdb.Database) -> None:
    with pytest.raises(TypeError, match="json"):
        db.put(1, "text")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 2**64, 2**100, -(2**70)])
def test_out_of_range_ids_are_overflow_errors(db: docdb.Database, bad: int) -> None:
    with pytest.raises(OverflowError, match="0..2\\*\\*64-1"):
        db.put(bad, b"x")
    with pytest.raises(OverflowError):
        db.read(bad)
    with pytest.raises(OverflowError):
        db.contains(bad)
    with pytest.raises(OverflowError):
        _ = bad in db
    assert len(db) == 0


def test_id_range_limits(db: docdb.Database) -> None:
    db.put(0, b"zero")
    db.put(2**64 - 1, b"max")
    assert db.read(0) == b"zero"
    assert db.read(2**64 - 1) == b"max"
    with db.snapshot() as snap:
        assert snap.ids() == [0, 2**64 - 1]


@pytest.mark.parametrize("bad", ["1", 1.0, None, b"1", [1]])
def test_non_int_ids_are_type_errors(db: docdb.Database, bad: object) -> None:
    with pytest.raises(TypeError, match="must be an int"):
        db.put(bad, b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        db.read(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        db.delete(bad)  # type: ignore[arg-type]


def test_json_helpers(db: docdb.Database) -> None:
    value = {"name": "Ada", "tags": ["math", "é"], "n": 3, "ok": True, "none": None}
    db.create_json(1, value)
    assert db.read_json(1) == value
    # Stored as compact UTF-8 JSON, readable by any other face of DocDB.
    assert db.read(1) == (
        '{"name":"Ada","tags":["math","é"],"n":3,"ok":true,"none":null}'.encode()
    )
    db.update_json(1, [1, 2])
    assert db.read_json(1) == [1, 2]
    db.put_json(2, "just a string")
    assert db.read_json(2) == "just a string"
    with pytest.raises(docdb.AlreadyExistsError):
        db.create_json(1, {})
    with pytest.raises(docdb.NotFoundError):
        db.update_json(3, {})
    with pytest.raises(docdb.NotFoundError):
        db.read_json(3)


def test_json_errors(db: docdb.Database) -> None:
    with pytest.raises(TypeError):
        db.put_json(1, {"s": {1, 2}})
    with pytest.raises(ValueError):
        db.put_json(1, float("nan"))
    assert 1 not in db
    db.put(2, b"\xffnot json")
    with pytest.raises(ValueError):
        db.read_json(2)


def test_len_and_contains(db: docdb.Database) -> None:
    assert len(db) == 0
    for i in range(50):
        db.put(i * 3, b"x")
    assert len(db) == 50
    assert 0 in db and 147 in db and 1 not in db
    assert db.contains(3) and not db.contains(4)


def test_database_properties(store: docdb.Store) -> None:
    a = store.create_db("alpha")
    b = store.create_db("beta")
    assert a.name == "alpha" and b.name == "beta"
    assert a.id != b.id
    assert "alpha" in repr(a)


def test_compact_checkpoint_sync_and_stats(db: docdb.Database) -> None:
    for i in range(200):
        db.put(i, b"v" * 100)
    for i in range(200):
        db.put(i, b"w" * 100)
    before = db.stats()
    assert before.documents == 200
    assert before.dead_bytes > 0
    assert before.committed_txns == 400
    assert before.name == "test" and before.id == db.id
    reclaimed = db.compact()
    assert reclaimed > 0
    after = db.stats()
    assert after.compactions == before.compactions + 1
    assert after.dead_bytes < before.dead_bytes
    db.checkpoint()
    assert db.stats().checkpoints == after.checkpoints + 1
    db.sync()
    assert db.read(5) == b"w" * 100
    d = after.as_dict()
    assert d["documents"] == 200 and d["name"] == "test"
    assert set(d) >= {"live_bytes", "log_bytes", "segments", "poisoned", "memory_limit"}
    assert after == after and after != before
    assert "documents=200" in repr(after)


def test_stats_are_immutable(db: docdb.Database) -> None:
    s = db.stats()
    with pytest.raises(AttributeError):
        s.documents = 5  # type: ignore[misc]


def test_store_stats(store: docdb.Store) -> None:
    a = store.create_db("a")
    b = store.create_db("b")
    a.put(1, b"x")
    b.put(1, b"y")
    b.put(2, b"z")
    store.drop_db("b")
    s = store.stats()
    assert s.databases_total == 2
    assert s.databases_active == 1
    assert s.documents == 1
    assert [d.name for d in s.databases] == ["a"]
    assert s.as_dict()["databases"][0]["name"] == "a"
    assert s.memory_limit == 1 << 30
    assert "databases_active=1" in repr(s)
    store.checkpoint()
    store.sync()
    assert a.stats().checkpoints >= 1


def test_record_cache_stats_and_size(store: docdb.Store, tmp_path: Path) -> None:
    db = store.create_db("c")
    db.put(1, b"cached")
    assert (store.stats().cache_hits, store.stats().cache_misses) == (0, 0)
    assert db.read(1) == b"cached"
    assert db.read(1) == b"cached"
    s = store.stats()
    assert (s.cache_misses, s.cache_hits) == (1, 1)
    assert s.cache_bytes > len(b"cached")
    assert s.as_dict()["cache_hits"] == 1
    # A new version is read from disk, never from the old entry.
    db.put(1, b"changed")
    assert db.read(1) == b"changed"

    with docdb.open(tmp_path / "off", cache_size=0) as off:
        d = off.create_db("c")
        d.put(1, b"x")
        assert d.read(1) == b"x" and d.read(1) == b"x"
        assert off.stats().cache_hits == 0 and off.stats().cache_bytes == 0


def test_read_into(store: docdb.Store, tmp_path: Path) -> None:
    db = store.create_db("r")
    data = bytes((j * 13) & 0xFF for j in range(1500))
    db.put(7, data)
    # The first read misses the record cache (from disk, GIL released), the second hits it.
    for expected_misses, expected_hits in ((1, 0), (1, 1)):
        buf = bytearray(b"\xee" * 2000)
        assert db.read_into(7, buf) == 1500
        assert bytes(buf[:1500]) == data and buf[1500:] == b"\xee" * 500
        stats = store.stats()
        assert (stats.cache_misses, stats.cache_hits) == (expected_misses, expected_hits)
    exact = bytearray(1500)
    assert db.read_into(7, exact) == 1500 and bytes(exact) == data
    # Too small: the needed length comes back and the buffer is untouched.
    short = bytearray(b"\x11" * 1499)
    assert db.read_into(7, short) == 1500 and short == b"\x11" * 1499
    assert db.read_into(7, bytearray()) == 1500
    db.put(8, b"")
    assert db.read_into(8, short) == 0 and short == b"\x11" * 1499
    with pytest.raises(docdb.NotFoundError):
        db.read_into(9, bytearray(16))
    with pytest.raises(OverflowError):
        db.read_into(-1, bytearray(16))
    for bad in (b"\x00" * 16, memoryview(bytearray(16)), array.array("B", [0] * 16), "text", None):
        with pytest.raises(TypeError, match="bytearray"):
            db.read_into(7, bad)  # type: ignore[arg-type]

    # Not cached at all (cache_size=0): every read_into comes from disk.
    with docdb.open(tmp_path / "off", cache_size=0) as off:
        d = off.create_db("c")
        d.put(1, b"disk")
        buf = bytearray(8)
        assert d.read_into(1, buf) == 4 and buf[:4] == b"disk"

    store.close()
    closed = bytearray(b"\x22" * 16)
    with pytest.raises(docdb.ClosedError):
        db.read_into(7, closed)
    assert closed == b"\x22" * 16


def test_store_catalog(store: docdb.Store) -> None:
    a = store.create_db("a")
    store.create_db("b.c-d_e")
    assert [(i.id, i.name) for i in store.list_dbs()] == [(a.id, "a"), (a.id + 1, "b.c-d_e")]
    assert store.list_dbs()[0] == store.list_dbs()[0]
    assert "name=\"a\"" in repr(store.list_dbs()[0])
    assert store.open_db("a").id == a.id
    assert store.open_or_create_db("a").id == a.id
    c = store.open_or_create_db("c")
    assert c.name == "c" and len(c) == 0
    with pytest.raises(docdb.AlreadyExistsError):
        store.create_db("a")
    with pytest.raises(docdb.NotFoundError):
        store.open_db("missing")
    with pytest.raises(docdb.NotFoundError):
        store.drop_db("missing")
    a.put(1, b"x")
    store.drop_db("a")
    with pytest.raises(docdb.ClosedError):
        a.read(1)
    assert [i.name for i in store.list_dbs()] == ["b.c-d_e", "c"]
    # A new database of the same name starts empty.
    assert len(store.create_db("a")) == 0


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "x" * 65, "spa ce", "é"])
def test_invalid_names(store: docdb.Store, name: str) -> None:
    with pytest.raises(docdb.InvalidNameError) as info:
        store.create_db(name)
    assert isinstance(info.value, ValueError)
    assert info.value.code == "INVALID_NAME"


def test_name_must_be_str(store: docdb.Store) -> None:
    with pytest.raises(TypeError):
        store.create_db(5)  # type: ignore[arg-type]


def test_path_and_repr(store: docdb.Store, store_path: Path) -> None:
    assert store.path is not None and Path(store.path) == store_path
    assert store.url is None
    assert str(store_path) in repr(store)
    assert not store.closed


def test_database_is_a_mutable_mapping(db: docdb.Database) -> None:
    assert isinstance(db, collections.abc.MutableMapping)
    db[2] = b"two"
    db[1] = bytearray(b"one")
    assert db.get(3) is None and db.get(3, b"d") == b"d" and db.get(1) == b"one"
    assert list(db) == [1, 2] and db.keys() == [1, 2]
    assert list(db.items()) == [(1, b"one"), (2, b"two")]
    assert list(db.values()) == [b"one", b"two"]
    assert db.setdefault(1, b"x") == b"one" and db.setdefault(5, b"five") == b"five"
    assert db.pop(5) == b"five" and db.pop(5, None) is None
    with pytest.raises(KeyError):
        db.pop(5)
    with pytest.raises(KeyError):
        del db[5]
    assert db.popitem() == (1, b"one")
    db.clear()
    assert len(db) == 0
    with pytest.raises(KeyError):
        db.popitem()


def test_iteration_is_over_a_snapshot(db: docdb.Database) -> None:
    db[1] = b"a"
    db[2] = b"b"
    seen = []
    for doc_id, data in db.items():
        seen.append((doc_id, data))
        db[doc_id + 10] = b"added while iterating"
    assert seen == [(1, b"a"), (2, b"b")]
