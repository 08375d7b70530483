"""docdb.connect(): the same Store API through a `docdb serve` (the binary built by
`cargo build --release -p docdb-cli`, or $DOCDB_BIN), on a temporary Unix socket or TCP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

import docdb

ROOT = Path(__file__).resolve().parents[3]
DOCDB_BIN = os.environ.get("DOCDB_BIN", str(ROOT / "target" / "release" / "docdb"))


class Server:
    """A `docdb serve` child process on a data directory and a Unix socket."""

    def __init__(self, data: Path, sock: Path, *extra: str) -> None:
        self.data, self.sock, self.extra = data, sock, extra
        self.url = f"unix://{sock}"
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.start()

    def start(self) -> None:
        args = [DOCDB_BIN, "serve", "--data", str(self.data), "--unix", str(self.sock)]
        self.proc = subprocess.Popen([*args, "--log-level", "error", *self.extra])
        deadline = time.monotonic() + 30
        while not self.sock.exists():
            assert self.proc.poll() is None, f"docdb serve exited with {self.proc.returncode}"
            assert time.monotonic() < deadline, "docdb serve did not create its socket"
            time.sleep(0.01)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.sock.unlink(missing_ok=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            assert self.proc.wait(timeout=60) == 0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path / "data", tmp_path / "docdb.sock")
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def remote(server: Server) -> Iterator[docdb.Store]:
    with docdb.connect(server.url) as store:
        yield store


def test_connect_gives_a_store_with_the_same_api(server: Server) -> None:
    with docdb.connect(server.url) as store:
        assert store.url == server.url and store.path is None
        assert server.url in repr(store)
        notes = store.create_db("notes")
        notes.put_json(1, {"title": "hello"})
        notes.create(2, b"raw")
        assert notes.read_json(1) == {"title": "hello"}
        assert notes[2] == b"raw" and 2 in notes and len(notes) == 2
        assert notes.batch([("put", 3, b"c"), ("delete", 2)]) > 0
        with pytest.raises(docdb.NotFoundError):
            notes.read(2)
        with pytest.raises(docdb.AlreadyExistsError):
            store.create_db("notes")
        assert [i.name for i in store.list_dbs()] == ["notes"]
        assert store.stats().documents == 2
        store.checkpoint()
        store.sync()
    assert store.closed
    with pytest.raises(docdb.ClosedError):
        store.list_dbs()
    # What was written is on the server: a second client sees it.
    with docdb.connect(server.url) as again:
        assert dict(again.open_db("notes").items()) == {1: b'{"title":"hello"}', 3: b"c"}


def test_transactions_snapshots_and_ranges_are_held_by_the_server(remote: docdb.Store) -> None:
    db = remote.create_db("t")
    db.batch([("put", i, b"v%d" % i) for i in range(200)])
    with db.snapshot() as snap:
        with db.transaction() as tx:
            tx.put(500, b"new")
            tx.delete(0)
            assert [i for i, _ in tx.range(start=199)] == [199, 500]
            assert len(list(tx.range())) == 200
            assert tx.count() == 200 and tx.count(start=199) == 2 and tx.count(0, 1) == 0
            assert tx.count(start=100, limit=30) == 30
        assert 500 not in snap and snap.count() == 200
        assert [i for i, _ in snap.range(10, 13)] == [10, 11, 12]
        assert [i for i, _ in snap.range(reverse=True, limit=2)] == [199, 198]
    assert db.count(start=199) == 2
    assert [i for i, _ in db.range(start=198, limit=5)] == [198, 199, 500]

    # Snapshot isolation and first-committer-wins across two connections of one client.
    other = docdb.connect(remote.url or "")
    try:
        a = db.transaction()
        b = other.open_db("t").transaction()
        a.put(7, b"a")
        b.put(7, b"b")
        a.commit()
        with pytest.raises(docdb.ConflictError):
            b.commit()
        assert db[7] == b"a"
    finally:
        other.close()


def test_iterators_of_a_closed_store_raise_closed_as_locally(server: Server) -> None:
    # Each range fits in one page, already in the client's buffer: close() still ends it,
    # as a local store's close ends its iterators at the next document.
    store = docdb.connect(server.url)
    db = store.create_db("c")
    db.batch([("put", i, b"x") for i in range(5)])
    snap = db.snapshot()
    iterators = [db.range(), snap.range(), iter(snap)]
    for it in iterators:
        assert next(it)[0] == 0
    store.close()
    for it in iterators:
        with pytest.raises(docdb.ClosedError):
            next(it)
        assert list(it) == []


def test_remote_only_differences(remote: docdb.Store, tmp_path: Path) -> None:
    with pytest.raises(docdb.InvalidArgumentError, match="host of the server"):
        remote.backup(tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_connect_errors(tmp_path: Path) -> None:
    with pytest.raises(docdb.UnavailableError) as info:
        docdb.connect(f"unix://{tmp_path / 'nobody.sock'}")
    assert isinstance(info.value, ConnectionError) and info.value.code == "UNAVAILABLE"
    assert info.value.outcome_unknown is False
    for bad in ["ftp://x", "unix://", "not a url", "tcp://localhost"]:
        with pytest.raises(docdb.InvalidArgumentError):
            docdb.connect(bad)
    with pytest.raises(docdb.InvalidArgumentError):
        docdb.connect(f"unix://{tmp_path / 'x.sock'}", connect_timeout=-1)
    with pytest.raises(docdb.InvalidArgumentError):
        docdb.connect(f"unix://{tmp_path / 'x.sock'}", request_timeout=float("nan"))
    with pytest.raises(docdb.InvalidArgumentError):
        docdb.connect(f"unix://{tmp_path / 'x.sock'}", request_timeout=-1)


def test_a_request_timeout_of_zero_is_no_limit_as_in_c_and_go(server: Server) -> None:
    with docdb.connect(server.url, request_timeout=0, connect_timeout=5) as store:
        store.create_db("patient").put(1, b"x")
        assert store.open_db("patient")[1] == b"x"
    with pytest.raises(TypeError):
        docdb.connect(5)  # type: ignore[arg-type]


def test_a_lost_connection_is_unavailable_and_the_next_call_reconnects(server: Server) -> None:
    with docdb.connect(server.url) as store:
        db = store.create_db("d")
        db.put(1, b"before")
        snap = db.snapshot()
        server.kill()
        with pytest.raises(docdb.UnavailableError):
            db.read(1)
        with pytest.raises(docdb.UnavailableError):
            db.put(2, b"while down")
        server.start()
        assert db.read(1) == b"before"
        db.put(2, b"after")
        assert db[2] == b"after"
        # The snapshot lived on the broken connection: gone with it, an error, not a hang.
        with pytest.raises(docdb.Error) as info:
            snap.read(1)
        assert info.value.code in ("UNAVAILABLE", "CLOSED")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tcp_needs_the_token(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("s3cret\n")
    port = free_port()
    server = Server(
        tmp_path / "data",
        tmp_path / "docdb.sock",
        "--tcp",
        f"127.0.0.1:{port}",
        "--token-file",
        str(tmp_path / "token"),
    )
    try:
        url = f"tcp://127.0.0.1:{port}"
        with docdb.connect(url, "s3cret") as store:
            store.create_db("over-tcp").put(1, b"x")
        with pytest.raises(docdb.InvalidArgumentError):
            docdb.connect(url, "wrong")
        with pytest.raises(docdb.InvalidArgumentError):
            docdb.connect(url)
        # The server asks every client for it, on its Unix socket too.
        with docdb.connect(server.url, "s3cret") as store:
            assert store.open_db("over-tcp")[1] == b"x"
    finally:
        server.stop()


def test_forked_workers_each_use_the_store_connected_before_fork(remote: docdb.Store) -> None:
    # gunicorn's preload_app: the parent connects, the workers are forked from it.
    db = remote.create_db("forked")
    db.put(0, b"parent")
    children = []
    for w in range(4):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for i in range(25):
                    db.put(1000 * (w + 1) + i, b"w%d" % w)
                with db.transaction() as tx:
                    tx.put(1000 * (w + 1) + 99, tx.read(0))
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    for pid in children:
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    assert len(db) == 1 + 4 * 26
    assert db[4099] == b"parent" and db[2024] == b"w1"
    db.put(1, b"the parent still works")
    assert db[1] == b"the parent still works"
