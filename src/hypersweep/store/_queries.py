"""The read queries, on any connection: the store's own, or the dashboard's read-only one.

Each function takes a connection whose ``row_factory`` is :class:`sqlite3.Row` and returns records
(see :mod:`hypersweep.store._records`) or plain tuples; none writes. The results API, the
controller and the dashboard share them, so a column's meaning is written down once.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from typing import TypeVar

from hypersweep.errors import NotFoundError
from hypersweep.status import RunStatus
from hypersweep.store._records import (
    SERIES_KINDS,
    ExperimentRecord,
    MetricRecord,
    ModelRecord,
    RunRecord,
    SweepRecord,
    SweepSummary,
    decode_value,
)

#: The statuses of runs that have ended, as SQL text (``status IN (...)``).
_ENDED = ", ".join(f"'{s.value}'" for s in RunStatus if s.is_terminal)
_SERIES_IN = ", ".join(f"'{k}'" for k in SERIES_KINDS)
# finite REAL values only (SQLite may hold +-inf, which JSON cannot carry)
_FINITE = "CASE WHEN {0} BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308 THEN {0} END"
_CHUNK = 500  # ids per IN (...) list: well under SQLite's limit of bound parameters
_R = TypeVar("_R", SweepRecord, RunRecord)


# -- sweeps -------------------------------------------------------------------------------------


def _one(conn: sqlite3.Connection, table: str, key: str, record: type[_R], what: str) -> _R:
    """The record of the row of ``table`` whose id is ``key``; :class:`NotFoundError` if there is none."""
    row = conn.execute(f"SELECT * FROM {table} WHERE id = ?", (key,)).fetchone()
    if row is None:
        raise NotFoundError(f"No {what} {key!r} in this workspace.")
    return record.from_row(row)


def experiments(conn: sqlite3.Connection) -> list[ExperimentRecord]:
    """Every experiment, oldest first."""
    return [
        ExperimentRecord.from_row(r)
        for r in conn.execute("SELECT * FROM experiments ORDER BY created")
    ]


def sweep(conn: sqlite3.Connection, sweep_id: str) -> SweepRecord:
    """The sweep ``sweep_id``; :class:`NotFoundError` if there is none."""
    return _one(conn, "sweeps", sweep_id, SweepRecord, "sweep")


def sweeps(conn: sqlite3.Connection, experiment: str | None = None) -> list[SweepRecord]:
    """Every sweep (of ``experiment``), oldest first."""
    sql = (
        "SELECT * FROM sweeps"
        + (" WHERE experiment = ?" if experiment else "")
        + " ORDER BY created"
    )
    return [SweepRecord.from_row(r) for r in conn.execute(sql, (experiment,) if experiment else ())]


def has_kind_column(conn: sqlite3.Connection) -> bool:
    """Whether the database has the sweeps' ``kind`` column (older ones get it when hypersweep next opens them)."""
    return any(row[1] == "kind" for row in conn.execute("PRAGMA table_info(sweeps)"))


def sweep_summaries(conn: sqlite3.Connection) -> list[SweepSummary]:
    """Every sweep, newest first, with what the list of sweeps shows: its columns but ``config``, and
    ``first_run``, ``first_status``, ``n_runs``, ``done`` (ended runs), ``best_max``, ``best_min``
    (over the runs' finite best values)."""
    kind = "s.kind" if has_kind_column(conn) else "'sweep'"
    rows = conn.execute(
        f"SELECT s.id, s.experiment, s.status, s.created, s.started, s.ended, s.primary_metric, {kind} AS kind,"
        " MIN(r.id) AS first_run, MIN(r.status) AS first_status,"
        " s.goal, s.max_total_runs, s.cancel_requested, COUNT(r.id) AS n_runs,"
        f" COALESCE(SUM(r.status IN ({_ENDED})), 0) AS done,"
        f" MAX({_FINITE.format('r.best_value')}) AS best_max,"
        f" MIN({_FINITE.format('r.best_value')}) AS best_min"
        " FROM sweeps s LEFT JOIN runs r ON r.sweep_id = s.id GROUP BY s.id ORDER BY s.created DESC"
    )
    return [SweepSummary.from_row(r) for r in rows]


