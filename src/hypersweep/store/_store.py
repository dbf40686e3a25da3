"""The :class:`Store`: connections, transactions, and every write to the workspace database.

Write-ahead logging lets readers (CLI, results API, dashboard) read while the sweep writes, and
never block it. During a sweep one connection (the controller's) writes, in one transaction per
step of its loop (:meth:`Store.apply`); other processes only write rarely (a cancel request) and
wait their turn with a busy timeout, so nobody meets "database is locked". Each thread gets its
own connection. ``Store(":memory:")`` keeps everything in memory (one connection shared by every
thread, under a lock): fast tests that need no file.

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from hypersweep._values import clean
from hypersweep.errors import DriverLostError, NotFoundError, WorkspaceError
from hypersweep.status import RunStatus
from hypersweep.store import _queries as q
from hypersweep.store import _records as rec
from hypersweep.store._readonly import ReadOnlyStore
from hypersweep.store._records import RUN_COLUMNS, SWEEP_COLUMNS, Batch, MetricRecord, NewRun
from hypersweep.store._records import text as _text
from hypersweep.store._schema import LIMIT_KEYS, create_or_migrate

logger = logging.getLogger(__name__)

#: What SQLite raises for a value it cannot bind or a row a constraint refuses (never a lock or I/O error).
_BIND_ERRORS = (
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    sqlite3.IntegrityError,
    OverflowError,
    UnicodeError,
    TypeError,
    ValueError,
)

MEMORY = ":memory:"
_R = TypeVar("_R", rec.SweepRecord, rec.RunRecord)


def _bindable(value: Any) -> Any:
    """A value for a column of the runs table: text cleaned, integers within 64 bits, else unchanged."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return clean(value, lenient=True)
    return value


