"""Read-only access to the workspace database for the dashboard.

The connections are the store's read-only ones (:class:`~hypersweep.store.ReadOnlyStore`): one per
server thread, with ``PRAGMA query_only``; in WAL mode a reader never blocks the process that drives
a sweep, and the dashboard can never write by mistake. A read that needs several queries runs them
in one read transaction (``snapshot()``), so they see one state of the database. The queries are
the store's too, read through :class:`~hypersweep.store.Reads`.
"""

from __future__ import annotations

from pathlib import Path

from hypersweep._paths import DB_NAME, STATE_DIR
from hypersweep.store import ReadOnlyStore


class Reader(ReadOnlyStore):
    """Thread-local read-only connections to ``WORKSPACE/.hypersweep/hypersweep.db``.

    Args:
        workspace: the workspace folder.
    """

    def __init__(self, workspace: str | Path) -> None:
        super().__init__(Path(workspace).expanduser().resolve() / STATE_DIR / DB_NAME)
