"""One Python client of the eight-process test (workload: README.md)."""

from __future__ import annotations

import json
import os
import sys
import time

import docdb

K, STEPS = 40, 400


def main() -> None:
    url, w, sync_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    store = docdb.connect(url)
    db = store.open_db("shared")
    open(os.path.join(sync_dir, f"ready.{w}"), "w").close()
    while not os.path.exists(os.path.join(sync_dir, "go")):
        time.sleep(0.005)

    base = (w + 1) * 1_000_000
    model: dict[int, bytes] = {}
    increments = conflicts = 0
    for i in range(STEPS):
        doc_id = base + (i * 7) % K
        value = f"w{w}:{doc_id}:{i}".encode()
        op = i % 8
        if op <= 2:
            db.put(doc_id, value)
            model[doc_id] = value
        elif op == 3:
            if doc_id in model:
                db.delete(doc_id)
                del model[doc_id]
            else:
                db.create(doc_id, value)
                model[doc_id] = value
        elif op == 4:
            id2 = base + (i * 7 + 1) % K
            value2 = f"w{w}:{id2}:{i}".encode()
            db.batch([("put", doc_id, value), ("put", id2, value2)])
            model[doc_id], model[id2] = value, value2
        elif op == 5:
            got = db.get(doc_id)
            assert got == model.get(doc_id), (doc_id, got, model.get(doc_id))
        elif op == 6:
            other = (w + 1) % 8
            oid = (other + 1) * 1_000_000 + (i * 7) % K
            got = db.get(oid)
            assert got is None or got.startswith(f"w{other}:{oid}:".encode()), (oid, got)
        else:
            while True:
                tx = db.transaction()
                try:
                    n = int(tx.read(1))
                    tx.put(1, str(n + 1).encode())
                    tx.put(doc_id, value)
                    tx.commit()
                    break
                except docdb.ConflictError:
                    conflicts += 1
                finally:
                    if tx.active:
                        tx.rollback()
            model[doc_id] = value
            increments += 1

    seen = {i: v for i, v in db.range(base, base + K)}
    assert seen == model, "the range of this worker's ids differs from its model"
    store.close()
    print(
        json.dumps(
            {
                "worker": w,
                "lang": "python",
                "model": {str(k): v.decode() for k, v in model.items()},
                "increments": increments,
                "conflicts": conflicts,
            }
        )
    )


if __name__ == "__main__":
    main()
