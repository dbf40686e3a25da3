"""Read-only access to a workspace database: what the dashboard reads through.

Each thread gets its own SQLite connection with ``PRAGMA query_only``; in WAL mode a reader never
blocks the process that drives a sweep, and a reader can never write by mistake. A read that needs
several queries runs them in one read transaction (:meth:`ReadOnlyStore.snapshot`), so they see
one state of the database. The queries themselves are :mod:`hypersweep.store._queries`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hypersweep.errors import NotFoundError
from hypersweep.store import _queries as q
from hypersweep.store._records import (
    MetricRecord,
    ModelRecord,
    RunRecord,
    SweepRecord,
    SweepSummary,
)


class Reads:
    """The read queries of :mod:`hypersweep.store._queries` on one connection, which callers never see.

    What :meth:`ReadOnlyStore.snapshot` yields (every read inside sees one state of the database)
    and :meth:`ReadOnlyStore.reads` returns (each read on its own).
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def sweep(self, sweep_id: str) -> SweepRecord:
        """The sweep ``sweep_id``; :class:`NotFoundError` if there is none."""
        return q.sweep(self._conn, sweep_id)

    def sweep_summaries(self) -> list[SweepSummary]:
        """Every sweep, newest first, with its runs counted (see :func:`_queries.sweep_summaries`)."""
        return q.sweep_summaries(self._conn)

    def run(self, run_id: str) -> RunRecord:
        """The run ``run_id``; :class:`NotFoundError` if there is none."""
        return q.run(self._conn, run_id)

    def runs(self, sweep_id: str) -> list[RunRecord]:
        """The sweep's runs, by number."""
        return q.runs(self._conn, sweep_id)

    def tags(self, run_id: str) -> dict[str, str]:
        """A run's tags."""
        return q.tags(self._conn, run_id)

    def properties(self, run_id: str) -> dict[str, str]:
        """A run's properties (and its display name)."""
        return q.properties(self._conn, run_id)

    def metrics(
        self, run_id: str, kinds: Sequence[str] | None = None, logged_order: bool = False
    ) -> list[MetricRecord]:
        """A run's logged records (those of ``kinds``), by name then step or in logging order."""
        return q.metrics(self._conn, run_id, kinds, logged_order)

    def models(self, name: str | None = None) -> list[ModelRecord]:
        """Registered models (every version) by name then version."""
        return q.models(self._conn, name)

    def last_metric_rowid(self) -> int:
        """The row id of the last value written (0 for none)."""
        return q.last_metric_rowid(self._conn)

    def series_summary(self, sweep_id: str, metric: str) -> list[tuple[int, int, int, int, str]]:
        """See :func:`_queries.series_summary`."""
        return q.series_summary(self._conn, sweep_id, metric)

    def series_points(
        self, sweep_id: str, metric: str, numbers: Sequence[int]
    ) -> list[tuple[int, int, float | None]]:
        """See :func:`_queries.series_points`."""
        return q.series_points(self._conn, sweep_id, metric, numbers)

    def points_since(
        self, sweep_id: str, metric: str, rowid: int
    ) -> list[tuple[int, int, float | None]]:
        """See :func:`_queries.points_since`."""
        return q.points_since(self._conn, sweep_id, metric, rowid)


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

    def reads(self) -> Reads:
        """The queries on this thread's connection, each read on its own."""
        return Reads(self.connect())

    @contextmanager
    def snapshot(self) -> Iterator[Reads]:
        """A read transaction: every query inside sees the same state of the database."""
        conn = self.connect()
        conn.execute("BEGIN")
        try:
            yield Reads(conn)
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection opened so far."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
