"""The conformance scenarios (tests/conformance/README.md), run through the Python face.

One pytest case per scenario and mode: "local" opens the stores in this process, "remote"
serves each store's directory with `docdb serve` (target/release/docdb, or $DOCDB_BIN) and
connects to it; scenarios marked "local_only" run locally only. Each runs in a fresh
directory made the current directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

import docdb
from docdb._docdb import _engine_error

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
ROOT = Path(__file__).resolve().parents[4]
DOCDB_BIN = os.environ.get("DOCDB_BIN", str(ROOT / "target" / "release" / "docdb"))


def load() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for file in sorted(SCENARIOS.glob("*.json")):
        out.extend(json.loads(file.read_text())["scenarios"])
    names = [s["name"] for s in out]
    assert len(names) == len(set(names)), "scenario names must be unique"
    for s in out:
        why = s.get("local_only", "a reason")
        assert isinstance(why, str) and why, f"{s['name']}: local_only must say why"
    return out


ALL = load()


def data(value: Any) -> bytes:
    """Document data of the format: a string is UTF-8, {"hex": ...} raw bytes."""
    if isinstance(value, str):
        return value.encode()
    return bytes.fromhex(value["hex"])


class Failed(Exception):
    """The outcome of a step differs from its expectation."""


class Outcome:
    def __init__(self, value: Any = None, error: Optional[docdb.Error] = None) -> None:
        self.value = value
        self.error = error

    def __repr__(self) -> str:
        if self.error is not None:
            return f"error {self.error.code} (batch_index={self.error.batch_index}): {self.error}"
        return f"ok {self.value!r}"


OTHER_PROCESS = """
import sys, docdb
try:
    docdb.open(sys.argv[1]).close()
    print("OK")
except docdb.Error as e:
    print(e.code)
