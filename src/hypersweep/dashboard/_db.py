"""Read-only access to the workspace database for the dashboard.

Each server thread gets its own SQLite connection with ``PRAGMA query_only``; in WAL mode a reader
never blocks the process that drives a sweep, and the dashboard can never write by mistake.
A read that needs several queries runs them in one read transaction, so they see one snapshot.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypersweep.errors import NotFoundError
from hypersweep.store import DB_NAME

STATE_DIR = ".hypersweep"


class Reader:
    """Thread-local read-only connections to ``WORKSPACE/.hypersweep/hypersweep.db``.

    Args:
        workspace: the workspace folder.
    """

    def __init__(self, workspace: str | Path) -> None:
        self.path = Path(workspace).expanduser().resolve() / STATE_DIR / DB_NAME
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @property
    def exists(self) -> bool:
        """Whether the workspace has a database yet."""
        return self.path.is_file()

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if not self.exists:
                raise NotFoundError(f"There is no hypersweep workspace database at {self.path}.")
            uri = f"{self.path.as_uri()}?mode=rw"  # never creates a database
            conn = sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None, check_same_thread=False)
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
