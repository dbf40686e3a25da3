"""The data behind the sweep pages: plain dicts, ready for JSON, from a few of the store's queries.

A sweep of 1000 runs x 100 intervals costs three queries (the sweep, its runs, the primary
metric's values of all its runs) whatever its size; nothing is queried per run. Live pages poll
:func:`sweep_updates` with the cursor of their last answer and get only what changed.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from hypersweep.dashboard._json import Raw, finite
from hypersweep.space_nested import flat_values
from hypersweep.status import RunStatus
from hypersweep.store import Reads, RunRecord, SweepRecord, SweepSummary

_LOG_TYPES = {"loguniform", "qloguniform", "lognormal", "qlognormal"}
# a run's status can change up to this long (s) after the time it records; see sweep_updates
_LATE = 60.0


def _elapsed(row: SweepSummary | SweepRecord, now: float) -> float:
    start = row.started or row.created
    return max(0.0, (row.ended or now) - start)


def sweep_list(reads: Reads) -> list[dict[str, Any]]:
    """Every sweep, newest first: status, progress, best value so far, elapsed time."""
    now = time.time()
    rows = reads.sweep_summaries()
    return [
        {
            "id": r.id,
            "experiment": r.experiment,
            "status": r.status,
            "created": r.created,
            "started": r.started,
            "ended": r.ended,
            "elapsed": _elapsed(r, now),
            "primary_metric": r.primary_metric,
            "goal": r.goal.lower(),
            "max_total_runs": r.max_total_runs,
            "n_runs": r.n_runs,
            "done": r.done,
            "best": r.best_max if r.goal.lower() == "maximize" else r.best_min,
            "cancel_requested": bool(r.cancel_requested),
            "kind": r.kind,
            # a single run is shown as the run it is: its id and status
            "run_id": r.first_run if r.kind == "single" else None,
            "run_status": r.first_status if r.kind == "single" else None,
        }
        for r in rows
    ]


def parameters(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The search space as ``[{name, label, type, log, values}]`` (axes of the charts); a nested choice
    is the keys of its branches, as the runs' flattened values (``hp``) are."""
    space = config.get("generator_config", {}).get("parameter_space", {})
    if any(_is_nested(spec) for spec in space.values()):
        return _flat_parameters(space)
    out = []
    for name, spec in space.items():
        kind = spec[0] if isinstance(spec, list) and spec else "?"
        entry: dict[str, Any] = {"name": name, "label": name.lstrip("-"), "type": kind}
        entry["log"] = kind in _LOG_TYPES
        if kind == "choice" and isinstance(spec[1], list) and spec[1]:
            entry["values"] = spec[1][0]
        out.append(entry)
    return out


def _is_nested(spec: Any) -> bool:
    return (
        isinstance(spec, list)
        and len(spec) == 2
        and spec[0] == "choice"
        and isinstance(spec[1], list)
        and bool(spec[1])
        and isinstance(spec[1][0], list)
        and any(isinstance(v, dict) for v in spec[1][0])
    )


def _flat_parameters(space: dict[str, Any]) -> list[dict[str, Any]]:
    from hypersweep.space import Choice, ParameterExpression
    from hypersweep.space_nested import flat_parameters

    out = []
    for name, expr in flat_parameters(space):
        if not isinstance(
            expr, ParameterExpression
        ):  # a branch key's fixed values (expressions are lists too)
            entry: dict[str, Any] = {
                "name": name,
                "label": name.lstrip("-"),
                "type": "choice",
                "log": False,
                "values": expr,
            }
        else:
            entry = {
                "name": name,
                "label": name.lstrip("-"),
                "type": expr.kind,
                "log": expr.kind in _LOG_TYPES,
            }
            if isinstance(expr, Choice):
                entry["values"] = expr.options()
        out.append(entry)
    return out


