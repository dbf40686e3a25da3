"""What the store hands out and takes in: frozen records with their JSON already decoded, and the batch
of writes a sweep's controller applies in one transaction."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from hypersweep._values import clean, clean_text
from hypersweep.status import RunStatus
from hypersweep.store._schema import LIMIT_KEYS

#: Kinds of records in the metrics table that are not metrics: files a run uploaded (``name`` is the
#: file's name in the run). ``get_metrics`` leaves them out.
FILE_KIND = "file"
#: Kinds a run logs as JSON documents in Azure's schemas (shown as tables on the run page).
JSON_KINDS = ("confusion_matrix", "accuracy_table", "residuals", "predictions")
#: Kinds of records that set a field of the run rather than log a metric.
RUN_FIELD_KINDS = ("property", "display_name", "fail")
#: An image: the value is ``{"path": <file in the run>, "description": ...}``.
IMAGE_KIND = "image"
#: The kinds whose values are a series of numbers (the primary metric's intervals).
SERIES_KINDS = ("scalar", "list")


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


def decode_value(value: float | None, text: str | None) -> Any:
    """The inverse of :func:`encode_value`."""
    if text is None:
        return value
    if text == "NaN":
        return math.nan
    return json.loads(text)


def text(value: Any) -> str:
    """A value for a TEXT column: its ``str()``, lone surrogates spelled out."""
    return clean_text(value if isinstance(value, str) else str(value))[0]


def _json(text: str | None) -> Any:
    """A JSON column's value decoded (None for NULL)."""
    return json.loads(text) if text else None


