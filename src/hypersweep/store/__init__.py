"""The workspace database: one SQLite file holding experiments, sweeps, runs, metrics and tags.

Every SQL statement of hypersweep is in this package:

- :mod:`._schema`: the tables, the schema version and :data:`MIGRATIONS` (a database written by a
  newer hypersweep is refused; one written by an older one is migrated when it is opened);
- :mod:`._records`: what goes in and out, frozen and decoded (:class:`SweepRecord`,
  :class:`RunRecord`, :class:`MetricRecord`, :class:`ModelRecord`...; :class:`NewRun` and the :class:`Batch` of one step of
  a sweep's loop);
- :mod:`._queries`: the read queries, on any connection, shared by the results API, the controller
  and the dashboard;
- :mod:`._store`: :class:`Store`, the connections, transactions and every write (``Store.apply``
  writes a controller's batch in one transaction; ``Store(":memory:")`` for tests);
- :mod:`._readonly`: :class:`ReadOnlyStore`, the dashboard's read-only connections, read through
  :class:`Reads` (the queries, no connection in sight).
"""

from __future__ import annotations

from hypersweep._paths import DB_NAME, STATE_DIR
from hypersweep.store import _queries as queries
from hypersweep.store._readonly import ReadOnlyStore, Reads
from hypersweep.store._records import (
    FILE_KIND,
    IMAGE_KIND,
    JSON_KINDS,
    RUN_FIELD_KINDS,
    SERIES_KINDS,
    Batch,
    ExperimentRecord,
    MetricRecord,
    ModelRecord,
    NewRun,
    RunRecord,
    SweepRecord,
    SweepSummary,
    decode_value,
    encode_value,
)
from hypersweep.store._schema import _SCHEMA, MIGRATIONS, SCHEMA_VERSION, Migration
from hypersweep.store._store import Store

__all__ = [
    "DB_NAME",
    "FILE_KIND",
    "IMAGE_KIND",
    "JSON_KINDS",
    "MIGRATIONS",
    "RUN_FIELD_KINDS",
    "SCHEMA_VERSION",
    "SERIES_KINDS",
    "STATE_DIR",
    "_SCHEMA",
    "Batch",
    "ExperimentRecord",
    "MetricRecord",
    "ModelRecord",
    "Migration",
    "NewRun",
    "ReadOnlyStore",
    "Reads",
    "RunRecord",
    "Store",
    "SweepRecord",
    "SweepSummary",
    "decode_value",
    "encode_value",
    "queries",
]
