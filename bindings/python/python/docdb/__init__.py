"""DocDB: an embedded, crash-safe, ACID document database.

A Store is a data directory holding named databases; a database maps int ids
(0..2**64-1) to bytes. Every commit is durable when it returns (with the default
``sync="full"``) and survives a crash of the process or the machine.

    import docdb

    with docdb.open("data") as store:
        notes = store.open_or_create_db("notes")
        notes.put_json(1, {"title": "hello"})
        print(notes.read_json(1))
        with notes.transaction() as tx:          # atomic: commit or roll back
            tx.put(2, b"raw bytes")
            tx.delete(1)
        with notes.snapshot() as snap:           # consistent view
            for doc_id, data in snap:
                print(doc_id, data)
        for doc_id, data in notes.range(start=100, limit=50):  # ids >= 100, a page of 50
            print(doc_id, data)

Errors are all ``docdb.Error`` subclasses, one per engine error (see ``docs/errors.md``):
NotFoundError (also a KeyError), AlreadyExistsError, ConflictError, MemoryLimitError
(also a MemoryError), PayloadTooLargeError, InvalidNameError and InvalidArgumentError
(also ValueErrors), LockedError, ClosedError, CorruptionError, PoisonedError,
UnsupportedVersionError, IoError (also an OSError) and InternalError. Wrong argument
types raise TypeError; a document id outside 0..2**64-1 raises OverflowError.

The engine runs without the GIL: other Python threads keep running during commits,
fsyncs and reads.
"""

from __future__ import annotations

import collections.abc
import os
from typing import TYPE_CHECKING, Literal, Optional, Tuple, Union

from ._docdb import (
    DB_STATS_FIELDS,
    ERROR_CODES,
    OPTION_NAMES,
    STORE_STATS_FIELDS,
    AlreadyExistsError,
    ClosedError,
    ConflictError,
    CorruptionError,
    Database,
    DbInfo,
    DbStats,
    Error,
    InternalError,
    InvalidArgumentError,
    InvalidNameError,
    IoError,
    LockedError,
    MemoryLimitError,
    NotFoundError,
    PayloadTooLargeError,
    PoisonedError,
    Snapshot,
    SnapshotIterator,
    Store,
    StoreStats,
    Transaction,
    TransactionIterator,
    UnavailableError,
    UnsupportedVersionError,
    __version__,
)

# A Database is a mutable mapping of int ids to bytes (its methods are native).
collections.abc.MutableMapping.register(Database)

#: Bytes-like document data accepted by every write: bytes, bytearray, memoryview or any
#: other object of the buffer protocol (typing_extensions.Buffer for type checkers).
if TYPE_CHECKING:
    from typing_extensions import Buffer as BytesLike
else:
    BytesLike = Union[bytes, bytearray, memoryview]

#: One operation of Database.batch(): ("create" | "update" | "put", doc_id, data) or
#: ("delete", doc_id).
BatchOp = Union[
    Tuple[Literal["create", "update", "put"], int, BytesLike],
    Tuple[Literal["delete"], int],
]

#: Durability of commits (see open()).
SyncMode = Literal["full", "normal"]

__all__ = [
    "open",
    "connect",
    "Store",
    "Database",
    "Transaction",
    "TransactionIterator",
    "Snapshot",
    "SnapshotIterator",
    "DbInfo",
    "DbStats",
    "StoreStats",
    "BatchOp",
    "BytesLike",
    "SyncMode",
    "Error",
    "NotFoundError",
    "AlreadyExistsError",
    "ConflictError",
    "MemoryLimitError",
    "PayloadTooLargeError",
    "InvalidNameError",
    "InvalidArgumentError",
    "LockedError",
    "ClosedError",
    "CorruptionError",
    "PoisonedError",
    "UnsupportedVersionError",
    "IoError",
    "InternalError",
    "UnavailableError",
    "__version__",
    "ERROR_CODES",
    "DB_STATS_FIELDS",
    "STORE_STATS_FIELDS",
    "OPTION_NAMES",
]


