"""The conformance scenarios (tests/conformance/README.md), run through the Python face.

One pytest case per scenario. Each runs in a fresh directory made the current directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

import docdb
from docdb._docdb import _engine_error

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def load() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for file in sorted(SCENARIOS.glob("*.json")):
        out.extend(json.loads(file.read_text())["scenarios"])
    names = [s["name"] for s in out]
    assert len(names) == len(set(names)), "scenario names must be unique"
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


class Runner:
    def __init__(self) -> None:
        self.vars: dict[str, Any] = {}

    def release(self) -> None:
        for v in list(self.vars.values()):
            if isinstance(v, docdb.Store):
                try:
                    v.close()
                except docdb.Error:
                    pass
        self.vars.clear()

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
            return docdb.open(a["path"], **opts)
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
            "store.close": lambda: h.close(),
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


def run(scenario: dict[str, Any]) -> None:
    runner = Runner()
    for i, step in enumerate(scenario["steps"]):
        try:
            value = runner.call(step)
            outcome = Outcome(value)
        except docdb.Error as e:
            outcome = Outcome(error=e)
        if "as" in step and outcome.error is None:
            old = runner.vars.get(step["as"])
            if isinstance(old, docdb.Store) and old is not value:
                old.close()
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


@pytest.mark.parametrize("scenario", ALL, ids=[s["name"] for s in ALL])
def test_scenario(scenario: dict[str, Any], workdir: Path) -> None:
    run(scenario)


def test_there_are_enough_scenarios() -> None:
    assert len(ALL) >= 60, len(ALL)
