"""``Run``: the object training code logs to, and the handle the results API returns.

In training code, ``Run.get_context()`` returns the live run when hypersweep started the script (or
the callable), and an offline run otherwise (it prints what it would have logged, as HyperDrive's
does). This module imports only the standard library: every training run pays for its import.

The wire format from a script to the sweep is one JSON object a line, appended to the file named by
``HYPERSWEEP_EVENTS`` with a single ``write`` on an ``O_APPEND`` descriptor: once ``log`` returns,
the value is in the operating system's hands, so a crash right after logging loses nothing.

What is logged follows the rule of :mod:`hypersweep._values`: a value that cannot be stored as it
is (an integer beyond 64 bits, a string with lone surrogates, bytes that are not UTF-8) is
converted, and one that cannot be stored at all (an integer beyond the float range, nesting deeper
than 100 levels) is refused; either way ``log`` warns once (:class:`LoggedValueWarning`) and the
run goes on. Every line written can be read back.
"""

from __future__ import annotations

import contextvars
import json
import os
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hypersweep._values import Refused, clean

if TYPE_CHECKING:
    from hypersweep.experiment import Experiment

ENV_RUN_ID = "HYPERSWEEP_RUN_ID"
ENV_EVENTS = "HYPERSWEEP_EVENTS"
ENV_EXPERIMENT = "HYPERSWEEP_EXPERIMENT"
ENV_WORKSPACE = "HYPERSWEEP_WORKSPACE"
ENV_PRIMARY_METRIC = "HYPERSWEEP_PRIMARY_METRIC"

#: The live run of the callable trial running in this thread (set by the thread executor).
_CURRENT: contextvars.ContextVar[Run | None] = contextvars.ContextVar("hypersweep_run", default=None)
_PROCESS_RUN: Run | None = None
_PROCESS_LOCK = threading.Lock()


class LoggedValueWarning(UserWarning):
    """A logged value was converted to one that can be stored, or refused (then nothing was logged)."""


