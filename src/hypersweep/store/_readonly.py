"""Read-only access to a workspace database: what the dashboard reads through.

Each thread gets its own SQLite connection with ``PRAGMA query_only``; in WAL mode a reader never
blocks the process that drives a sweep, and a reader can never write by mistake. A read that needs
several queries runs them in one read transaction (:meth:`ReadOnlyStore.snapshot`), so they see
one state of the database. The queries themselves are :mod:`hypersweep.store._queries`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypersweep.errors import NotFoundError


class ReadOnlyStore:
    """Thread-local read-only connections to the database file ``path`` (never created here).

    Args:
        path: the database file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @property
    def exists(self) -> bool:
        """Whether the database exists yet."""
        return self.path.is_file()

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if not self.exists:
                raise NotFoundError(f"There is no hypersweep workspace database at {self.path}.")
            uri = f"{self.path.as_uri()}?mode=rw"  # never creates a database
            conn = sqlite3.connect(
                uri, uri=True, timeout=5.0, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same state of the database."""
        conn = self.connect()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection opened so far."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