"""


class Servers:
    """Remote mode: one `docdb serve` per data directory, started at the first open of it
    and stopped (SIGTERM, exit 0) when its last store handle closes, as a local store's
    files are (tests/conformance/README.md, "Remote mode")."""

    def __init__(self) -> None:
        self.sockets = tempfile.mkdtemp(prefix="docdb-sock-")
        self.started = 0
        # data directory -> (server, url, open store handles)
        self.running: dict[Path, tuple[subprocess.Popen[bytes], str, set[int]]] = {}

    def connect(self, path: str) -> docdb.Store:
        Path(path).mkdir(parents=True, exist_ok=True)
        data = Path(path).resolve()
        if data not in self.running:
            sock = Path(self.sockets) / f"{self.started}.sock"
            self.started += 1
            proc = subprocess.Popen(
                [DOCDB_BIN, "serve", "--data", str(data), "--unix", str(sock), "--log-level", "error"]
            )
            deadline = time.monotonic() + 30
            while not sock.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise Failed(f"docdb serve --data {data} did not start ({proc.poll()})")
                time.sleep(0.005)
            self.running[data] = (proc, f"unix://{sock}", set())
        _, url, clients = self.running[data]
        store = docdb.connect(url)
        clients.add(id(store))
        return store

    def disconnect(self, store: docdb.Store) -> None:
        for data, (_, _, clients) in list(self.running.items()):
            if id(store) in clients:
                clients.discard(id(store))
                if not clients:
                    self.stop(data)

    def stop(self, data: Path) -> None:
        proc, _, _ = self.running.pop(data)
        proc.send_signal(signal.SIGTERM)
        if proc.wait(timeout=60) != 0:
            raise Failed(f"docdb serve --data {data} exited with {proc.returncode}")

    def stop_all(self) -> None:
        for data in list(self.running):
            self.stop(data)
        os.rmdir(self.sockets)


class Runner:
    def __init__(self, remote: bool) -> None:
        self.vars: dict[str, Any] = {}
        self.servers = Servers() if remote else None

    def close(self, store: docdb.Store) -> None:
        try:
            store.close()
        finally:
            if self.servers is not None:
                self.servers.disconnect(store)

    def release(self) -> None:
        for v in list(self.vars.values()):
            if isinstance(v, docdb.Store):
                try:
                    self.close(v)
                except docdb.Error:
                    pass
        self.vars.clear()
        if self.servers is not None:
            self.servers.stop_all()

    def handle(self, step: dict[str, Any]) -> Any:
        name = step.get("on")
        if name is None or name not in self.vars:
            raise Failed(f"step names no known handle: on={name!r}")
        return self.vars[name]

    def call(self, step: dict[str, Any]) -> Any:
        call: str = step["call"]
        a: dict[str, Any] = step.get("args", {})
        if call.startswith("fs."):
            return self.fs(call, a)
        if call == "open":
            opts = dict(a.get("options", {}))
            if self.servers is None:
                return docdb.open(a["path"], **opts)
            if opts:
                raise Failed("remote mode: options are the server's (mark the scenario local_only)")
            return self.servers.connect(a["path"])
        if call == "open_in_other_process":
            res = subprocess.run(
                [sys.executable, "-c", OTHER_PROCESS, a["path"]],
                capture_output=True,
                text=True,
                check=True,
            )
            code = res.stdout.strip()
            if code != "OK":
                raise _engine_error(code, f"the other process got {code}")
            return None
        h = self.handle(step)
        # The calls that databases, transactions and snapshots spell alike.
        method = call.split(".", 1)[1]
        if method in ("create", "update", "put"):
            return getattr(h, method)(a["id"], data(a["data"]))
        if method in ("read", "delete", "contains"):
            return getattr(h, method)(a["id"])
        if method == "range":
            return list(h.range(**range_args(a)))
        if method == "count":
            args = range_args(a)
            del args["reverse"]
            return h.count(**args)
        table: dict[str, Callable[[], Any]] = {
            # Stores
            "store.close": lambda: self.close(h),
            "store.closed": lambda: h.closed,
            "store.create_db": lambda: h.create_db(a["name"]),
            "store.open_db": lambda: h.open_db(a["name"]),
            "store.open_or_create_db": lambda: h.open_or_create_db(a["name"]),
            "store.drop_db": lambda: h.drop_db(a["name"]),
            "store.list_dbs": lambda: [i.name for i in h.list_dbs()],
            "store.stats": lambda: h.stats().as_dict(),
            "store.checkpoint": lambda: h.checkpoint(),
            "store.sync": lambda: h.sync(),
            # Databases
            "db.len": lambda: len(h),
            "db.batch": lambda: h.batch([batch_op(op) for op in a["ops"]]),
            "db.begin": lambda: h.transaction(),
            "db.snapshot": lambda: h.snapshot(),
            "db.stats": lambda: h.stats().as_dict(),
            "db.compact": lambda: h.compact(),
            "db.checkpoint": lambda: h.checkpoint(),
            "db.sync": lambda: h.sync(),
            # Idiomatic spellings: the mapping protocol
            "db.get": lambda: h.get(a["id"], data(a["default"])),
            "db.getitem": lambda: h[a["id"]],
            "db.setitem": lambda: h.__setitem__(a["id"], data(a["data"])),
            "db.delitem": lambda: h.__delitem__(a["id"]),
            "db.in": lambda: a["id"] in h,
            "db.size": lambda: len(h),
            "db.iter": lambda: list(h),
            "db.items": lambda: list(h.items()),
            "db.values": lambda: list(h.values()),
            "db.items_async": lambda: list(h.items()),
            # Transactions
            "txn.pending": lambda: h.pending(),
            "txn.read_version": lambda: h.read_version,
            "txn.commit": lambda: h.commit(),
            "txn.rollback": lambda: h.rollback(),
            # Snapshots
            "snap.len": lambda: len(h),
            "snap.version": lambda: h.version,
            "snap.ids": lambda: h.ids(),
            "snap.scan": lambda: list(h),
            "snap.close": lambda: h.close(),
            "snap.items": lambda: list(h.items()),
            "snap.items_async": lambda: list(h.items()),
        }
        if call not in table:
            raise Failed(f"unknown call {call!r}")
        return table[call]()

    def fs(self, call: str, a: dict[str, Any]) -> Any:
        p = Path(a["path"])
        if call == "fs.write":
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data(a["data"]))
            return None
        if call == "fs.list":
            return sorted(os.listdir(p)) if p.is_dir() else []
        if call == "fs.exists":
            return p.exists()
        raise Failed(f"unknown call {call!r}")


def range_args(a: dict[str, Any]) -> dict[str, Any]:
    """The format's bounds (gte/gt, lte/lt) as Python's start (inclusive) and stop
    (exclusive). Both ends of a pair given is INVALID_ARGUMENT, as in the faces that take
    them as they are."""
    for pair in (("gte", "gt"), ("lte", "lt")):
        if all(k in a for k in pair):
            raise _engine_error("INVALID_ARGUMENT", f"{pair[0]} and {pair[1]} both given")
    start = a["gte"] if "gte" in a else a["gt"] + 1 if "gt" in a else None
    stop = a["lt"] if "lt" in a else a["lte"] + 1 if "lte" in a else None
    return {
        "start": start,
        "stop": stop,
        "reverse": a.get("reverse", False),
        "limit": a.get("limit"),
    }


def batch_op(op: dict[str, Any]) -> Any:
    if "data" in op:
        return (op["op"], op["id"], data(op["data"]))
    return (op["op"], op["id"])


def matches(expected: Any, actual: Any) -> bool:
    """Compares a result with the format's expected value."""
    if isinstance(actual, bytes):
        return not isinstance(expected, (list, bool, int)) and actual == data(expected)
    if isinstance(actual, dict):
        return isinstance(expected, dict) and all(
            k in actual and (v == "*" or matches(v, actual[k])) for k, v in expected.items()
        )
    if isinstance(actual, (list, tuple)):
        return (
            isinstance(expected, list)
            and len(expected) == len(actual)
            and all(matches(e, x) for e, x in zip(expected, actual))
        )
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    return bool(actual == expected)