def cancel_requests(conn: sqlite3.Connection, sweep_id: str) -> tuple[bool, list[str]]:
    """(whether the sweep's cancel was asked, the ids of its unfinished runs whose cancel was asked)."""
    row = conn.execute("SELECT cancel_requested FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"No sweep {sweep_id!r} in this workspace.")
    wanted = conn.execute(
        "SELECT id FROM runs WHERE sweep_id = ? AND cancel_requested = 1 AND status IN (?, ?)",
        (sweep_id, RunStatus.QUEUED.value, RunStatus.RUNNING.value),
    ).fetchall()
    return bool(row[0]), [r[0] for r in wanted]


# -- runs ---------------------------------------------------------------------------------------


def run(conn: sqlite3.Connection, run_id: str) -> RunRecord:
    """The run ``run_id``; :class:`NotFoundError` if there is none."""
    return _one(conn, "runs", run_id, RunRecord, "run")


def find_run(conn: sqlite3.Connection, prefix: str) -> RunRecord:
    """A run by its id, or by a prefix of its id that only one run has; :class:`NotFoundError` if
    none or several match."""
    try:
        return run(conn, prefix)
    except NotFoundError:
        rows = conn.execute(
            "SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
            (prefix.replace("_", "\\_") + "%",),
        ).fetchall()
        if len(rows) == 1:
            return RunRecord.from_row(rows[0])
        raise


def runs(conn: sqlite3.Connection, sweep_id: str) -> list[RunRecord]:
    """The sweep's runs, by number."""
    return [
        RunRecord.from_row(r)
        for r in conn.execute("SELECT * FROM runs WHERE sweep_id = ? ORDER BY number", (sweep_id,))
    ]


def tags(conn: sqlite3.Connection, run_id: str) -> dict[str, str]:
    """A run's tags."""
    return {
        r[0]: r[1] for r in conn.execute("SELECT key, value FROM tags WHERE run_id = ?", (run_id,))
    }


def properties(conn: sqlite3.Connection, run_id: str) -> dict[str, str]:
    """The properties a run added with ``add_properties`` (and its display name)."""
    return {
        r[0]: r[1]
        for r in conn.execute("SELECT key, value FROM properties WHERE run_id = ?", (run_id,))
    }


# -- metrics ------------------------------------------------------------------------------------


def metrics(
    conn: sqlite3.Connection,
    run_id: str,
    kinds: Sequence[str] | None = None,
    logged_order: bool = False,
) -> list[MetricRecord]:
    """A run's logged records, by name then step (``logged_order``: in the order they were written),
    all of them or only those of ``kinds``."""
    where, params = "run_id = ?", [run_id]
    if kinds is not None:
        where += f" AND kind IN ({','.join('?' * len(kinds))})"
        params += list(kinds)
    order = "rowid" if logged_order else "name, step"
    return [
        MetricRecord.from_row(r)
        for r in conn.execute(f"SELECT * FROM metrics WHERE {where} ORDER BY {order}", params)
    ]


def sweep_metrics(conn: sqlite3.Connection, sweep_id: str) -> dict[str, list[MetricRecord]]:
    """``{run_id: records by name then step}`` for every run of the sweep (runs by number; none left out)."""
    out: dict[str, list[MetricRecord]] = {
        r[0]: []
        for r in conn.execute("SELECT id FROM runs WHERE sweep_id = ? ORDER BY number", (sweep_id,))
    }
    rows = conn.execute(
        "SELECT m.* FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.sweep_id = ?"
        " ORDER BY r.number, m.name, m.step",
        (sweep_id,),
    )
    for row in rows:
        out[row["run_id"]].append(MetricRecord.from_row(row))
    return out


def metric_series(
    conn: sqlite3.Connection, run_ids: Sequence[str], name: str
) -> dict[str, list[float]]:
    """``{run_id: [values...]}`` of one numeric metric for several runs, in logging order (NaN for values
    that are not numbers)."""
    out: dict[str, list[float]] = {r: [] for r in run_ids}
    for start in range(0, len(run_ids), _CHUNK):
        chunk = list(run_ids[start : start + _CHUNK])
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT run_id, value, json FROM metrics WHERE name = ? AND kind IN ({_SERIES_IN})"
            f" AND run_id IN ({marks}) ORDER BY run_id, step",
            (name, *chunk),
        ):
            value = decode_value(row["value"], row["json"])
            out[row["run_id"]].append(float(value) if isinstance(value, (int, float)) else math.nan)
    return out


