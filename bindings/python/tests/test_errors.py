"""Every error class: hierarchy, codes, and a real trigger for each one that can happen
without a failing disk."""

from __future__ import annotations

import inspect
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Callable

import pytest

import docdb

# The table of docs/errors.md: class, code, extra built-in base.
TABLE: list[tuple[type[docdb.Error], str, type[BaseException]]] = [
    (docdb.NotFoundError, "NOT_FOUND", KeyError),
    (docdb.AlreadyExistsError, "ALREADY_EXISTS", Exception),
    (docdb.ConflictError, "CONFLICT", Exception),
    (docdb.MemoryLimitError, "MEMORY_LIMIT", MemoryError),
    (docdb.PayloadTooLargeError, "PAYLOAD_TOO_LARGE", ValueError),
    (docdb.InvalidNameError, "INVALID_NAME", ValueError),
    (docdb.InvalidArgumentError, "INVALID_ARGUMENT", ValueError),
    (docdb.LockedError, "LOCKED", Exception),
    (docdb.ClosedError, "CLOSED", Exception),
    (docdb.CorruptionError, "CORRUPTION", Exception),
    (docdb.PoisonedError, "POISONED", Exception),
    (docdb.UnsupportedVersionError, "UNSUPPORTED_VERSION", Exception),
    (docdb.IoError, "IO", OSError),
    (docdb.UnavailableError, "UNAVAILABLE", ConnectionError),
    (docdb.InternalError, "INTERNAL", Exception),
]


@pytest.mark.parametrize("cls,code,builtin", TABLE)
def test_hierarchy_and_codes(
    cls: type[docdb.Error], code: str, builtin: type[BaseException]
) -> None:
    assert issubclass(cls, docdb.Error)
    assert issubclass(cls, builtin)
    assert issubclass(docdb.Error, Exception)
    assert cls.code == code
    assert cls.__module__ == "docdb"
    assert cls.__doc__
    # The mapping function of the native module gives exactly this class.
    exc = docdb._docdb._engine_error(code, "some message")
    assert type(exc) is cls
    assert exc.code == code
    assert exc.batch_index is None
    # The message is the engine's, not a repr (KeyError would quote it).
    assert not str(exc).startswith("'")
    with pytest.raises(cls):
        raise exc


def test_every_class_is_exported() -> None:
    names = {cls.__name__ for cls, _, _ in TABLE}
    assert names <= set(docdb.__all__)
    assert len(TABLE) == len(docdb.ERROR_CODES) + 1  # and INTERNAL, which is no engine kind
    assert docdb.Error.code is None and docdb.Error.batch_index is None


def test_batch_index_and_errno_from_mapping() -> None:
    exc = docdb._docdb._engine_error("NOT_FOUND", "document 3", batch_index=4)
    assert isinstance(exc, docdb.NotFoundError)
    assert exc.batch_index == 4
    io = docdb._docdb._engine_error("IO", "writing")
    assert isinstance(io, docdb.IoError) and isinstance(io, OSError)
    assert io.errno == 28
    with pytest.raises(ValueError):
        docdb._docdb._engine_error("NO_SUCH_CODE", "x")

def test_outcome_unknown_from_mapping() -> None:
    # Only an UNAVAILABLE error whose request may have been applied says so.
    lost = docdb._docdb._engine_error("UNAVAILABLE", "connection reset")
    assert isinstance(lost, docdb.UnavailableError) and lost.outcome_unknown is True
    assert "outcome of the request is unknown" in str(lost)
    assert docdb._docdb._engine_error("NOT_FOUND", "x").outcome_unknown is False
    assert docdb.Error.outcome_unknown is False


def test_not_found_is_key_error(db: docdb.Database) -> None:
    with pytest.raises(KeyError) as info:
        db.read(42)
    assert "42" in str(info.value)
    assert isinstance(info.value, docdb.NotFoundError)


def test_conflict(db: docdb.Database) -> None:
    db.put(1, b"v0")
    t1 = db.transaction()
    t2 = db.transaction()
    t1.put(1, b"t1")
    t2.put(1, b"t2")
    t1.commit()
    with pytest.raises(docdb.ConflictError) as info:
        t2.commit()
    assert info.value.code == "CONFLICT"
    assert db.read(1) == b"t1"


