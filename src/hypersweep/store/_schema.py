"""The database's tables, its version and the migrations that bring an older database up to date."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypersweep.errors import SchemaVersionError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS experiments (name TEXT PRIMARY KEY, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sweeps (
    id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL REFERENCES experiments(name),
    status TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    primary_metric TEXT NOT NULL,
    goal TEXT NOT NULL,
    max_total_runs INTEGER NOT NULL,
    max_concurrent_runs INTEGER NOT NULL,
    config TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}',
    driver_pid INTEGER,
    driver_token TEXT,
    heartbeat REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    kind TEXT NOT NULL DEFAULT 'sweep'
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    sweep_id TEXT NOT NULL REFERENCES sweeps(id),
    number INTEGER NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    hyperparameters TEXT NOT NULL,
    arguments TEXT NOT NULL,
    run_dir TEXT NOT NULL,
    pid INTEGER,
    error TEXT,
    reason TEXT,
    best_value REAL,
    last_value REAL,
    intervals INTEGER NOT NULL DEFAULT 0,
    origin TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs(sweep_id, number);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    step INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value REAL,
    json TEXT,
    time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_by_run ON metrics(run_id, name, step);
CREATE TABLE IF NOT EXISTS tags (
    run_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS properties (
    run_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS models (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    run_id TEXT,
    experiment TEXT,
    path TEXT NOT NULL,
    source TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}',
    properties TEXT NOT NULL DEFAULT '{}',
    description TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (name, version)
);
"""

#: The keys of a sweep's description that live in columns of the sweeps table, not in its ``config``
#: text: the limits, stored once (the record puts them back into ``SweepRecord.config``).
LIMIT_KEYS = ("max_total_runs", "max_concurrent_runs")


def _limits_out_of_config(tx: sqlite3.Connection) -> None:
    """Version 4: the sweep limits are kept in their columns only, no longer in ``config`` too."""
    rows = tx.execute("SELECT id, config FROM sweeps").fetchall()
    for sweep_id, text in rows:
        try:
            config = json.loads(text)
        except ValueError:
            continue
        if isinstance(config, dict) and any(key in config for key in LIMIT_KEYS):
            for key in LIMIT_KEYS:
                config.pop(key, None)
            tx.execute("UPDATE sweeps SET config = ? WHERE id = ?", (json.dumps(config), sweep_id))


@dataclass(frozen=True)
class Migration:
    """One step of the schema's history: what brings a database of the version before to ``version``.

    Attributes:
        version: the schema version after this step.
        columns: ``(table, column, definition)`` added to tables that already existed (``ALTER TABLE
            ... ADD COLUMN``; the definition's default is what rows written before it get).
        rewrite: a change of the data itself, run after the columns are added (in the same transaction).
    """

    version: int
    columns: tuple[tuple[str, str, str], ...] = ()
    rewrite: Callable[[sqlite3.Connection], None] | None = None


#: The schema's history. New tables need no step: ``_SCHEMA`` creates what is missing. A database is
#: migrated, in one transaction, when it is opened.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, (("sweeps", "driver_token", "TEXT"),)),  # who drives the sweep (see Store.fenced)
    Migration(
        3, (("sweeps", "kind", "TEXT NOT NULL DEFAULT 'sweep'"),)
    ),  # 'sweep', or 'single' for a single run
    Migration(
        4, rewrite=_limits_out_of_config
    ),  # max_total_runs and max_concurrent_runs: in their columns only
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def create_or_migrate(tx: sqlite3.Connection, path: Path) -> None:
    """Create what is missing and bring an older database to :data:`SCHEMA_VERSION` (inside ``tx``).

    Raises:
        SchemaVersionError: the database was written by a newer hypersweep.
    """
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            tx.execute(statement)
    row = tx.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        tx.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    elif int(row[0]) > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"The workspace database {path} has schema version {row[0]}, written by a "
            f"newer hypersweep; this version reads up to {SCHEMA_VERSION}. "
            "Upgrade with: pip install -U hypersweep"
        )
    elif int(row[0]) < SCHEMA_VERSION:
        migrate(tx, int(row[0]))


def migrate(tx: sqlite3.Connection, version: int) -> None:
    """Bring a database of an older schema ``version`` to :data:`SCHEMA_VERSION` (in ``tx``)."""
    for step in MIGRATIONS:
        if step.version <= version:
            continue
        for table, column, definition in step.columns:
            present = {r[1] for r in tx.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        if step.rewrite is not None:
            step.rewrite(tx)
    tx.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