def _json_dict(text: str | None) -> dict[str, Any]:
    """A JSON object column decoded (``{}`` for NULL or empty text)."""
    return json.loads(text or "{}")


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """The names of a record's fields (its class variables left out), read once per class."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


class _Keyed:
    """A record of a table's row: fields read by key as well (``record["status"]``).

    :meth:`from_row` reads each field from the column of the same name through the class's
    ``_decoders`` (``{field: function of the stored value}``); a column an older schema lacks takes
    its value from ``_missing``.
    """

    _decoders: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}
    _missing: ClassVar[Mapping[str, Any]] = {}

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Any:
        """The record of a row of its table (of any schema version this one migrates)."""
        keys = row.keys()
        values = {}
        for name in _field_names(cls):
            if name not in keys:
                values[name] = cls._missing[name]
                continue
            decode = cls._decoders.get(name)
            values[name] = row[name] if decode is None else decode(row[name])
        return cls(**values)

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def keys(self) -> list[str]:
        return list(_field_names(type(self)))


@dataclass(frozen=True)
class ExperimentRecord(_Keyed):
    """An experiment: its name and when it was first recorded."""

    name: str
    created: float


@dataclass(frozen=True)
class SweepRecord(_Keyed):
    """A sweep (or the record of a single run, ``kind == "single"``), as stored.

    ``config`` is the sweep's description (what ``HyperDriveConfig.describe()`` gave, with the seed
    and warm-start ids), its limits included; ``tags`` the sweep's own tags.
    """

    id: str
    experiment: str
    status: RunStatus
    kind: str
    created: float
    started: float | None
    ended: float | None
    primary_metric: str
    goal: str
    max_total_runs: int
    max_concurrent_runs: int
    config: dict[str, Any]
    tags: dict[str, str]
    driver_pid: int | None
    driver_token: str | None
    heartbeat: float | None
    cancel_requested: bool
    error: str | None

    _decoders: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "status": RunStatus,
        "config": json.loads,
        "tags": _json_dict,
        "cancel_requested": bool,
    }
    _missing: ClassVar[Mapping[str, Any]] = {"kind": "sweep", "driver_token": None}

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SweepRecord:
        """The record of a row of the sweeps table, its limits back in ``config``."""
        record: SweepRecord = super().from_row(row)
        if isinstance(record.config, dict):
            record.config.update({key: row[key] for key in LIMIT_KEYS})
        return record


@dataclass(frozen=True)
class SweepSummary(_Keyed):
    """A sweep as the list of sweeps shows it: its columns but ``config`` (text as stored), and over its
    runs ``first_run``, ``first_status``, ``n_runs``, ``done`` (ended runs), ``best_max`` and
    ``best_min`` (of their finite best values)."""

    id: str
    experiment: str
    status: str
    created: float
    started: float | None
    ended: float | None
    primary_metric: str
    kind: str
    first_run: str | None
    first_status: str | None
    goal: str
    max_total_runs: int
    cancel_requested: int
    n_runs: int
    done: int
    best_max: float | None
    best_min: float | None


@dataclass(frozen=True)
class RunRecord(_Keyed):
    """One run of a sweep, as stored: ``hyperparameters`` (the sampled values), ``arguments`` and
    ``origin`` (which run it continues, if any) decoded."""

    id: str
    sweep_id: str
    number: int
    status: RunStatus
    created: float
    started: float | None
    ended: float | None
    hyperparameters: dict[str, Any]
    arguments: list[Any]
    run_dir: str
    pid: int | None
    error: str | None
    reason: str | None
    best_value: float | None
    last_value: float | None
    intervals: int
    origin: dict[str, Any] | None
    cancel_requested: bool

    _decoders: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "status": RunStatus,
        "hyperparameters": json.loads,
        "arguments": json.loads,
        "origin": _json,
        "cancel_requested": bool,
    }


@dataclass(frozen=True)
class MetricRecord(_Keyed):
    """One logged value: written by the controller (and ``Run`` read back), read by the results API
    and the dashboard. ``value`` is the value itself (a number, NaN, text or a JSON document)."""

    run_id: str
    name: str
    step: int
    kind: str
    value: Any
    time: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> MetricRecord:
        """The record of a row of the metrics table, its value decoded (from two columns)."""
        return cls(
            row["run_id"],
            row["name"],
            row["step"],
            row["kind"],
            decode_value(row["value"], row["json"]),
            row["time"],
        )


@dataclass(frozen=True)
class ModelRecord(_Keyed):
    """One version of a registered model, its ``tags`` and ``properties`` decoded."""

    name: str
    version: int
    run_id: str | None
    experiment: str | None
    path: str
    source: str
    tags: dict[str, str]
    properties: dict[str, str]
    description: str | None
    created: float

    _decoders: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "tags": _json_dict,
        "properties": _json_dict,
    }


@dataclass(frozen=True)
class NewRun:
    """A run to record as it is created (Queued)."""

    id: str
    sweep_id: str
    number: int
    created: float
    hyperparameters: Mapping[str, Any]
    arguments: list[Any]
    run_dir: str
    origin: Mapping[str, Any] | None = None
    status: RunStatus = RunStatus.QUEUED


#: The columns of the runs table a batch may set.
RUN_COLUMNS = frozenset(
    "status created started ended pid error reason best_value last_value intervals origin cancel_requested".split()
)
#: The columns of the sweeps table a batch may set.
SWEEP_COLUMNS = frozenset("status started ended error heartbeat driver_pid".split())


@dataclass
class Batch:
    """The writes of one step of a sweep's loop, applied in one transaction by :meth:`Store.apply`.

    Attributes:
        runs: runs to insert.
        metrics: logged values to insert.
        updates: ``{run_id: {column: value}}`` (see :data:`RUN_COLUMNS`).
        tags: ``{run_id: {key: value, or None to remove the tag}}``.
        run_fields: ``(run_id, kind, name, value)`` of ``property`` and ``display_name`` records.
        cancels: runs that end Canceled with the sweep: ``(run_id, reason)``; a reason already
            recorded is kept.
        sweep: ``{column: value}`` of the sweep (see :data:`SWEEP_COLUMNS`).
    """

    runs: list[NewRun] = field(default_factory=list)
    metrics: list[MetricRecord] = field(default_factory=list)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, dict[str, str | None]] = field(default_factory=dict)
    run_fields: list[tuple[str, str, str, Any]] = field(default_factory=list)
    cancels: list[tuple[str, str]] = field(default_factory=list)
    sweep: dict[str, Any] = field(default_factory=dict)

    def update(self, run_id: str, **columns: Any) -> None:
        """Set columns of a run (a later value of a column wins)."""
        self.updates.setdefault(run_id, {}).update(columns)

    def stop(self, run_id: str, reason: str) -> None:
        """Record that a run is being stopped, and why, unless this batch already says how it ended."""
        fields = self.updates.setdefault(run_id, {})
        fields.setdefault("reason", reason)
        fields.setdefault("status", RunStatus.CANCEL_REQUESTED.value)

    def __bool__(self) -> bool:
        return bool(
            self.runs
            or self.metrics
            or any(self.updates.values())
            or self.tags
            or self.run_fields
            or self.cancels
            or self.sweep
        )