def metric_counts(conn: sqlite3.Connection, sweep_id: str) -> dict[str, dict[str, int]]:
    """``{run_id: {metric name: its last step}}`` for the sweep's runs that logged anything."""
    counts: dict[str, dict[str, int]] = {}
    for run_id, name, step in conn.execute(
        "SELECT m.run_id, m.name, MAX(m.step) FROM metrics m JOIN runs r ON r.id = m.run_id"
        " WHERE r.sweep_id = ? GROUP BY m.run_id, m.name",
        (sweep_id,),
    ):
        counts.setdefault(run_id, {})[name] = step
    return counts


def last_metric_rowid(conn: sqlite3.Connection) -> int:
    """The row id of the last value written (0 for none): row ids only grow, so it marks a point in time."""
    return int(conn.execute("SELECT MAX(rowid) FROM metrics").fetchone()[0] or 0)


def series_summary(
    conn: sqlite3.Connection, sweep_id: str, metric: str
) -> list[tuple[int, int, int, int, str]]:
    """For each run of the sweep that logged ``metric`` (as numbers): ``(number, count, first step, last
    step, values)``, the values as JSON array items built by SQLite (7 significant digits, ``null`` for
    those that are not finite).

    The runs come in number order from ``runs_by_sweep`` and each run's values in step order from
    ``metrics_by_run`` (the plan has no sort), so ``group_concat`` sees them in order.
    """
    cur = conn.cursor()
    cur.row_factory = None
    return cur.execute(
        "SELECT r.number, COUNT(*), MIN(m.step), MAX(m.step),"
        f" group_concat(coalesce(printf('%.7g', {_FINITE.format('m.value')}), 'null'), ',')"
        " FROM runs r JOIN metrics m ON m.run_id = r.id"
        f" WHERE r.sweep_id = ? AND m.name = ? AND m.kind IN ({_SERIES_IN}) GROUP BY r.number",
        (sweep_id, metric),
    ).fetchall()


def series_points(
    conn: sqlite3.Connection, sweep_id: str, metric: str, numbers: Sequence[int]
) -> list[tuple[int, int, float | None]]:
    """``(number, step, finite value or None)`` of ``metric`` for the sweep's runs ``numbers``, by number
    then step."""
    cur = conn.cursor()
    cur.row_factory = None
    out: list[tuple[int, int, float | None]] = []
    for start in range(0, len(numbers), _CHUNK):
        chunk = list(numbers[start : start + _CHUNK])
        out += cur.execute(
            f"SELECT r.number, m.step, {_FINITE.format('m.value')} FROM runs r JOIN metrics m ON m.run_id = r.id"
            f" WHERE r.sweep_id = ? AND m.name = ? AND m.kind IN ({_SERIES_IN})"
            f" AND r.number IN ({','.join('?' * len(chunk))}) ORDER BY r.number, m.step",
            (sweep_id, metric, *chunk),
        ).fetchall()
    return out


def points_since(
    conn: sqlite3.Connection, sweep_id: str, metric: str, rowid: int
) -> list[tuple[int, int, float | None]]:
    """``(number, step, finite value or None)`` of ``metric`` written after metric row ``rowid``, in the
    order they were written."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur.execute(
        f"SELECT r.number, m.step, {_FINITE.format('m.value')} FROM metrics m JOIN runs r ON r.id = m.run_id"
        f" WHERE m.rowid > ? AND r.sweep_id = ? AND m.name = ? AND m.kind IN ({_SERIES_IN})"
        " ORDER BY m.rowid",
        (rowid, sweep_id, metric),
    ).fetchall()


# -- models -------------------------------------------------------------------------------------


def models(conn: sqlite3.Connection, name: str | None = None) -> list[ModelRecord]:
    """Registered models (every version) by name then version."""
    where, params = ("", ()) if name is None else (" WHERE name = ?", (name,))
    try:
        rows = conn.execute(f"SELECT * FROM models{where} ORDER BY name, version", params)
        return [ModelRecord.from_row(r) for r in rows]
    except sqlite3.OperationalError as exc:  # a database from before the registry: no models yet
        if "no such table" in str(exc):
            return []
        raise


def model(conn: sqlite3.Connection, name: str, version: int | None = None) -> ModelRecord | None:
    """One version of a model (the latest when ``version`` is None), or None."""
    if version is None:
        row = conn.execute(
            "SELECT * FROM models WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT * FROM models WHERE name = ? AND version = ?", (name, version)
        ).fetchone()
    return None if row is None else ModelRecord.from_row(row)
