"""Eight client processes (C, Python, Node) on one `docdb serve`, checked against their
models at the end (README.md). Run by `make test-multiprocess`.

    run.py DOCDB_BINARY C_WORKER
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

import docdb

HERE = Path(__file__).resolve().parent
# Three C, three Python and two Node processes, interleaved so that neighbours (worker w
# reads the ids of worker w + 1) are in different languages.
LANGS = ["c", "python", "node", "c", "python", "node", "c", "python"]
INCREMENTS = 50
WAIT = 600  # seconds a run may take before it is declared hung


def command(lang: str, c_worker: str, url: str, w: int, sync_dir: Path) -> list[str]:
    args = [url, str(w), str(sync_dir)]
    if lang == "c":
        return [c_worker, *args]
    if lang == "python":
        return [sys.executable, str(HERE / "worker.py"), *args]
    return ["node", str(HERE / "worker.js"), *args]


def wait_for(path: Path, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        if server.poll() is not None:
            sys.exit(f"docdb serve exited with {server.returncode} before creating {path}")
        if time.monotonic() > deadline:
            sys.exit(f"{path} did not appear")
        time.sleep(0.01)


def expected_state(results: list[dict[str, object]]) -> dict[int, bytes]:
    state: dict[int, bytes] = {1: str(INCREMENTS * len(LANGS)).encode()}
    for r in results:
        model = r["model"]
        assert isinstance(model, dict)
        state.update({int(k): v.encode() for k, v in model.items()})
    return state


def check(db: docdb.Database, expected: dict[int, bytes], where: str) -> None:
    actual = dict(db.range())
    if actual != expected:
        missing = sorted(set(expected) - set(actual))[:5]
        extra = sorted(set(actual) - set(expected))[:5]
        wrong = sorted(i for i in expected if i in actual and actual[i] != expected[i])[:5]
        sys.exit(
            f"{where}: the database differs from the model: missing {missing}, "
            f"unexpected {extra}, different {wrong} (counter {actual.get(1)!r})"
        )
    print(f"multiprocess: {where}: {len(actual)} documents match the model")


def main() -> None:
    docdb_bin, c_worker = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="docdb-multiprocess-") as tmp:
        root = Path(tmp)
        data, sock, sync_dir = root / "data", root / "docdb.sock", root / "sync"
        sync_dir.mkdir()
        server = subprocess.Popen(
            [docdb_bin, "serve", "--data", str(data), "--unix", str(sock), "--log-level", "warn"]
        )
        try:
            wait_for(sock, server)
            url = f"unix://{sock}"
            with docdb.connect(url) as store:
                store.create_db("shared").put(1, b"0")

            started = time.monotonic()
            workers = [
                subprocess.Popen(
                    command(lang, c_worker, url, w, sync_dir),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                for w, lang in enumerate(LANGS)
            ]
            deadline = time.monotonic() + WAIT
            while not all((sync_dir / f"ready.{w}").exists() for w in range(len(LANGS))):
                failed = [w for w, p in enumerate(workers) if p.poll() is not None]
                if failed:
                    break
                if time.monotonic() > deadline:
                    sys.exit("the workers did not all connect")
                time.sleep(0.01)
            (sync_dir / "go").touch()

            results = []
            failures = []
            for w, p in enumerate(workers):
                out, err = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
                if p.returncode != 0:
                    failures.append(f"worker {w} ({LANGS[w]}) exited {p.returncode}:\n{err.decode()}")
                    continue
                result = json.loads(out.decode().strip().splitlines()[-1])
                assert result["worker"] == w and result["lang"] == LANGS[w], result
                assert result["increments"] == INCREMENTS, result
                results.append(result)
            if failures:
                sys.exit("\n".join(failures))
            elapsed = time.monotonic() - started
            conflicts = sum(int(str(r["conflicts"])) for r in results)
            print(
                f"multiprocess: {len(LANGS)} processes ({LANGS.count('c')} C, "
                f"{LANGS.count('python')} Python, {LANGS.count('node')} Node) ran 400 steps each "
                f"in {elapsed:.1f} s through one server; {conflicts} transaction conflicts retried"
            )

            expected = expected_state(results)
            with docdb.connect(url) as store:
                check(store.open_db("shared"), expected, "through the server")
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=60)
        if code != 0:
            sys.exit(f"docdb serve exited with {code} after SIGTERM")
        with docdb.open(data) as store:
            check(store.open_db("shared"), expected, "in-process after the server stopped")


if __name__ == "__main__":
    main()
