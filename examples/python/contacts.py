"""A small contacts book on DocDB: JSON documents, an atomic import, a transaction,
a snapshot listing, and durability across reopen.

Usage: python examples/python/contacts.py [DATA_DIR]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, TypedDict

import docdb


class Contact(TypedDict):
    name: str
    email: str
    tags: list[str]


def add(book: docdb.Database, contact_id: int, contact: Contact) -> None:
    """Stores a new contact; refuses to overwrite an existing id."""
    book.create_json(contact_id, contact)


def tag(book: docdb.Database, contact_id: int, new_tag: str) -> None:
    """Adds a tag with a read-modify-write transaction (retried if another writer won)."""
    while True:
        try:
            with book.transaction() as tx:
                c: dict[str, Any] = tx.read_json(contact_id)
                if new_tag not in c["tags"]:
                    c["tags"].append(new_tag)
                tx.put_json(contact_id, c)
            return
        except docdb.ConflictError:
            continue


def listing(book: docdb.Database) -> list[str]:
    """One line per contact, in id order, from a consistent snapshot."""
    import json

    lines = []
    with book.snapshot() as snap:
        for contact_id, data in snap:
            c = json.loads(data)
            lines.append(f"  #{contact_id:<3} {c['name']:<18} {c['email']:<24} {','.join(c['tags'])}")
    return lines


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "contacts"
    print(f"DocDB {docdb.__version__}: contacts book in {root}")

    with docdb.open(root) as store:
        book = store.open_or_create_db("contacts")
        if len(book) == 0:
            # An atomic import: every contact or none.
            people: list[Contact] = [
                {"name": "Ada Lovelace", "email": "ada@example.org", "tags": ["math"]},
                {"name": "Charles Babbage", "email": "charles@example.org", "tags": []},
                {"name": "Grace Hopper", "email": "grace@example.org", "tags": ["navy"]},
            ]
            import json

            version = book.batch(
                [("create", i + 1, json.dumps(p).encode()) for i, p in enumerate(people)]
            )
            print(f"imported {len(people)} contacts at version {version}")
        add_id = len(book) + 1
        add(book, add_id, {"name": "Alan Turing", "email": "alan@example.org", "tags": []})
        tag(book, 2, "engines")
        try:
            add(book, 1, {"name": "Duplicate", "email": "-", "tags": []})
        except docdb.AlreadyExistsError as e:
            print(f"refused duplicate: {e.code}")
        try:
            book.read(999)
        except docdb.NotFoundError as e:
            print(f"missing contact: {e}")
        print(f"{len(book)} contacts:")
        print("\n".join(listing(book)))
        print(f"stats: {book.stats()}")

    # Everything committed is there after reopening.
    with docdb.open(root) as store:
        book = store.open_db("contacts")
        assert book.read_json(2)["tags"] == ["engines"]
        print(f"reopened: {len(book)} contacts, {2 in book=}")


if __name__ == "__main__":
    main()
