"""Fixtures: a fresh store in a temporary directory, closed after each test."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import docdb


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A data directory that does not exist yet."""
    return tmp_path / "store"


@pytest.fixture
def store(store_path: Path) -> Iterator[docdb.Store]:
    """An open store (sync="full"), closed after the test."""
    s = docdb.open(store_path)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def db(store: docdb.Store) -> docdb.Database:
    """An empty database named "test" in `store`."""
    return store.create_db("test")