def _summary(row: SweepRecord, runs: list[dict[str, Any]], now: float) -> dict[str, Any]:
    config = row.config
    maximize = row.goal.lower() == "maximize"
    scored = [r for r in runs if r["best"] is not None]
    best = (max if maximize else min)(scored, key=lambda r: r["best"]) if scored else None
    counts: dict[str, int] = {}
    for r in runs:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {
        "id": row.id,
        "experiment": row.experiment,
        "status": row.status.value,
        "created": row.created,
        "started": row.started,
        "ended": row.ended,
        "elapsed": _elapsed(row, now),
        "primary_metric": row.primary_metric,
        "goal": row.goal.lower(),
        "max_total_runs": row.max_total_runs,
        "max_concurrent_runs": row.max_concurrent_runs,
        "n_runs": len(runs),
        "done": sum(n for status, n in counts.items() if RunStatus(status).is_terminal),
        "counts": counts,
        "best": best["best"] if best else None,
        "best_run": best["number"] if best else None,
        "cancel_requested": row.cancel_requested,
        "error": row.error,
        "tags": dict(row.tags),
        "sampling": config.get("generator_config", {}).get("name"),
        "policy": config.get("policy_config"),
        "parameters": parameters(config),
    }


def nonfinite_note(marks: dict[str, str]) -> str:
    """The note a run shows for its values that are not finite, e.g. ``not finite: lr=inf, best=inf``."""
    return "not finite: " + ", ".join(f"{k}={v}" for k, v in marks.items()) if marks else ""


def _run(row: RunRecord, now: float) -> dict[str, Any]:
    marks: dict[str, str] = {}
    hp = finite(flat_values(row.hyperparameters), marks)
    best = finite(row.best_value, marks, "best")
    last = finite(row.last_value, marks, "last")
    note = (row.reason or row.error or "").strip()
    note = note.splitlines()[0] if note else nonfinite_note(marks)
    return {
        "id": row.id,
        "number": row.number,
        "status": row.status.value,
        "started": row.started,
        "ended": row.ended,
        "duration": None if row.started is None else (row.ended or now) - row.started,
        "hp": hp,
        "best": best,
        "last": last,
        "intervals": row.intervals,
        "note": note,
        "nonfinite": marks,
    }


def _cursor(reads: Reads, now: float) -> str:
    return f"{reads.last_metric_rowid()}:{now:.3f}"


def _thin(
    xs: list[int], ys: list[float | None], limit: int, maximize: bool
) -> tuple[list[int], list[Any]]:
    """At most ``limit`` evenly spaced points, always keeping the first, the last and the best."""
    n = len(ys)
    keep = {round(i * (n - 1) / (limit - 1)) for i in range(limit - 1)} | {n - 1}
    finite = [i for i in range(n) if ys[i] is not None]
    if finite:
        keep.add((max if maximize else min)(finite, key=lambda i: ys[i]))  # type: ignore[arg-type,return-value]
    order = sorted(keep)
    return [xs[i] for i in order], [ys[i] for i in order]


