"""The workspace database: one SQLite file holding experiments, sweeps, runs, metrics and tags.

Write-ahead logging lets readers (CLI, results API, dashboard) read while the sweep writes, and
never block it. During a sweep one connection (the controller's) writes metric values, in one
transaction per batch; other processes only write rarely (a cancel request) and wait their turn
with a busy timeout, so nobody meets "database is locked". Each thread gets its own connection.

The schema carries a version number; a database written by a newer hypersweep is refused, and
one written by an older one is migrated when it is opened (see :data:`MIGRATIONS`).

One process at a time drives a sweep. It holds the sweep's lock file (see ``hypersweep._launch``)
and records a random token in ``sweeps.driver_token``; its writes go through :meth:`Store.fenced`,
whose every transaction first checks, inside the same ``BEGIN IMMEDIATE``, that the token is still
its own, so a driver that lost the sweep cannot write another word to it.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypersweep._paths import DB_NAME as DB_NAME
from hypersweep._paths import STATE_DIR as STATE_DIR
from hypersweep._values import clean, clean_text
from hypersweep.errors import DriverLostError, NotFoundError, SchemaVersionError, WorkspaceError

logger = logging.getLogger(__name__)

#: What SQLite raises for a value it cannot bind or a row a constraint refuses (never a lock or I/O error).
_BIND_ERRORS = (sqlite3.InterfaceError, sqlite3.ProgrammingError, sqlite3.IntegrityError, OverflowError,
                UnicodeError, TypeError, ValueError)


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

#: The schema's history: each step brings a database of the version before it to its version, by the
#: columns it adds to tables that already existed (``ALTER TABLE ... ADD COLUMN``; the definition's
#: default is what rows written before it get). New tables need no step: ``_SCHEMA`` creates what is
#: missing. A database is migrated, in one transaction, when it is opened.
MIGRATIONS: tuple[tuple[int, tuple[tuple[str, str, str], ...]], ...] = (
    (2, (("sweeps", "driver_token", "TEXT"),)),  # who drives the sweep (see Store.fenced)
    (3, (("sweeps", "kind", "TEXT NOT NULL DEFAULT 'sweep'"),)),  # 'sweep', or 'single' for a single run
)
SCHEMA_VERSION = MIGRATIONS[-1][0]

#: Kinds of records in the metrics table that are not metrics: files a run uploaded (``name`` is the
#: file's name in the run). ``get_metrics`` leaves them out.
FILE_KIND = "file"
#: Kinds a run logs as JSON documents in Azure's schemas (shown as tables on the run page).
JSON_KINDS = ("confusion_matrix", "accuracy_table", "residuals", "predictions")
#: Kinds of records that set a field of the run rather than log a metric.
RUN_FIELD_KINDS = ("property", "display_name", "fail")
#: An image: the value is ``{"path": <file in the run>, "description": ...}``.
IMAGE_KIND = "image"


def encode_value(value: Any) -> tuple[float | None, str | None]:
    """Split a metric value into the REAL column and the JSON column (NaN, text and rows go to JSON).

    Whatever the value, the result can be bound: it passes the rule of :mod:`hypersweep._values`
    in its lenient form first (lone surrogates spelled out, integers beyond 64 bits as floats,
    beyond the float range as ±inf, nesting deeper than 100 levels replaced by a marker).
    """
    value = clean(value, lenient=True)
    if isinstance(value, bool):
        return float(value), json.dumps(value)
    if isinstance(value, (int, float)):
        value = float(value)
        return (None, "NaN") if math.isnan(value) else (value, None)
    return None, json.dumps(value, allow_nan=True)


def _text(value: Any) -> str:
    """A value for a TEXT column: its ``str()``, lone surrogates spelled out."""
    return clean_text(value if isinstance(value, str) else str(value))[0]


def _bindable(value: Any) -> Any:
    """A value for a column of the runs table: text cleaned, integers within 64 bits, else unchanged."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return clean(value, lenient=True)
    return value