class Store:
    """Access to one workspace database: every write, and the reads of the results API.

    Args:
        path: the database file; created (with its folder) if missing. ``":memory:"`` (or
            :meth:`in_memory`): a database in this process's memory, gone when the store is closed.

    Example:
        >>> store = Store.in_memory()
        >>> store.sweeps()
        []
    """

    def __init__(self, path: str | Path) -> None:
        self._memory = str(path) == MEMORY
        self.path = Path(path)
        if not self._memory:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WorkspaceError(
                    f"Cannot create the workspace folder {self.path.parent}: {exc}"
                ) from exc
        self._local = threading.local()
        self._shared: sqlite3.Connection | None = None  # the in-memory database's one connection
        self._shared_lock = threading.RLock()
        self._init_schema()

    @staticmethod
    def open_readonly(path: str | Path) -> ReadOnlyStore:
        """Read-only access to the existing database ``path`` (what the dashboard reads through)."""
        return ReadOnlyStore(path)

    @classmethod
    def in_memory(cls) -> Store:
        """A store whose database lives in memory (for tests: nothing touches the disk)."""
        return cls(MEMORY)

    # -- connections ---------------------------------------------------------------------------

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use; in memory, the one shared connection)."""
        if self._memory:
            if self._shared is None:
                self._shared = sqlite3.connect(
                    MEMORY, isolation_level=None, check_same_thread=False
                )
                self._shared.row_factory = sqlite3.Row
            return self._shared
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            except sqlite3.Error as exc:
                raise WorkspaceError(
                    f"Cannot open the workspace database {self.path}: {exc}"
                ) from exc
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
        """Close this thread's connection (in memory: the database itself)."""
        if self._memory:
            if self._shared is not None:
                self._shared.close()
                self._shared = None
            return
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A connection to read from (in memory, held alone while reading: threads share it)."""
        if not self._memory:
            yield self.connect()
            return
        with self._shared_lock:
            yield self.connect()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on success."""
        with self._reading() as conn:
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
            if not self._memory:
                conn.execute("PRAGMA journal_mode = WAL")
            with self._transaction() as tx:
                create_or_migrate(tx, self.path)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise WorkspaceError(f"{self.path} is not a usable hypersweep database: {exc}") from exc

    # -- who drives a sweep ----------------------------------------------------------------------

    def claim_driver(self, sweep_id: str, token: str, pid: int) -> None:
        """Record this process (``pid``, ``token``) as the sweep's driver, in one transaction.

        Call it only while holding the sweep's lock: whoever drove the sweep before has then
        stopped, or lost it; its writes are refused from now on (see :meth:`fenced`).
        """
        with self._transaction() as tx:
            done = tx.execute(
                "UPDATE sweeps SET driver_token = ?, driver_pid = ?, heartbeat = ? WHERE id = ?",
                (token, pid, time.time(), sweep_id),
            )
            if done.rowcount != 1:
                raise NotFoundError(
                    f"No sweep {sweep_id!r} in this workspace ({self.path.parent})."
                )

    def fenced(self, sweep_id: str, token: str) -> Store:
        """This store, for the driver holding ``token``: each transaction fails with
        :class:`DriverLostError` (and writes nothing) once the sweep's token is another's."""
        return _FencedStore(self, sweep_id, token)

    # -- experiments and sweeps ----------------------------------------------------------------

    def ensure_experiment(self, name: str) -> None:
        """Record the experiment ``name`` if it is new."""
        with self._transaction() as tx:
            tx.execute("INSERT OR IGNORE INTO experiments VALUES (?, ?)", (name, time.time()))

    def experiments(self) -> list[rec.ExperimentRecord]:
        """Every experiment, oldest first."""
        with self._reading() as conn:
            return q.experiments(conn)

    def create_sweep(
        self,
        sweep_id: str,
        experiment: str,
        config: dict[str, Any],
        tags: dict[str, str],
        kind: str = "sweep",
    ) -> None:
        """Record a new sweep (``kind='single'``: the record of a single run, which has no sampler).

        ``config`` is the sweep's description; its limits go to their own columns (stored once), and
        :class:`SweepRecord` gives them back in ``config``.
        """
        self.ensure_experiment(experiment)
        description = {k: v for k, v in config.items() if k not in LIMIT_KEYS}
        with self._transaction() as tx:
            tx.execute(
                "INSERT INTO sweeps (id, experiment, status, created, primary_metric, goal,"
                " max_total_runs, max_concurrent_runs, config, tags, kind) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    sweep_id,
                    experiment,
                    RunStatus.QUEUED.value,
                    time.time(),
                    config["primary_metric"]["name"],
                    config["primary_metric"]["goal"],
                    config["max_total_runs"],
                    config["max_concurrent_runs"],
                    json.dumps(description),
                    json.dumps(tags),
                    kind,
                ),
            )

    def sweep(self, sweep_id: str) -> rec.SweepRecord:
        """The sweep ``sweep_id``; :class:`NotFoundError` if there is none."""
        with self._reading() as conn:
            return self._found(q.sweep, conn, sweep_id)

    def sweeps(self, experiment: str | None = None) -> list[rec.SweepRecord]:
        """Every sweep (of ``experiment``), oldest first."""
        with self._reading() as conn:
            return q.sweeps(conn, experiment)

    def update_sweep(self, sweep_id: str, **fields: Any) -> None:
        """Set columns of a sweep (``tags`` as a dict or its JSON text)."""
        if isinstance(fields.get("tags"), dict):
            fields["tags"] = json.dumps(fields["tags"])
        unknown = set(fields) - SWEEP_COLUMNS - {"tags", "cancel_requested"}
        if unknown:
            raise ValueError(f"not columns a sweep's update may set: {sorted(unknown)}")
        with self._transaction() as tx:
            self._update_sweep(tx, sweep_id, fields)

    @staticmethod
    def _update_sweep(tx: sqlite3.Connection, sweep_id: str, fields: Mapping[str, Any]) -> None:
        if fields:
            cols = ", ".join(f"{k} = ?" for k in fields)
            tx.execute(f"UPDATE sweeps SET {cols} WHERE id = ?", (*fields.values(), sweep_id))

    def request_cancel(self, sweep_id: str) -> None:
        """Ask the process that drives the sweep to cancel it (read at its next loop turn)."""
        self.sweep(sweep_id)
        self.update_sweep(sweep_id, cancel_requested=1)

    def request_run_cancel(self, run_id: str) -> None:
        """Ask the process that drives the run's sweep to cancel this one run."""
        self.run(run_id)
        with self._transaction() as tx:
            tx.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))

    def cancel_requests(self, sweep_id: str) -> tuple[bool, list[str]]:
        """(whether the sweep's cancel was asked, its unfinished runs whose cancel was asked)."""
        with self._reading() as conn:
            return q.cancel_requests(conn, sweep_id)

    # -- the controller's writes ---------------------------------------------------------------

    def apply(self, batch: Batch, sweep_id: str | None = None) -> None:
        """Write one step of a sweep's loop in one transaction: new runs, logged values, run updates,
        tags, properties, runs canceled with the sweep, and the sweep's own columns (``sweep_id``).

        No record can abort the batch: a value SQLite cannot bind is converted (see
        :func:`encode_value`), and a row it still refuses is skipped alone (logged).
        """
        if not batch:
            return
        unknown = set(batch.sweep) - SWEEP_COLUMNS
        if unknown:
            raise ValueError(f"not columns of the sweeps table a batch may set: {sorted(unknown)}")
        with self._transaction() as tx:
            if batch.runs:
                self._insert_runs(tx, batch.runs)
            if batch.metrics:
                self._insert_metrics(tx, batch.metrics)
            self._update_runs(tx, batch.updates)
            for run_id, run_tags in batch.tags.items():
                self._set_tags(tx, run_id, run_tags)
            for run_id, kind, name, value in batch.run_fields:
                self._set_run_field(tx, run_id, kind, name, str(value))
            if batch.cancels:
                now = time.time()
                tx.executemany(
                    "UPDATE runs SET status = ?, ended = ?, reason = COALESCE(reason, ?) WHERE id = ?",
                    [
                        (RunStatus.CANCELED.value, now, reason, run_id)
                        for run_id, reason in batch.cancels
                    ],
                )
            if batch.sweep:
                if sweep_id is None:
                    raise ValueError("a batch that updates its sweep needs the sweep's id")
                self._update_sweep(tx, sweep_id, batch.sweep)

    @staticmethod
    def _insert_runs(tx: sqlite3.Connection, runs: Sequence[NewRun]) -> None:
        tx.executemany(
            "INSERT INTO runs (id, sweep_id, number, status, created, hyperparameters, arguments,"
            " run_dir, origin) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    r.id,
                    r.sweep_id,
                    r.number,
                    r.status.value,
                    r.created,
                    json.dumps(dict(r.hyperparameters)),
                    json.dumps(r.arguments),
                    r.run_dir,
                    json.dumps(dict(r.origin)) if r.origin is not None else None,
                )
                for r in runs
            ],
        )

    # -- runs ----------------------------------------------------------------------------------

    def run(self, run_id: str) -> rec.RunRecord:
        """The run ``run_id``; :class:`NotFoundError` if there is none."""
        with self._reading() as conn:
            return self._found(q.run, conn, run_id)

    def runs(self, sweep_id: str) -> list[rec.RunRecord]:
        """The sweep's runs, by number."""
        with self._reading() as conn:
            return q.runs(conn, sweep_id)

    def find_run(self, prefix: str) -> rec.RunRecord:
        """A run by its id, or by a unique suffix such as ``_3`` with the sweep id."""
        with self._reading() as conn:
            return self._found(q.find_run, conn, prefix)

    def _found(
        self, read: Callable[[sqlite3.Connection, str], _R], conn: sqlite3.Connection, key: str
    ) -> _R:
        """``read(conn, key)``, its :class:`NotFoundError` naming this workspace."""
        try:
            return read(conn, key)
        except NotFoundError as exc:
            raise NotFoundError(f"{str(exc).rstrip('.')} ({self.path.parent}).") from None

    def _insert_metrics(self, tx: sqlite3.Connection, records: Sequence[MetricRecord]) -> None:
        """Insert logged values; each is converted so that SQLite can bind it (see :func:`encode_value`).

        A record SQLite still refuses is skipped alone (logged), never the batch.
        """
        rows = []
        now = time.time()
        for r in records:
            value, text = rec.encode_value(r.value)
            when = r.time if isinstance(r.time, (int, float)) and math.isfinite(r.time) else now
            rows.append(
                (
                    _text(r.run_id),
                    _text(r.name),
                    int(r.step),
                    _text(r.kind),
                    value,
                    text,
                    float(when),
                )
            )
        self._write_each(tx, "INSERT INTO metrics VALUES (?,?,?,?,?,?,?)", rows, "metric value")

    def _set_tags(
        self, tx: sqlite3.Connection, run_id: str, tags: Mapping[str, str | None]
    ) -> None:
        """Set tags of a run; keys and values are stored as text (lone surrogates spelled out).

        A value of None removes the tag (``remove_tags``).
        """
        rows = [(_text(run_id), _text(k), _text(v)) for k, v in tags.items() if v is not None]
        self._write_each(tx, "INSERT OR REPLACE INTO tags VALUES (?,?,?)", rows, "tag")
        gone = [(_text(run_id), _text(k)) for k, v in tags.items() if v is None]
        if gone:
            tx.executemany("DELETE FROM tags WHERE run_id = ? AND key = ?", gone)

    def _update_runs(
        self, tx: sqlite3.Connection, updates: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Set columns of several runs: ``{run_id: {column: value}}`` (text cleaned as for tags)."""
        for run_id, fields in updates.items():
            if not fields:
                continue
            unknown = set(fields) - RUN_COLUMNS
            if unknown:
                raise ValueError(f"not columns of the runs table: {sorted(unknown)}")
            cols = ", ".join(f"{k} = ?" for k in fields)
            params = (*(_bindable(v) for v in fields.values()), _text(run_id))
            self._write_each(
                tx, f"UPDATE runs SET {cols} WHERE id = ?", [params], f"update of run {run_id}"
            )

    @staticmethod
    def _write_each(
        tx: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]], what: str
    ) -> None:
        """``executemany``; if a row cannot be bound after all, write the rows one by one and skip it."""
        if not rows:
            return
        if len(rows) == 1:  # one statement: it either happens entirely or not at all
            try:
                tx.execute(sql, rows[0])
            except _BIND_ERRORS as exc:
                logger.warning(
                    "hypersweep: a %s could not be stored and was skipped: %s", what, exc
                )
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
                    logger.warning(
                        "hypersweep: a %s could not be stored and was skipped: %s", what, exc
                    )
                tx.execute("RELEASE hs_row")
        tx.execute("RELEASE hs_batch")

    def _add_properties(
        self, tx: sqlite3.Connection, run_id: str, properties: dict[str, str]
    ) -> None:
        """Add properties to a run. As in Azure, a property once set keeps its value.

        Raises:
            InvalidConfigError: a key is already set to a different value (nothing is written).
        """
        from hypersweep.errors import InvalidConfigError

        current = q.properties(tx, run_id)
        for key, value in properties.items():
            if key in current and current[key] != value:
                raise InvalidConfigError(
                    f"The 'properties' parameter of Run.add_properties must not change a property: {key!r} is "
                    f"already {current[key]!r} on run {run_id}. Got {value!r} instead."
                )
        tx.executemany(
            "INSERT OR IGNORE INTO properties VALUES (?,?,?)",
            [(run_id, k, v) for k, v in properties.items()],
        )

    def _set_run_field(
        self, tx: sqlite3.Connection, run_id: str, kind: str, name: str, value: str
    ) -> None:
        """Apply a ``property`` or ``display_name`` record (see :data:`RUN_FIELD_KINDS`).

        Never raises for the values themselves: a property keeps its first value (the training side
        refuses a change before it is logged), and text is stored as for tags.
        """
        if kind == "display_name":
            sql = "INSERT OR REPLACE INTO properties VALUES (?,?,?)"
            self._write_each(
                tx, sql, [(_text(run_id), "display_name", _text(value))], "display name"
            )
        elif kind == "property":
            sql = "INSERT OR IGNORE INTO properties VALUES (?,?,?)"
            self._write_each(tx, sql, [(_text(run_id), _text(name), _text(value))], "property")

    def end_run(self, run_id: str, status: str, error: str | None) -> bool:
        """End a run that no controller drives (a child run, or ``Run.fail()`` after the fact); False if it had ended.

        A run that has ended already keeps its status, except that ``fail`` marks a Completed run Failed.
        """
        with self._transaction() as tx:
            row = tx.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"No run {run_id!r} in this workspace ({self.path.parent}).")
            ended = RunStatus(row["status"]).is_terminal
            if ended and not (status == RunStatus.FAILED and row["status"] == RunStatus.COMPLETED):
                return False
            now = time.time()
            tx.execute(
                "UPDATE runs SET status = ?, error = ?, ended = COALESCE(ended, ?), started = COALESCE(started, ?)"
                " WHERE id = ?",
                (status, error, now, now, run_id),
            )
            sweep = tx.execute(
                "SELECT r.sweep_id, s.kind FROM runs r JOIN sweeps s ON s.id = r.sweep_id"
                " WHERE r.id = ?",
                (run_id,),
            ).fetchone()
            if (
                sweep["kind"] == "single"
            ):  # the run is its record's only run: the record ends with it
                tx.execute(
                    "UPDATE sweeps SET status = ?, ended = COALESCE(ended, ?), error = ? WHERE id = ?",
                    (status, now, error, sweep["sweep_id"]),
                )
        return True

    def runs_with_property(self, key: str, value: str) -> list[str]:
        """Ids of the runs whose property ``key`` is ``value`` (a run's child runs), oldest first."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT p.run_id FROM properties p JOIN runs r ON r.id = p.run_id WHERE p.key = ? AND p.value = ?"
                " ORDER BY r.created",
                (key, value),
            ).fetchall()
        return [r[0] for r in rows]

    def properties(self, run_id: str) -> dict[str, str]:
        """The properties a run added with ``add_properties``."""
        with self._reading() as conn:
            return q.properties(conn, run_id)

    def append_records(self, run_id: str, records: Sequence[dict[str, Any]]) -> None:
        """Write records in the events-file format (``{"k", "n", "v", "t"}``) for a run, outside a sweep's
        controller (a run read back from the workspace logs, tags or uploads after it ended)."""
        with self._transaction() as tx:
            steps = {
                r["name"]: r["step"]
                for r in tx.execute(
                    "SELECT name, MAX(step) AS step FROM metrics WHERE run_id = ? GROUP BY name",
                    (run_id,),
                )
            }
            metric_rows: list[MetricRecord] = []
            for item in records:
                kind, name, value = item["k"], item["n"], item["v"]
                if kind in ("tag", "untag"):
                    self._set_tags(tx, run_id, {name: None if kind == "untag" else str(value)})
                    continue
                if kind == "property":  # a run read back: changing a property is the caller's error
                    self._add_properties(tx, run_id, {name: str(value)})
                    continue
                if kind == "display_name":
                    self._set_run_field(tx, run_id, kind, name, str(value))
                    continue
                if kind == "fail":
                    continue
                values = value if kind == "list" and isinstance(value, list) else [value]
                for v in values:
                    steps[name] = steps.get(name, 0) + 1
                    metric_rows.append(
                        MetricRecord(
                            run_id,
                            name,
                            steps[name],
                            "scalar" if kind == "metric" else kind,
                            v,
                            float(item.get("t") or time.time()),
                        )
                    )
            self._insert_metrics(tx, metric_rows)

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
        with self._transaction() as tx:
            row = tx.execute("SELECT MAX(version) FROM models WHERE name = ?", (name,)).fetchone()
            version = int(row[0] or 0) + 1
            place(version)
            tx.execute(
                "INSERT INTO models (name, version, run_id, experiment, path, source, tags, properties,"
                " description, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    name,
                    version,
                    fields.get("run_id"),
                    fields.get("experiment"),
                    fields["path"],
                    fields["source"],
                    json.dumps(fields.get("tags") or {}),
                    json.dumps(fields.get("properties") or {}),
                    fields.get("description"),
                    time.time(),
                ),
            )
        return version

    def models(self, name: str | None = None) -> list[rec.ModelRecord]:
        """Registered models (every version), by name then version."""
        with self._reading() as conn:
            return q.models(conn, name)

    def model(self, name: str, version: int | None = None) -> rec.ModelRecord | None:
        """One version of a model (the latest when ``version`` is None), or None."""
        with self._reading() as conn:
            return q.model(conn, name, version)

    # -- logged values -------------------------------------------------------------------------

    def metrics(
        self, run_id: str, kinds: Sequence[str] | None = None, logged_order: bool = False
    ) -> list[MetricRecord]:
        """A run's logged records (those of ``kinds``), by name then step or in the order they were written."""
        with self._reading() as conn:
            return q.metrics(conn, run_id, kinds, logged_order)

    def sweep_metrics(self, sweep_id: str) -> dict[str, list[MetricRecord]]:
        """``{run_id: its records by name then step}`` for every run of the sweep, by run number."""
        with self._reading() as conn:
            return q.sweep_metrics(conn, sweep_id)

    def metric_series(self, run_ids: Sequence[str], name: str) -> dict[str, list[float]]:
        """``{run_id: [values...]}`` of one scalar metric for several runs, in logging order."""
        with self._reading() as conn:
            return q.metric_series(conn, run_ids, name)

    def metric_counts(self, sweep_id: str) -> dict[str, dict[str, int]]:
        """``{run_id: {metric name: its last step}}`` for the sweep's runs."""
        with self._reading() as conn:
            return q.metric_counts(conn, sweep_id)

    def tags(self, run_id: str) -> dict[str, str]:
        """A run's tags."""
        with self._reading() as conn:
            return q.tags(conn, run_id)


class _FencedStore(Store):
    """A view of a :class:`Store` (same connections) whose writes are refused once the sweep is another's."""

    def __init__(self, base: Store, sweep_id: str, token: str) -> None:  # noqa: D107 - no schema work here
        self._base = base
        self.path, self._memory = base.path, base._memory
        self._local, self._shared_lock = base._local, base._shared_lock
        self._fence = (sweep_id, token)

    def connect(self) -> sqlite3.Connection:
        return self._base.connect()

    def close(self) -> None:
        self._base.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        sweep_id, token = self._fence
        with super()._transaction() as tx:
            row = tx.execute(
                "SELECT driver_token, driver_pid FROM sweeps WHERE id = ?", (sweep_id,)
            ).fetchone()
            if row is None or row["driver_token"] != token:
                holder = (
                    f"process {row['driver_pid']}"
                    if row is not None and row["driver_pid"]
                    else "another process"
                )
                raise DriverLostError(
                    f"Sweep {sweep_id} is now driven by {holder}; this process stopped driving it and wrote nothing more."
                )
            yield tx