def _series(
    reads: Reads, sweep_id: str, metric: str, max_points: int, maximize: bool
) -> tuple[Raw, dict[int, list[int]]]:
    rows = reads.series_summary(sweep_id, metric)  # each run's values as JSON text, built by SQLite
    limit = max(50, max_points // max(1, len(rows)))
    parts: list[str] = []
    odd: list[int] = []  # runs to thin, or whose intervals are not 1..n: done in Python
    for number, count, first, last, text in rows:
        if count > limit or first != 1 or last != count:
            odd.append(number)
        else:
            parts.append(f'"{number}":[{text}]')
    out_x: dict[int, list[int]] = {}
    xs: dict[int, list[int]] = {n: [] for n in odd}
    ys: dict[int, list[Any]] = {n: [] for n in odd}
    for number, step, value in reads.series_points(sweep_id, metric, odd):
        xs[number].append(step)
        ys[number].append(value)
    for number in odd:
        x, y = xs[number], ys[number]
        if len(y) > limit:
            x, y = _thin(x, y, limit, maximize)
        out_x[number] = x
        parts.append(f'"{number}":{json.dumps(y, allow_nan=False)}')
    return Raw("{" + ",".join(parts) + "}"), out_x


def sweep_payload(reads: Reads, sweep_id: str, max_points: int = 200_000) -> dict[str, Any]:
    """A sweep's summary, its runs and every run's primary metric against interval.

    Args:
        reads: the store's queries (from :meth:`Reader.snapshot`, for a consistent view).
        sweep_id: the sweep.
        max_points: the budget of points for all series together; a run with more than its share
            (at least 50) is thinned, keeping its first, last and best values.

    Returns:
        ``{"sweep", "runs", "series": {"y": {number: values}, "x": {number: intervals}}, "cursor"}``;
        ``x`` is present only for thinned runs (otherwise value i is interval i + 1). ``series.y``
        is pre-encoded JSON (:class:`~hypersweep.dashboard._json.Raw`): encode with ``_json.dumps``.
    """
    now = time.time()
    row = reads.sweep(sweep_id)
    runs = [_run(r, now) for r in reads.runs(sweep_id)]
    cursor = _cursor(reads, now)
    maximize = row.goal.lower() == "maximize"
    ys, xs = _series(reads, sweep_id, row.primary_metric, max_points, maximize)
    return {
        "sweep": _summary(row, runs, now),
        "runs": runs,
        "series": {"y": ys, "x": xs},
        "cursor": cursor,
    }


_MAX_ROWID = 2**63 - 1  # SQLite's largest integer


def parse_cursor(cursor: str) -> tuple[int, float]:
    """``"rowid:time"`` as returned by the API; ValueError if malformed or out of range.

    The row id must be an integer in [0, 2**63 - 1] (what SQLite can compare with) and the time a
    finite number of seconds.
    """
    rowid_text, sep, stamp_text = cursor.partition(":")
    if not sep:
        raise ValueError(f"The cursor must be 'ROWID:TIME'. Got {cursor!r} instead.")
    rowid, stamp = int(rowid_text), float(stamp_text)
    if not 0 <= rowid <= _MAX_ROWID:
        raise ValueError(
            f"The cursor's row id must be an integer in [0, {_MAX_ROWID}]. Got {rowid_text!r} instead."
        )
    if not math.isfinite(stamp) or abs(stamp) > 1e15:
        raise ValueError(
            f"The cursor's time must be a finite number of seconds. Got {stamp_text!r} instead."
        )
    return rowid, stamp


def sweep_updates(reads: Reads, sweep_id: str, since: str) -> dict[str, Any]:
    """What changed since ``since`` (the ``cursor`` of an earlier answer).

    New metric values are those inserted after the cursor's last metric row (row ids only grow),
    so a value logged early but written late is not missed. Changed runs are every run not yet
    finished plus those that ended (or started) shortly before the cursor's time.

    Returns:
        ``{"sweep", "runs": [changed runs], "points": {number: [[interval, value], ...]}, "cursor"}``.
    """
    last_rowid, last_time = parse_cursor(since)
    now = time.time()
    row = reads.sweep(sweep_id)
    cursor = _cursor(reads, now)
    all_runs = [_run(r, now) for r in reads.runs(sweep_id)]
    edge = last_time - _LATE
    changed = [
        r
        for r in all_runs
        if not RunStatus(r["status"]).is_terminal
        or (r["ended"] or 0) >= edge
        or (r["started"] or 0) >= edge
    ]
    points: dict[int, list[list[Any]]] = {}
    for number, step, value in reads.points_since(sweep_id, row.primary_metric, last_rowid):
        points.setdefault(number, []).append([step, value])
    return {
        "sweep": _summary(row, all_runs, now),
        "runs": changed,
        "points": points,
        "cursor": cursor,
    }