def run(scenario: dict[str, Any], mode: str) -> None:
    runner = Runner(remote=mode == "remote")
    for i, step in enumerate(scenario["steps"]):
        try:
            value = runner.call(step)
            outcome = Outcome(value)
        except docdb.Error as e:
            outcome = Outcome(error=e)
        if "as" in step and outcome.error is None:
            old = runner.vars.get(step["as"])
            if isinstance(old, docdb.Store) and old is not value:
                runner.close(old)
            runner.vars[step["as"]] = value
        expect = step.get("expect")
        where = f"step {i} ({step['call']}): expected {expect}, got {outcome!r}"
        if expect is None:
            ok = outcome.error is None
        elif "error" in expect:
            err = outcome.error
            ok = err is not None and err.code == expect["error"]
            if ok and "batch_index" in expect:
                ok = err is not None and err.batch_index == expect["batch_index"]
        else:
            ok = outcome.error is None and matches(expect["ok"], outcome.value)
        if not ok:
            runner.release()
            raise Failed(where)
    runner.release()


@pytest.fixture
def workdir() -> Iterator[Path]:
    before = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="docdb-conformance-") as d:
        os.chdir(d)
        try:
            yield Path(d)
        finally:
            os.chdir(before)


CASES = [("local", s) for s in ALL] + [("remote", s) for s in ALL if not s.get("local_only")]


@pytest.mark.parametrize(("mode", "scenario"), CASES, ids=[f"{m}: {s['name']}" for m, s in CASES])
def test_scenario(mode: str, scenario: dict[str, Any], workdir: Path) -> None:
    run(scenario, mode)


def test_there_are_enough_scenarios() -> None:
    assert len(ALL) >= 60, len(ALL)