def rows_to_columns(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Rows logged with ``log_row`` as a table ``{column: [values]}`` (None where a row lacks a column)."""
    columns: dict[str, list[Any]] = {}
    for i, row in enumerate(rows):
        for col, value in row.items():
            columns.setdefault(col, [None] * i).append(value)
        for values in columns.values():
            values += [None] * (i + 1 - len(values))
    return columns


class Run:
    """A run of an experiment.

    Training code gets the current run with :meth:`get_context` and logs to it. The results API
    (``HyperDriveRun.get_children()``, ``get_best_run_by_primary_metric()``) returns ``Run`` objects
    backed by the workspace, with ``get_metrics()``, ``get_details()``, ``get_file_names()`` and
    ``download_file()``.

    Example:
        >>> from hypersweep import Run
        >>> run = Run.get_context()          # offline when not started by hypersweep
        >>> run.log("accuracy", 0.9)         # doctest: +ELLIPSIS
        Attempted to log scalar metric accuracy:
        0.9
    """

    def __init__(self, experiment: Experiment, run_id: str) -> None:
        if not isinstance(run_id, str):
            raise TypeError(f"Expected type str for run_id, got {type(run_id).__name__}.")
        self.experiment = experiment
        self.id = run_id

    # -- finding the current run ----------------------------------------------------------------

    @classmethod
    def get_context(cls, allow_offline: bool = True, **kwargs: Any) -> Run:
        """The live run when started by hypersweep, else an offline run that prints what it logs.

        Args:
            allow_offline: when False, raise ``RuntimeError`` outside a hypersweep run.
        """
        current = _CURRENT.get()
        if current is not None:
            return current
        global _PROCESS_RUN
        with _PROCESS_LOCK:
            if _PROCESS_RUN is None:
                events = os.environ.get(ENV_EVENTS)
                run_id = os.environ.get(ENV_RUN_ID)
                if events and run_id:
                    _PROCESS_RUN = _LiveRun(run_id, _FileSink(events))
                elif allow_offline:
                    _PROCESS_RUN = _OfflineRun()
                else:
                    raise RuntimeError(
                        "Run.get_context(allow_offline=False) was called outside a hypersweep run."
                    )
            return _PROCESS_RUN

    # -- results side (store-backed); the live and offline runs override what they can ----------

    def _results(self) -> Any:
        from hypersweep import _results

        return _results.RunView(self.experiment.workspace.store, self.id)

    def get_metrics(self, name: str | None = None, recursive: bool = False, **kwargs: Any) -> dict[str, Any]:
        """``{metric_name: value}``: a scalar if logged once, a list if logged several times.

        Rows logged with ``log_row`` come back as a dict of column lists.
        """
        metrics = self._results().metrics()
        if name is not None:
            metrics = {name: metrics[name]} if name in metrics else {}
        return {self.id: metrics} if recursive else metrics

    def get_status(self) -> str:
        """``Queued``, ``Running``, ``Completed``, ``Failed`` or ``Canceled``."""
        return self._results().status()

    @property
    def status(self) -> str:
        return self.get_status()

    def get_details(self) -> dict[str, Any]:
        """Run details in HyperDrive's shape (``runId``, ``status``, ``runDefinition``...)."""
        return self._results().details()

    def get_tags(self) -> dict[str, str]:
        """The run's tags."""
        return self._results().tags()

    @property
    def tags(self) -> dict[str, str]:
        return self.get_tags()

    @property
    def properties(self) -> dict[str, Any]:
        return self.get_details()["properties"]

    def get_file_names(self) -> list[str]:
        """Paths of the run's files: ``outputs/...`` and ``logs/...``."""
        return self._results().file_names()

    def download_file(self, name: str, output_file_path: str | None = None) -> str:
        """Copy the run's file ``name`` (e.g. ``outputs/model.joblib``) to ``output_file_path``.

        Returns:
            The path written (by default the file's base name in the current folder).
        """
        return self._results().download_file(name, output_file_path)

    def download_files(self, prefix: str | None = None, output_directory: str | None = None) -> list[str]:
        """Copy every file whose name starts with ``prefix`` into ``output_directory``."""
        return self._results().download_files(prefix, output_directory)

    def get_logs(self, stream: str = "stdout", tail: int | None = None) -> str:
        """The captured ``stdout`` or ``stderr`` of the run (the last ``tail`` lines if given)."""
        return self._results().log_text(stream, tail)

    def cancel(self) -> bool:
        """Cancel this run (its sweep goes on); False if it has already ended."""
        if self.get_status() in ("Completed", "Failed", "Canceled"):
            return False
        self.experiment.workspace.store.request_run_cancel(self.id)
        return True

    def wait_for_completion(self, show_output: bool = False, raise_on_error: bool = True, **kwargs: Any) -> dict[str, Any]:
        """Block until the run is Completed, Failed or Canceled; return :meth:`get_details`."""
        return self._results().wait(show_output=show_output, raise_on_error=raise_on_error)

    @property
    def parent(self) -> Run | None:
        sweep_id = self._results().sweep_id()
        if sweep_id is None:
            return None
        from hypersweep.experiment import HyperDriveRun

        return HyperDriveRun(self.experiment, sweep_id)

    @property
    def origin(self) -> dict[str, Any] | None:
        """Where the run came from: ``{"resumed_from": run_id, "checkpoint": path}`` for a resumed child
        run, None for a run the sampler suggested."""
        return self.get_details()["properties"]["origin"]

    @property
    def number(self) -> int:
        return int(self.get_details()["number"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Run(id={self.id!r})"

    # -- logging: only training code has a live run to log to -----------------------------------

    def _emit(self, record: dict[str, Any]) -> None:
        raise RuntimeError(
            "This Run was read from a workspace; log from training code with Run.get_context()."
        )

    def _submit(self, method: str, kind: str, name: Any, value: Any, step: int | None = None) -> None:
        """Clean a record by the rule of :mod:`hypersweep._values`, emit it, and warn about changes."""
        notes: list[str] = []
        try:
            record: dict[str, Any] = {"k": kind, "n": clean(str(name), notes), "v": clean(value, notes), "t": time.time()}
            if step is not None:
                record["s"] = clean(step, notes)
        except Refused as exc:
            warnings.warn(
                f"run.{method}({str(name)!r}) was not logged: {exc}.", LoggedValueWarning, stacklevel=3
            )
            return
        self._emit(record)
        if notes:
            warnings.warn(
                f"run.{method}({record['n']!r}) logged a converted value: {'; '.join(notes)}.",
                LoggedValueWarning,
                stacklevel=3,
            )

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log a scalar. Each ``log`` of the primary metric is one interval of the sweep's policy.

        A value that cannot be stored as it is is converted, or refused, with a
        :class:`LoggedValueWarning` (see the module's docstring); the run goes on either way.

        Raises:
            TypeError: for lists (use :meth:`log_list`).
        """
        if isinstance(value, (list, tuple, range)) or (
            hasattr(value, "__iter__") and not isinstance(value, (str, bytes))
        ):
            raise TypeError("run.log does not support list type. Use run.log_list instead.")
        self._submit("log", "metric", name, value, None if step is None else int(step))

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        """Log a list of values; each element counts as one interval."""
        self._submit("log_list", "list", name, list(value))

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Append a row (``column=value`` keyword arguments) to the table metric ``name``."""
        self._submit("log_row", "row", name, kwargs)

    def log_table(self, name: str, value: Mapping[str, Iterable[Any]], description: str = "") -> None:
        """Log a table given as ``{column: [values...]}``."""
        self._submit("log_table", "table", name, {str(k): list(vs) for k, vs in value.items()})

    def tag(self, key: str, value: Any = None) -> None:
        """Set a tag (``value`` defaults to an empty string; other values are logged as their ``str()``)."""
        self._submit("tag", "tag", key, "" if value is None else value if isinstance(value, str) else str(value))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags."""
        for key, value in tags.items():
            self.tag(key, value)

    def flush(self) -> None:
        """Nothing to do: every logged value is written when it is logged."""

    def complete(self) -> None:
        """Nothing to do: the run completes when the script exits with status 0."""

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.complete()


class _FileSink:
    """Appends one JSON line per record to the events file with a single unbuffered write."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: dict[str, Any]) -> None:
        os.write(self.fd, (json.dumps(record, allow_nan=True) + "\n").encode())


class _LiveRun(Run):
    """The run a training script or callable logs to while hypersweep runs it."""

    def __init__(self, run_id: str, sink: Any) -> None:
        self.experiment = None  # type: ignore[assignment]
        self.id = run_id
        self._sink = sink
        self._metrics: dict[str, list[Any]] = {}
        self._kinds: dict[str, str] = {}
        self._tags: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop_reason: str | None = None

    def _emit(self, record: dict[str, Any]) -> None:
        if self._stop_reason is not None:
            from hypersweep.errors import TrialStopped

            raise TrialStopped(self._stop_reason)
        with self._lock:
            kind, name, value = record["k"], record["n"], record["v"]
            if kind == "tag":
                self._tags[name] = value
            elif kind == "list":
                self._metrics.setdefault(name, []).extend(value)
            else:
                self._metrics.setdefault(name, []).append(value)
            if kind != "tag":
                self._kinds[name] = kind
            self._sink.write(record)

    def get_metrics(self, name: str | None = None, recursive: bool = False, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            metrics = {k: self._shape(k, v) for k, v in self._metrics.items()}
        if name is not None:
            metrics = {name: metrics[name]} if name in metrics else {}
        return {self.id: metrics} if recursive else metrics

    def _shape(self, name: str, values: list[Any]) -> Any:
        """The shape the results API gives: scalar or list; rows as ``{column: [values]}``."""
        kind = self._kinds[name]
        if kind == "row":
            return rows_to_columns(values)
        if kind == "table":
            return values[-1]
        return values[0] if len(values) == 1 and kind == "metric" else list(values)

    def get_tags(self) -> dict[str, str]:
        return dict(self._tags)

    def get_status(self) -> str:
        return "Running"

    def cancel(self) -> bool:
        """Nothing to do from inside the run: exit the script (or return from the callable) instead."""
        return False


class _OfflineRun(_LiveRun):
    """The run returned outside hypersweep: it keeps what is logged and prints it."""

    _KINDS = {"metric": "scalar", "list": "list", "row": "row", "table": "table"}

    def __init__(self) -> None:
        super().__init__(f"OfflineRun_{uuid.uuid4()}", sink=self)

    def write(self, record: dict[str, Any]) -> None:
        if record["k"] == "tag":
            print(f"Attempted to add tag {record['n']} with value {record['v']}")
        else:
            print(f"Attempted to log {self._KINDS[record['k']]} metric {record['n']}:\n{record['v']}")
        sys.stdout.flush()

    def __repr__(self) -> str:
        return f"_OfflineRun(id={self.id!r})"