_RUN_COLUMNS = frozenset(
    "status created started ended pid error reason best_value last_value intervals origin cancel_requested".split()
)


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
                row = tx.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is None:
                    tx.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                elif int(row[0]) > SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"The workspace database {self.path} has schema version {row[0]}, written by a "
                        f"newer hypersweep; this version reads up to {SCHEMA_VERSION}. "
                        "Upgrade with: pip install -U hypersweep"
                    )
                elif int(row[0]) < SCHEMA_VERSION:
                    self._migrate(tx, int(row[0]))
        except sqlite3.DatabaseError as exc:
            self.close()
            raise WorkspaceError(f"{self.path} is not a usable hypersweep database: {exc}") from exc

    @staticmethod
    def _migrate(tx: sqlite3.Connection, version: int) -> None:
        """Bring a database of an older schema ``version`` to :data:`SCHEMA_VERSION` (in ``tx``)."""
        for step, columns in MIGRATIONS:
            if step <= version:
                continue
            for table, column, definition in columns:
                present = {r["name"] for r in tx.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        tx.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    # -- who drives a sweep ----------------------------------------------------------------------

    def claim_driver(self, sweep_id: str, token: str, pid: int) -> None:
        """Record this process (``pid``, ``token``) as the sweep's driver, in one transaction.

        Call it only while holding the sweep's lock: whoever drove the sweep before has then
        stopped, or lost it; its writes are refused from now on (see :meth:`fenced`).
        """
        with self.transaction() as tx:
            done = tx.execute(
                "UPDATE sweeps SET driver_token = ?, driver_pid = ?, heartbeat = ? WHERE id = ?",
                (token, pid, time.time(), sweep_id),
            )
            if done.rowcount != 1:
                raise NotFoundError(f"No sweep {sweep_id!r} in this workspace ({self.path.parent}).")

    def fenced(self, sweep_id: str, token: str) -> Store:
        """This store, for the driver holding ``token``: each transaction fails with
        :class:`DriverLostError` (and writes nothing) once the sweep's token is another's."""
        return _FencedStore(self, sweep_id, token)

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
        """Insert logged values; each is converted so that SQLite can bind it (see :func:`encode_value`).

        A record SQLite still refuses is skipped alone (logged), never the batch.
        """
        rows = []
        now = time.time()
        for r in records:
            value, text = encode_value(r.value)
            when = r.time if isinstance(r.time, (int, float)) and math.isfinite(r.time) else now
            rows.append((_text(r.run_id), _text(r.name), int(r.step), _text(r.kind), value, text, float(when)))
        self._write_each(tx, "INSERT INTO metrics VALUES (?,?,?,?,?,?,?)", rows, "metric value")

    def set_tags(self, tx: sqlite3.Connection, run_id: str, tags: Mapping[str, str | None]) -> None:
        """Set tags of a run; keys and values are stored as text (lone surrogates spelled out).

        A value of None removes the tag (``remove_tags``).
        """
        rows = [(_text(run_id), _text(k), _text(v)) for k, v in tags.items() if v is not None]
        self._write_each(tx, "INSERT OR REPLACE INTO tags VALUES (?,?,?)", rows, "tag")
        gone = [(_text(run_id), _text(k)) for k, v in tags.items() if v is None]
        if gone:
            tx.executemany("DELETE FROM tags WHERE run_id = ? AND key = ?", gone)

    def update_runs(self, tx: sqlite3.Connection, updates: Mapping[str, Mapping[str, Any]]) -> None:
        """Set columns of several runs: ``{run_id: {column: value}}`` (text cleaned as for tags)."""
        for run_id, fields in updates.items():
            if not fields:
                continue
            unknown = set(fields) - _RUN_COLUMNS
            if unknown:
                raise ValueError(f"not columns of the runs table: {sorted(unknown)}")
            cols = ", ".join(f"{k} = ?" for k in fields)
            params = (*(_bindable(v) for v in fields.values()), _text(run_id))
            self._write_each(tx, f"UPDATE runs SET {cols} WHERE id = ?", [params], f"update of run {run_id}")

    @staticmethod
    def _write_each(tx: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]], what: str) -> None:
        """``executemany``; if a row cannot be bound after all, write the rows one by one and skip it."""
        if not rows:
            return
        if len(rows) == 1:  # one statement: it either happens entirely or not at all
            try:
                tx.execute(sql, rows[0])
            except _BIND_ERRORS as exc:
                logger.warning("hypersweep: a %s could not be stored and was skipped: %s", what, exc)
            return
        tx.execute("SAVEPOINT hs_batch")
        try:
            tx.executemany(sql, rows)
        except _BIND_ERRORS:
            tx.execute("ROLLBACK TO hs_batch")
            for row in rows:
                tx.execute("SAVEPOINT hs_row")
                try:
                    tx.execute(sql, row)
                except _BIND_ERRORS as exc:
                    tx.execute("ROLLBACK TO hs_row")
                    logger.warning("hypersweep: a %s could not be stored and was skipped: %s", what, exc)
                tx.execute("RELEASE hs_row")
        tx.execute("RELEASE hs_batch")

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
        """Apply a ``property`` or ``display_name`` record (see :data:`RUN_FIELD_KINDS`).

        Never raises for the values themselves: a property keeps its first value (the training side
        refuses a change before it is logged), and text is stored as for tags.
        """
        if kind == "display_name":
            sql = "INSERT OR REPLACE INTO properties VALUES (?,?,?)"
            self._write_each(tx, sql, [(_text(run_id), "display_name", _text(value))], "display name")
        elif kind == "property":
            sql = "INSERT OR IGNORE INTO properties VALUES (?,?,?)"
            self._write_each(tx, sql, [(_text(run_id), _text(name), _text(value))], "property")

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
                if kind == "property":  # a run read back: changing a property is the caller's error
                    self.add_properties(tx, run_id, {name: str(value)})
                    continue
                if kind == "display_name":
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


class _FencedStore(Store):
    """A view of a :class:`Store` (same connections) whose writes are refused once the sweep is another's."""

    def __init__(self, base: Store, sweep_id: str, token: str) -> None:  # noqa: D107 - no schema work here
        self.path = base.path
        self._local = base._local
        self._fence = (sweep_id, token)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        sweep_id, token = self._fence
        with super().transaction() as tx:
            row = tx.execute("SELECT driver_token, driver_pid FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()
            if row is None or row["driver_token"] != token:
                holder = f"process {row['driver_pid']}" if row is not None and row["driver_pid"] else "another process"
                raise DriverLostError(
                    f"Sweep {sweep_id} is now driven by {holder}; this process stopped driving it and wrote nothing more."
                )
            yield tx