def open(  # noqa: A001 - the natural name, like sqlite3.connect / dbm.open
    path: Union[str, "os.PathLike[str]"],
    *,
    sync: SyncMode = "full",
    max_document_size: Optional[int] = None,
    memory_limit: Optional[int] = None,
    db_memory_limit: Optional[int] = None,
    segment_size: Optional[int] = None,
    compaction_min_dead_bytes: Optional[int] = None,
    compaction_dead_ratio: Optional[float] = None,
    auto_compact: Optional[bool] = None,
    checkpoint_bytes: Optional[int] = None,
    index_shards: Optional[int] = None,
    cache_size: Optional[int] = None,
) -> Store:
    """Open (creating if needed) the DocDB data directory at ``path``.

    Returns a Store, which is a context manager that closes the store on exit. Options
    left as None keep the engine's defaults.

    Args:
        path: the data directory.
        sync: when a commit is durable. "full" (default): a commit returns after its
            fsync (concurrent commits share one), surviving a process crash and power
            loss. "normal": a commit returns once written to the OS, surviving a process
            crash (kill -9); power loss can lose the most recent commits (a suffix of the
            commit order, never part of a transaction): the log is fsynced every 8 MiB,
            at segment rotation, checkpoint, compaction, sync() and close().
        max_document_size: largest accepted document in bytes (default 16 MiB, at most
            1 GiB); larger writes raise PayloadTooLargeError.
        memory_limit: global cap in bytes on engine memory (index, retained versions,
            pending transaction data); default 1 GiB. Writes over it raise
            MemoryLimitError.
        db_memory_limit: the same cap per database; default 256 MiB.
        segment_size: size at which a log segment is sealed (default 64 MiB; 4 KiB to
            3 GiB).
        compaction_min_dead_bytes: automatic compaction starts when a database has at
            least this many dead log bytes (default 64 MiB)...
        compaction_dead_ratio: ...that make up at least this fraction of its log
            (default 0.5, in (0, 1]).
        auto_compact: turn automatic compaction on or off (default on);
            Database.compact() always works.
        checkpoint_bytes: write a checkpoint after this many log bytes (default 256 MiB),
            bounding the time of the next open.
        index_shards: number of index shards, a power of two (default 16).
        cache_size: bytes of recently read documents kept in memory for the whole store,
            so that warm reads make no system call (default 256 MiB; 0 turns the cache
            off; not part of memory_limit). Store.stats() reports cache_bytes,
            cache_hits and cache_misses.

    Raises:
        LockedError: another process has the directory open. (In this process, opening
            a directory that is already open returns a new handle on the open store; the
            files close when the last handle is closed. InvalidArgumentError if the
            options differ from that store's.)
        InvalidArgumentError: an option value is out of range (also a ValueError).
        CorruptionError, UnsupportedVersionError, IoError: the files cannot be used.
        TypeError: an option has the wrong type.
        OverflowError: a size option is negative or too big.
    """
    return Store(
        path,
        sync=sync,
        max_document_size=max_document_size,
        memory_limit=memory_limit,
        db_memory_limit=db_memory_limit,
        segment_size=segment_size,
        compaction_min_dead_bytes=compaction_min_dead_bytes,
        compaction_dead_ratio=compaction_dead_ratio,
        auto_compact=auto_compact,
        checkpoint_bytes=checkpoint_bytes,
        index_shards=index_shards,
        cache_size=cache_size,
    )


def connect(
    url: str,
    token: Optional[str] = None,
    *,
    ca_file: Union[str, "os.PathLike[str]", None] = None,
    server_name: Optional[str] = None,
    connect_timeout: Optional[float] = None,
    request_timeout: Optional[float] = None,
) -> Store:
    """Connect to a ``docdb serve`` at ``url`` and return its Store.

    The Store, its databases, transactions, snapshots and ranges work as those of
    ``open()``, with the same errors; transactions and snapshots are held by the server.
    A Store is a context manager that closes the connections on exit.

    Args:
        url: ``unix:///path/to.sock``, ``tcp://host:port`` or ``tls://host:port``.
        token: the server's shared secret (its ``--token-file``), required over TCP.
        ca_file: PEM file of the authority (or self-signed certificate) that signed the
            server's certificate, for ``tls://``.
        server_name: the name to verify in the server's certificate (default: the host).
        connect_timeout: seconds allowed to connect and authenticate (default 10).
        request_timeout: seconds a request may wait for its reply (default 300; 0 waits
            as long as the server keeps the connection, as in C and Go).

    Raises:
        UnavailableError: the server cannot be reached (also a ConnectionError). Later,
            a call whose connection breaks raises it too, with ``outcome_unknown`` True
            if the request may have been applied; the next call connects again.
        InvalidArgumentError: a malformed URL, a TCP URL without a token, a bad timeout.
    """
    return Store.connect(
        url,
        token,
        ca_file=ca_file,
        server_name=server_name,
        connect_timeout=connect_timeout,
        request_timeout=request_timeout,
    )