def test_memory_limit(store_path: Path) -> None:
    with docdb.open(store_path, db_memory_limit=64 * 1024) as s:
        db = s.create_db("m")
        # Staged transaction data is held in memory and charged to the cap.
        with pytest.raises(docdb.MemoryLimitError) as info:
            with db.transaction() as tx:
                tx.put(1, b"x" * (200 * 1024))
        assert isinstance(info.value, MemoryError)
        assert "limit" in str(info.value)
        assert 1 not in db
        db.put(2, b"small")
        assert db.read(2) == b"small"


def test_payload_too_large(store_path: Path) -> None:
    with docdb.open(store_path, max_document_size=10) as s:
        db = s.create_db("p")
        db.put(1, b"x" * 10)
        with pytest.raises(docdb.PayloadTooLargeError) as info:
            db.put(2, b"x" * 11)
        assert "11" in str(info.value)
        assert 2 not in db


@pytest.mark.parametrize(
    "option,value",
    [
        ("max_document_size", 0),
        ("max_document_size", 2**31),
        ("memory_limit", 0),
        ("segment_size", 100),
        ("compaction_dead_ratio", 0.0),
        ("index_shards", 3),
        ("checkpoint_bytes", 0),
    ],
)
def test_invalid_option_values(store_path: Path, option: str, value: float) -> None:
    with pytest.raises(docdb.InvalidArgumentError):
        docdb.Store(store_path, **{option: value})  # type: ignore[arg-type]


def test_invalid_sync_mode(store_path: Path) -> None:
    with pytest.raises(docdb.InvalidArgumentError, match="sync"):
        docdb.open(store_path, sync="sometimes")  # type: ignore[arg-type]


def test_option_types(store_path: Path) -> None:
    with pytest.raises(TypeError):
        docdb.open(store_path, memory_limit="big")  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        docdb.open(store_path, memory_limit=-1)
    with pytest.raises(TypeError):
        docdb.open(store_path, "full")  # type: ignore[call-arg]


def test_every_option_is_accepted(store_path: Path) -> None:
    for sync in ("full", "normal"):
        with docdb.open(
            store_path,
            sync=sync,
            max_document_size=1 << 20,
            memory_limit=1 << 28,
            db_memory_limit=1 << 26,
            segment_size=1 << 20,
            compaction_min_dead_bytes=1 << 20,
            compaction_dead_ratio=0.3,
            auto_compact=False,
            checkpoint_bytes=1 << 22,
            index_shards=16,
        ) as s:
            db = s.open_or_create_db("o")
            db.put(len(db), b"x")
            assert s.stats().memory_limit == 1 << 28
            assert db.stats().memory_limit == 1 << 26
    with docdb.open(store_path) as s:
        assert len(s.open_db("o")) == 2


def test_locked_by_another_process(store: docdb.Store, store_path: Path) -> None:
    script = "import sys, docdb\ntry:\n    docdb.open(sys.argv[1])\nexcept docdb.LockedError as e:\n    print(e.code, e)\n"

    def run() -> str:
        args = [sys.executable, "-c", script, str(store_path)]
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout

    out = run()
    assert out.startswith("LOCKED") and str(store_path) in out
    store.close()
    assert run() == ""


def test_open_in_the_same_process_shares_the_store(store: docdb.Store, store_path: Path) -> None:
    """Two libraries of one program may both open the store: they share it."""
    a = store.create_db("shared")
    with docdb.open(store_path) as again:
        b = again.open_db("shared")
        a[1] = b"from a"
        assert b[1] == b"from a"
        b[2] = b"from b"
        assert a[2] == b"from b"
    # Leaving the second handle's block released that handle only.
    assert again.closed and not store.closed
    assert a[2] == b"from b"
    with pytest.raises(docdb.InvalidArgumentError, match="other options"):
        docdb.open(store_path, sync="normal")


def test_open_of_an_empty_path_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(docdb.InvalidArgumentError):
        docdb.open("")
    assert list(tmp_path.iterdir()) == []


