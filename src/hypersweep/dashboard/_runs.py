"""The data behind a run's page: its definition, metrics, tags, files and the tail of its logs."""

from __future__ import annotations

import time
from pathlib import PurePosixPath
from typing import Any

from hypersweep import _runfiles
from hypersweep.dashboard._json import finite
from hypersweep.errors import InvalidConfigError, NotFoundError
from hypersweep.store import FILE_KIND, IMAGE_KIND, JSON_KINDS, Reads, RunRecord, SweepRecord

MAX_LOG_BYTES = 256 * 1024


def run_row(reads: Reads, run_id: str) -> RunRecord:
    """The run's record; :class:`NotFoundError` if there is none."""
    return reads.run(run_id)


def metrics(reads: Reads, run_id: str) -> dict[str, dict[str, Any]]:
    """``{name: {"kind", "steps", "values"}}`` for series, ``{"kind": "table", "columns"}`` for tables."""
    out: dict[str, dict[str, Any]] = {}
    for record in reads.metrics(run_id):
        name, kind = record.name, record.kind
        if kind in (FILE_KIND, IMAGE_KIND, *JSON_KINDS):  # shown in their own sections
            continue
        value = finite(record.value)
        if kind in ("row", "table"):
            entry = out.setdefault(name, {"kind": "table", "columns": {}})
            columns = entry["columns"]
            rows = value if kind == "row" else None
            if rows is None and isinstance(value, dict):
                for col, values in value.items():
                    columns.setdefault(col, []).extend(
                        values if isinstance(values, list) else [values]
                    )
            elif isinstance(rows, dict):
                n = max((len(v) for v in columns.values()), default=0)
                for col, v in rows.items():
                    columns.setdefault(col, [None] * n).append(v)
                for col in columns:
                    if len(columns[col]) < n + 1:
                        columns[col].append(None)
            continue
        entry = out.setdefault(name, {"kind": "series", "steps": [], "values": []})
        entry["steps"].append(record.step)
        entry["values"].append(value)
    return out


def file_names(run_dir: str, uploaded: list[str] | tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The run's files under ``outputs/`` and ``logs/``, and those it uploaded elsewhere, with their sizes
    (links out of the run are left out)."""
    return [{"name": name, "size": size} for name, size in _runfiles.list_files(run_dir, uploaded)]


def _document_columns(kind: str, doc: Any) -> dict[str, list[Any]]:
    """A logged JSON document (Azure's schemas) as table columns; ``{}`` when its shape is unknown."""
    data = doc.get("data", doc) if isinstance(doc, dict) else {}
    if not isinstance(data, dict):
        return {}
    labels, matrix = data.get("class_labels"), data.get("matrix")
    if kind == "confusion_matrix" and isinstance(labels, list) and isinstance(matrix, list):
        columns: dict[str, list[Any]] = {"actual \\ predicted": [str(x) for x in labels]}
        for j, label in enumerate(labels):
            columns[str(label)] = [
                row[j] if isinstance(row, list) and j < len(row) else None for row in matrix
            ]
        return columns
    flat = {
        k: v
        for k, v in data.items()
        if isinstance(v, list) and all(not isinstance(x, (list, dict)) for x in v)
    }
    if not flat:
        return {}
    n = max(len(v) for v in flat.values())
    return {k: list(v) + [None] * (n - len(v)) for k, v in flat.items()}


def logged_media(
    reads: Reads, run_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(images, documents, uploaded file names) of a run."""
    images, documents, uploaded = [], [], []
    for record in reads.metrics(run_id, (FILE_KIND, IMAGE_KIND, *JSON_KINDS), logged_order=True):
        value = record.value
        if record.kind == FILE_KIND:
            uploaded.append(record.name)
        elif record.kind == IMAGE_KIND and isinstance(value, dict):
            images.append(
                {
                    "name": record.name,
                    "step": record.step,
                    "path": value.get("path"),
                    "description": value.get("description") or "",
                }
            )
        else:
            documents.append(
                {
                    "name": record.name,
                    "kind": record.kind,
                    "step": record.step,
                    "schema_type": value.get("schema_type") if isinstance(value, dict) else None,
                    "columns": finite(_document_columns(record.kind, value)),
                    "value": finite(value),
                }
            )
    return images, documents, uploaded


IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
}  # no SVG: it can carry scripts
MAX_INLINE_IMAGE = 8 * 1024 * 1024


def image_data_uri(run_dir: str, name: str | None) -> str | None:
    """An image of the run as a ``data:`` URI (for the report and the notebook widget), or None."""
    import base64

    if not name:
        return None
    media = IMAGE_TYPES.get(PurePosixPath(name).suffix.lower())
    if media is None:
        return None
    try:
        f = _runfiles.open_file(run_dir, name)
    except (NotFoundError, InvalidConfigError):
        return None
    with f:
        data = f.read(MAX_INLINE_IMAGE + 1)
    if len(data) > MAX_INLINE_IMAGE:
        return None
    return f"data:{media};base64," + base64.b64encode(data).decode()


def models_list(reads: Reads) -> list[dict[str, Any]]:
    """Every registered model version, newest first."""
    out = [
        {
            "name": r.name,
            "version": r.version,
            "run_id": r.run_id,
            "experiment": r.experiment,
            "path": r.path,
            "source": r.source,
            "tags": r.tags,
            "properties": r.properties,
            "description": r.description,
            "created": r.created,
        }
        for r in reads.models()
    ]
    return sorted(out, key=lambda m: m["created"], reverse=True)


def run_payload(reads: Reads, run_id: str) -> dict[str, Any]:
    """Everything the run page shows except its logs."""
    now = time.time()
    row = run_row(reads, run_id)
    sweep: SweepRecord | None
    try:
        sweep = reads.sweep(row.sweep_id)
    except NotFoundError:
        sweep = None
    config = sweep.config if sweep else {}
    tags = reads.tags(run_id)
    marks: dict[str, str] = {}
    hyperparameters = finite(row.hyperparameters, marks, "hyperparameters")
    arguments = finite(row.arguments, marks, "arguments")
    best = finite(row.best_value, marks, "best")
    last = finite(row.last_value, marks, "last")
    images, documents, uploaded = logged_media(reads, run_id)
    return {
        "run": {
            "id": row.id,
            "sweep_id": row.sweep_id,
            "experiment": sweep.experiment if sweep else None,
            "number": row.number,
            "status": row.status.value,
            "created": row.created,
            "started": row.started,
            "ended": row.ended,
            "duration": None if row.started is None else (row.ended or now) - row.started,
            "hyperparameters": hyperparameters,
            "arguments": arguments,
            "command": config.get("run_config", {}).get("command"),
            "reason": row.reason,
            "error": row.error,
            "intervals": row.intervals,
            "best": best,
            "last": last,
            "nonfinite": marks,
            "primary_metric": sweep.primary_metric if sweep else None,
            "goal": sweep.goal.lower() if sweep else None,
            "kind": sweep.kind if sweep else "sweep",
        },
        "tags": tags,
        "metrics": metrics(reads, run_id),
        "files": file_names(row.run_dir, uploaded),
        "images": images,
        "documents": documents,
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
