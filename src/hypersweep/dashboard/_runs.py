"""The data behind a run's page: its definition, metrics, tags, files and the tail of its logs."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from hypersweep import _runfiles
from hypersweep.dashboard._json import finite
from hypersweep.errors import NotFoundError
from hypersweep.store import decode_value

MAX_LOG_BYTES = 256 * 1024


def run_row(conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
    """The run's row; :class:`NotFoundError` if there is none."""
    row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"No run {run_id!r} in this workspace.")
    return row


def metrics(conn: sqlite3.Connection, run_id: str) -> dict[str, dict[str, Any]]:
    """``{name: {"kind", "steps", "values"}}`` for series, ``{"kind": "table", "columns"}`` for tables."""
    out: dict[str, dict[str, Any]] = {}
    for row in conn.execute(
        "SELECT name, step, kind, value, json FROM metrics WHERE run_id = ? ORDER BY name, step", (run_id,)
    ):
        name, kind = row["name"], row["kind"]
        value = finite(decode_value(row["value"], row["json"]))
        if kind in ("row", "table"):
            entry = out.setdefault(name, {"kind": "table", "columns": {}})
            columns = entry["columns"]
            rows = value if kind == "row" else None
            if rows is None and isinstance(value, dict):
                for col, values in value.items():
                    columns.setdefault(col, []).extend(values if isinstance(values, list) else [values])
            elif isinstance(rows, dict):
                n = max((len(v) for v in columns.values()), default=0)
                for col, v in rows.items():
                    columns.setdefault(col, [None] * n).append(v)
                for col in columns:
                    if len(columns[col]) < n + 1:
                        columns[col].append(None)
            continue
        entry = out.setdefault(name, {"kind": "series", "steps": [], "values": []})
        entry["steps"].append(row["step"])
        entry["values"].append(value)
    return out


def file_names(run_dir: str) -> list[dict[str, Any]]:
    """The run's files under ``outputs/`` and ``logs/`` with their sizes (links out of the run are left out)."""
    return [{"name": name, "size": size} for name, size in _runfiles.list_files(run_dir)]


def run_payload(conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    """Everything the run page shows except its logs."""
    now = time.time()
    row = run_row(conn, run_id)
    sweep = conn.execute(
        "SELECT id, experiment, primary_metric, goal, config FROM sweeps WHERE id = ?", (row["sweep_id"],)
    ).fetchone()
    config = json.loads(sweep["config"]) if sweep else {}
    tags = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM tags WHERE run_id = ?", (run_id,))}
    marks: dict[str, str] = {}
    hyperparameters = finite(json.loads(row["hyperparameters"]), marks, "hyperparameters")
    arguments = finite(json.loads(row["arguments"]), marks, "arguments")
    best = finite(row["best_value"], marks, "best")
    last = finite(row["last_value"], marks, "last")
    return {
        "run": {
            "id": row["id"],
            "sweep_id": row["sweep_id"],
            "experiment": sweep["experiment"] if sweep else None,
            "number": row["number"],
            "status": row["status"],
            "created": row["created"],
            "started": row["started"],
            "ended": row["ended"],
            "duration": None if row["started"] is None else (row["ended"] or now) - row["started"],
            "hyperparameters": hyperparameters,
            "arguments": arguments,
            "command": config.get("run_config", {}).get("command"),
            "reason": row["reason"],
            "error": row["error"],
            "intervals": row["intervals"],
            "best": best,
            "last": last,
            "nonfinite": marks,
            "primary_metric": sweep["primary_metric"] if sweep else None,
            "goal": sweep["goal"].lower() if sweep else None,
        },
        "tags": tags,
        "metrics": metrics(conn, run_id),
        "files": file_names(row["run_dir"]),
    }


def log_chunk(run_dir: str, stream: str, offset: int | None, tail: int) -> dict[str, Any]:
    """Text of ``logs/<stream>.txt``: from byte ``offset``, or its last ``tail`` lines when offset is None.

    The file must resolve inside the run's folder (a link elsewhere reads as no log). The tail is
    read back from the end of the file, never the whole file.

    Returns:
        ``{"text", "offset"}`` where ``offset`` is where the next call should start. At most
        :data:`MAX_LOG_BYTES` are returned at once (``truncated`` says when more are waiting).
    """
    f = _runfiles.open_log(run_dir, stream)
    if f is None:
        return {"text": "", "offset": 0, "truncated": False}
    with f:
        size = f.seek(0, 2)
        if offset is None:
            data = _runfiles.tail_bytes(f, tail, size, limit=MAX_LOG_BYTES + 1)
            if len(data) > MAX_LOG_BYTES:  # keep the whole lines of the last MAX_LOG_BYTES
                data = data[-MAX_LOG_BYTES:]
                cut = data.find(b"\n")
                data = data[cut + 1 :] if 0 <= cut < len(data) - 1 else data
            return {"text": data.decode(errors="replace"), "offset": size, "truncated": False}
        start = min(max(0, offset), size)
        f.seek(start)
        data = f.read(MAX_LOG_BYTES)
    return {
        "text": data.decode(errors="replace"),
        "offset": start + len(data),
        "truncated": start + len(data) < size,
    }