def test_every_core_error_kind_has_its_class() -> None:
    """Walks core's list of kinds: a kind added to core fails here until it has a class."""
    by_code = {cls.code: cls for cls, _, _ in TABLE}
    assert set(docdb.ERROR_CODES) | {"INTERNAL"} == set(by_code)
    for code in docdb.ERROR_CODES:
        err = docdb._docdb._engine_error(code, "m")
        assert type(err) is by_code[code] and err.code == code


def test_statistics_and_options_follow_core(store: docdb.Store) -> None:
    """A statistic or option added to core fails here until this face has it."""
    db = store.create_db("s")
    assert list(db.stats().as_dict()) == list(docdb.DB_STATS_FIELDS)
    for name in docdb.DB_STATS_FIELDS:
        assert hasattr(db.stats(), name), name
    stats = store.stats().as_dict()
    assert [k for k in stats if k != "databases"] == list(docdb.STORE_STATS_FIELDS)
    params = inspect.signature(docdb.open).parameters
    assert [p for p in params if p != "path"] == list(docdb.OPTION_NAMES)


def test_closed_store(store_path: Path) -> None:
    s = docdb.open(store_path)
    db = s.create_db("c")
    db.put(1, b"x")
    tx = db.transaction()
    snap = db.snapshot()
    s.close()
    assert s.closed
    s.close()  # idempotent
    assert "closed" in repr(s)
    calls: list[Callable[[], object]] = [
        lambda: s.create_db("d"),
        lambda: s.open_db("c"),
        lambda: s.open_or_create_db("c"),
        lambda: s.drop_db("c"),
        lambda: s.list_dbs(),
        lambda: s.stats(),
        lambda: s.checkpoint(),
        lambda: s.sync(),
        lambda: db.read(1),
        lambda: db.put(2, b"y"),
        lambda: db.create(2, b"y"),
        lambda: db.update(1, b"y"),
        lambda: db.delete(1),
        lambda: db.contains(1),
        lambda: len(db),
        lambda: db.batch([("put", 3, b"z")]),
        lambda: db.transaction(),
        lambda: db.snapshot(),
        lambda: db.compact(),
        lambda: db.checkpoint(),
        lambda: db.sync(),
        lambda: db.stats(),
        lambda: db.read_json(1),
        lambda: tx.read(1),
        lambda: tx.put(5, b"t"),
        lambda: snap.read(1),
        lambda: len(snap),
        lambda: list(snap),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(docdb.ClosedError):
            call()
            pytest.fail(f"call #{i} did not raise")
    with pytest.raises(docdb.ClosedError):
        tx.commit()
    snap.close()
    # The directory is free again; what was committed is there.
    with docdb.open(store_path) as again:
        assert again.open_db("c").read(1) == b"x"


def _rewrite_catalog(path: Path, version: int) -> None:
    cat = path / "CATALOG"
    data = bytearray(cat.read_bytes())
    data[8:12] = struct.pack("<I", version)
    body = bytes(data[:-4])
    cat.write_bytes(body + struct.pack("<I", zlib.crc32(body)))


def test_unsupported_version(store_path: Path) -> None:
    with docdb.open(store_path) as s:
        s.create_db("v")
    _rewrite_catalog(store_path, 99)
    with pytest.raises(docdb.UnsupportedVersionError) as info:
        docdb.open(store_path)
    assert "99" in str(info.value)


def test_corruption(store_path: Path) -> None:
    with docdb.open(store_path) as s:
        s.create_db("v")
    cat = store_path / "CATALOG"
    data = bytearray(cat.read_bytes())
    data[20] ^= 0xFF
    cat.write_bytes(bytes(data))
    with pytest.raises(docdb.CorruptionError) as info:
        docdb.open(store_path)
    assert "CATALOG" in str(info.value)
    assert "offset" in str(info.value)


def test_io_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_bytes(b"")
    with pytest.raises(docdb.IoError) as info:
        docdb.open(not_a_dir / "store")
    assert isinstance(info.value, OSError)
    assert info.value.errno is not None
