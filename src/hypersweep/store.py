"""The workspace database: one SQLite file holding experiments, sweeps, runs, metrics and tags.

Write-ahead logging lets readers (CLI, results API, dashboard) read while the sweep writes, and
never block it. During a sweep one connection (the controller's) writes metric values, in one
transaction per batch; other processes only write rarely (a cancel request) and wait their turn
with a busy timeout, so nobody meets "database is locked". Each thread gets its own connection.

The schema carries a version number; a database written by a newer hypersweep is refused.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypersweep.errors import NotFoundError, SchemaVersionError, WorkspaceError

SCHEMA_VERSION = 1
STATE_DIR = ".hypersweep"  # inside the workspace folder: the database, snapshots and run folders
DB_NAME = "hypersweep.db"

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

#: Columns added after a table was first released: (table, column, definition). Each is added with
#: ``ALTER TABLE ... ADD COLUMN`` when an older database is opened; the definition's default is what
#: the rows written before it get.
_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("sweeps", "kind", "TEXT NOT NULL DEFAULT 'sweep'"),  # 'sweep', or 'single' for a single run
)

#: Kinds of records in the metrics table that are not metrics: files a run uploaded (``name`` is the
#: file's name in the run). ``get_metrics`` leaves them out.
FILE_KIND = "file"
#: Kinds a run logs as JSON documents in Azure's schemas (shown as tables on the run page).
JSON_KINDS = ("confusion_matrix", "accuracy_table", "residuals", "predictions")
#: Kinds of records that set a field of the run rather than log a metric.
RUN_FIELD_KINDS = ("property", "display_name", "fail")
#: An image: the value is ``{"path": <file in the run>, "description": ...}``.
IMAGE_KIND = "image"


def add_missing_columns(tx: sqlite3.Connection) -> list[str]:
    """Bring the tables of an older database up to date (see :data:`_ADDED_COLUMNS`); return what was added."""
    added = []
    for table, column, definition in _ADDED_COLUMNS:
        present = {row[1] for row in tx.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            added.append(f"{table}.{column}")
    return added


def encode_value(value: Any) -> tuple[float | None, str | None]:
    """Split a metric value into the REAL column and the JSON column (NaN, text and rows go to JSON)."""
    if isinstance(value, bool):
        return float(value), json.dumps(value)
    if isinstance(value, (int, float)):
        value = float(value)
        return (None, "NaN") if math.isnan(value) else (value, None)
    return None, json.dumps(value, allow_nan=True)


def decode_value(value: float | None, text: str | None) -> Any:
    """The inverse of :func:`encode_value`."""
    if text is None:
        return value
    if text == "NaN":
        return math.nan
    return json.loads(text)


@dataclass(frozen=True)
class MetricRecord:
    """One logged value, ready to insert."""

    run_id: str
    name: str
    step: int
    kind: str
    value: Any
    time: float


class Store:
    """Access to one workspace database.

    Args:
        path: the database file; created (with its folder) if missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"Cannot create the workspace folder {self.path.parent}: {exc}") from exc
        self._local = threading.local()
        self._init_schema()

    # -- connections ---------------------------------------------------------------------------

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            except sqlite3.Error as exc:
                raise WorkspaceError(f"Cannot open the workspace database {self.path}: {exc}") from exc
            conn.row_factory = sqlite3.Row
            try:
                conn.execute("PRAGMA busy_timeout = 30000")
                conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.DatabaseError:
                conn.close()
                raise
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on success."""
        conn = self.connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _init_schema(self) -> None:
        try:
            conn = self.connect()
            conn.execute("PRAGMA journal_mode = WAL")
            with self.transaction() as tx:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        tx.execute(statement)
                add_missing_columns(tx)
                row = tx.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is None:
                    tx.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                elif int(row[0]) > SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"The workspace database {self.path} has schema version {row[0]}, written by a "
                        f"newer hypersweep; this version reads up to {SCHEMA_VERSION}. "
                        "Upgrade with: pip install -U hypersweep"
                    )
        except sqlite3.DatabaseError as exc:
            self.close()
            raise WorkspaceError(f"{self.path} is not a usable hypersweep database: {exc}") from exc

    # -- experiments and sweeps ----------------------------------------------------------------

    def ensure_experiment(self, name: str) -> None:
        with self.transaction() as tx:
            tx.execute("INSERT OR IGNORE INTO experiments VALUES (?, ?)", (name, time.time()))

    def experiments(self) -> list[sqlite3.Row]:
        return self.connect().execute("SELECT * FROM experiments ORDER BY created").fetchall()

    def create_sweep(
        self, sweep_id: str, experiment: str, config: dict[str, Any], tags: dict[str, str], kind: str = "sweep"
    ) -> None:
        """Record a new sweep (``kind='single'``: the record of a single run, which has no sampler)."""
        self.ensure_experiment(experiment)
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO sweeps (id, experiment, status, created, primary_metric, goal,"
                " max_total_runs, max_concurrent_runs, config, tags, kind) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    sweep_id,
                    experiment,
                    "Queued",
                    time.time(),
                    config["primary_metric"]["name"],
                    config["primary_metric"]["goal"],
                    config["max_total_runs"],
                    config["max_concurrent_runs"],
                    json.dumps(config),
                    json.dumps(tags),
                    kind,
                ),
            )

    def sweep(self, sweep_id: str) -> sqlite3.Row:
        row = self.connect().execute("SELECT * FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"No sweep {sweep_id!r} in this workspace ({self.path.parent}).")
        return row

    def sweeps(self, experiment: str | None = None) -> list[sqlite3.Row]:
        sql = "SELECT * FROM sweeps" + (" WHERE experiment = ?" if experiment else "") + " ORDER BY created"
        return self.connect().execute(sql, (experiment,) if experiment else ()).fetchall()

    def update_sweep(self, sweep_id: str, **fields: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as tx:
            tx.execute(f"UPDATE sweeps SET {cols} WHERE id = ?", (*fields.values(), sweep_id))

    def request_cancel(self, sweep_id: str) -> None:
        """Ask the process that drives the sweep to cancel it (read at its next loop turn)."""
        self.sweep(sweep_id)
        self.update_sweep(sweep_id, cancel_requested=1)

    def request_run_cancel(self, run_id: str) -> None:
        """Ask the process that drives the run's sweep to cancel this one run."""
        self.run(run_id)
        with self.transaction() as tx:
            tx.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))

    # -- runs ----------------------------------------------------------------------------------

    def create_runs(self, tx: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> None:
        tx.executemany(
            "INSERT INTO runs (id, sweep_id, number, status, created, hyperparameters, arguments,"
            " run_dir, origin) VALUES (:id, :sweep_id, :number, :status, :created, :hyperparameters,"
            " :arguments, :run_dir, :origin)",
            list(rows),
        )

    def run(self, run_id: str) -> sqlite3.Row:
        row = self.connect().execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"No run {run_id!r} in this workspace ({self.path.parent}).")
        return row

    def runs(self, sweep_id: str) -> list[sqlite3.Row]:
        return (
            self.connect()
            .execute("SELECT * FROM runs WHERE sweep_id = ? ORDER BY number", (sweep_id,))
            .fetchall()
        )

    def find_run(self, prefix: str) -> sqlite3.Row:
        """A run by its id, or by a unique suffix such as ``_3`` with the sweep id."""
        try:
            return self.run(prefix)
        except NotFoundError:
            rows = self.connect().execute(
                "SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
                (prefix.replace("_", "\\_") + "%",),
            ).fetchall()
            if len(rows) == 1:
                return rows[0]
            raise

    def insert_metrics(self, tx: sqlite3.Connection, records: Sequence[MetricRecord]) -> None:
        rows = []
        for r in records:
            value, text = encode_value(r.value)
            rows.append((r.run_id, r.name, r.step, r.kind, value, text, r.time))
        tx.executemany("INSERT INTO metrics VALUES (?,?,?,?,?,?,?)", rows)

    def set_tags(self, tx: sqlite3.Connection, run_id: str, tags: dict[str, str | None]) -> None:
        """Set tags; a value of None removes the tag (``remove_tags``)."""
        tx.executemany(
            "INSERT OR REPLACE INTO tags VALUES (?,?,?)", [(run_id, k, v) for k, v in tags.items() if v is not None]
        )
        tx.executemany(
            "DELETE FROM tags WHERE run_id = ? AND key = ?", [(run_id, k) for k, v in tags.items() if v is None]
        )

    def add_properties(self, tx: sqlite3.Connection, run_id: str, properties: dict[str, str]) -> None:
        """Add properties to a run. As in Azure, a property once set keeps its value.

        Raises:
            InvalidConfigError: a key is already set to a different value (nothing is written).
        """
        from hypersweep.errors import InvalidConfigError

        current = self.properties(run_id, tx)
        for key, value in properties.items():
            if key in current and current[key] != value:
                raise InvalidConfigError(
                    f"The 'properties' parameter of Run.add_properties must not change a property: {key!r} is "
                    f"already {current[key]!r} on run {run_id}. Got {value!r} instead."
                )
        tx.executemany("INSERT OR IGNORE INTO properties VALUES (?,?,?)", [(run_id, k, v) for k, v in properties.items()])

    def set_run_field(self, tx: sqlite3.Connection, run_id: str, kind: str, name: str, value: str) -> None:
        """Apply a ``property`` or ``display_name`` record (see :data:`RUN_FIELD_KINDS`)."""
        if kind == "display_name":
            tx.execute("INSERT OR REPLACE INTO properties VALUES (?,?,?)", (run_id, "display_name", value))
        elif kind == "property":
            self.add_properties(tx, run_id, {name: value})

    def end_run(self, run_id: str, status: str, error: str | None) -> bool:
        """End a run that no controller drives (a child run, or ``Run.fail()`` after the fact); False if it had ended.

        A run that has ended already keeps its status, except that ``fail`` marks a Completed run Failed.
        """
        with self.transaction() as tx:
            row = tx.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"No run {run_id!r} in this workspace ({self.path.parent}).")
            ended = row["status"] in ("Completed", "Failed", "Canceled")
            if ended and not (status == "Failed" and row["status"] == "Completed"):
                return False
            now = time.time()
            tx.execute(
                "UPDATE runs SET status = ?, error = ?, ended = COALESCE(ended, ?), started = COALESCE(started, ?)"
                " WHERE id = ?", (status, error, now, now, run_id),
            )
            sweep = tx.execute("SELECT r.sweep_id, s.kind FROM runs r JOIN sweeps s ON s.id = r.sweep_id"
                               " WHERE r.id = ?", (run_id,)).fetchone()
            if sweep["kind"] == "single":  # the run is its record's only run: the record ends with it
                tx.execute("UPDATE sweeps SET status = ?, ended = COALESCE(ended, ?), error = ? WHERE id = ?",
                           (status, now, error, sweep["sweep_id"]))
        return True

    def runs_with_property(self, key: str, value: str) -> list[str]:
        """Ids of the runs whose property ``key`` is ``value`` (a run's child runs), oldest first."""
        rows = self.connect().execute(
            "SELECT p.run_id FROM properties p JOIN runs r ON r.id = p.run_id WHERE p.key = ? AND p.value = ?"
            " ORDER BY r.created", (key, value),
        )
        return [r[0] for r in rows]

    def properties(self, run_id: str, conn: sqlite3.Connection | None = None) -> dict[str, str]:
        """The properties a run added with ``add_properties``."""
        rows = (conn or self.connect()).execute("SELECT key, value FROM properties WHERE run_id = ?", (run_id,))
        return {r["key"]: r["value"] for r in rows}

    def append_records(self, run_id: str, records: Sequence[dict[str, Any]]) -> None:
        """Write records in the events-file format (``{"k", "n", "v", "t"}``) for a run, outside a sweep's
        controller (a run read back from the workspace logs, tags or uploads after it ended)."""
        with self.transaction() as tx:
            steps = {
                r["name"]: r["step"]
                for r in tx.execute("SELECT name, MAX(step) AS step FROM metrics WHERE run_id = ? GROUP BY name", (run_id,))
            }
            metric_rows: list[MetricRecord] = []
            for rec in records:
                kind, name, value = rec["k"], rec["n"], rec["v"]
                if kind in ("tag", "untag"):
                    self.set_tags(tx, run_id, {name: None if kind == "untag" else str(value)})
                    continue
                if kind in ("property", "display_name"):
                    self.set_run_field(tx, run_id, kind, name, str(value))
                    continue
                if kind == "fail":
                    continue
                values = value if kind == "list" and isinstance(value, list) else [value]
                for v in values:
                    steps[name] = steps.get(name, 0) + 1
                    metric_rows.append(MetricRecord(run_id, name, steps[name], "scalar" if kind == "metric" else kind,
                                                    v, float(rec.get("t") or time.time())))
            self.insert_metrics(tx, metric_rows)

    # -- the model registry --------------------------------------------------------------------

    def add_model(self, name: str, fields: dict[str, Any], place: Any) -> int:
        """Register a new version of model ``name``: the next version number, allocated atomically.

        Args:
            name: the model's name.
            fields: run_id, experiment, path, source, tags, properties (dicts), description.
            place: ``place(version)`` puts the model's files where that version keeps them; it runs
                inside the write transaction, so two registrations never get the same version, and
                nothing is recorded if it fails.

        Returns:
            The new version (1 for the first).
        """
        with self.transaction() as tx:
            row = tx.execute("SELECT MAX(version) FROM models WHERE name = ?", (name,)).fetchone()
            version = int(row[0] or 0) + 1
            place(version)
            tx.execute(
                "INSERT INTO models (name, version, run_id, experiment, path, source, tags, properties,"
                " description, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (name, version, fields.get("run_id"), fields.get("experiment"), fields["path"], fields["source"],
                 json.dumps(fields.get("tags") or {}), json.dumps(fields.get("properties") or {}),
                 fields.get("description"), time.time()),
            )
        return version

    def models(self, name: str | None = None) -> list[sqlite3.Row]:
        """Registered models (every version), by name then version."""
        return model_rows(self.connect(), name)

    def model(self, name: str, version: int | None = None) -> sqlite3.Row | None:
        """One version of a model (the latest when ``version`` is None), or None."""
        conn = self.connect()
        if version is None:
            return conn.execute(
                "SELECT * FROM models WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)
            ).fetchone()
        return conn.execute("SELECT * FROM models WHERE name = ? AND version = ?", (name, version)).fetchone()

    def metrics(self, run_id: str) -> list[sqlite3.Row]:
        return (
            self.connect()
            .execute("SELECT * FROM metrics WHERE run_id = ? ORDER BY name, step", (run_id,))
            .fetchall()
        )

    def metric_series(self, run_ids: Sequence[str], name: str) -> dict[str, list[float]]:
        """``{run_id: [values...]}`` of one scalar metric for several runs, in logging order."""
        out: dict[str, list[float]] = {r: [] for r in run_ids}
        for chunk_start in range(0, len(run_ids), 500):
            chunk = list(run_ids[chunk_start : chunk_start + 500])
            marks = ",".join("?" * len(chunk))
            for row in self.connect().execute(
                f"SELECT run_id, value, json FROM metrics WHERE name = ? AND kind IN ('scalar', 'list')"
                f" AND run_id IN ({marks}) ORDER BY run_id, step",
                (name, *chunk),
            ):
                value = decode_value(row["value"], row["json"])
                out[row["run_id"]].append(float(value) if isinstance(value, (int, float)) else math.nan)
        return out

    def tags(self, run_id: str) -> dict[str, str]:
        rows = self.connect().execute("SELECT key, value FROM tags WHERE run_id = ?", (run_id,))
        return {r["key"]: r["value"] for r in rows}


def model_rows(conn: sqlite3.Connection, name: str | None = None) -> list[sqlite3.Row]:
    """Registered models (every version) by name then version, through any connection (the dashboard's too)."""
    try:
        if name is None:
            return conn.execute("SELECT * FROM models ORDER BY name, version").fetchall()
        return conn.execute("SELECT * FROM models WHERE name = ? ORDER BY version", (name,)).fetchall()
    except sqlite3.OperationalError as exc:  # a database from before the registry: no models yet
        if "no such table" in str(exc):
            return []
        raise
