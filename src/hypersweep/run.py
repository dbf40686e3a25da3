"""``Run``: the object training code logs to, and the handle the results API returns.

In training code, ``Run.get_context()`` returns the live run when hypersweep started the script (or
the callable), and an offline run otherwise (it prints what it would have logged, as HyperDrive's
does). This module imports only the standard library: every training run pays for its import.

Each call becomes one record of :mod:`hypersweep._wire`. A script appends it as one line to the
file named by ``HYPERSWEEP_EVENTS`` with a single ``write`` on an ``O_APPEND`` descriptor: once
``log`` returns, the value is in the operating system's hands, so a crash right after logging
loses nothing. The executors run callables with a :class:`LiveRun` of their own, made current in
the trial's thread with :func:`set_current_run`.

A run read back from the workspace (``Workspace(...).get_run(id)``, the results API) is a ``Run``
too. What it reads and writes, and what any run does with the workspace (``register_model``,
``child_run``), goes through a :class:`StoreSide` that the layer owning the store supplies with
:func:`connect_store` (the package does it when imported): this module imports nothing above it.

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
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Protocol

from hypersweep._values import Refused, clean
from hypersweep._wire import Kind, Record, encode

if (
    TYPE_CHECKING
):  # pathlib, re and shutil are imported where used: every training run pays for this module
    from pathlib import Path

ENV_RUN_ID = "HYPERSWEEP_RUN_ID"
ENV_EVENTS = "HYPERSWEEP_EVENTS"
ENV_EXPERIMENT = "HYPERSWEEP_EXPERIMENT"
ENV_WORKSPACE = "HYPERSWEEP_WORKSPACE"
ENV_PRIMARY_METRIC = "HYPERSWEEP_PRIMARY_METRIC"
DASHBOARD_URL = "http://127.0.0.1:8765"  # where ``hypersweep ui`` serves by default

#: Kinds of records that are JSON documents in Azure's schemas (``log_confusion_matrix`` and friends).
JSON_RECORD_KINDS = tuple(k.value for k in Kind if k.is_document)
_COPY_CHUNK = 1 << 20

#: The live run of the callable trial running in this thread (set by the thread executor).
_CURRENT: contextvars.ContextVar[LiveRun | None] = contextvars.ContextVar(
    "hypersweep_run", default=None
)
_PROCESS_RUN: Run | None = None
_PROCESS_LOCK = threading.Lock()


def current_run() -> LiveRun | None:
    """The live run of the callable trial running in this thread (or task), if any."""
    return _CURRENT.get()


def set_current_run(run: LiveRun) -> contextvars.Token[LiveRun | None]:
    """Make ``run`` what :meth:`Run.get_context` returns in this thread (a callable trial's executor
    calls it before the callable, and :func:`reset_current_run` with the token after)."""
    return _CURRENT.set(run)


def reset_current_run(token: contextvars.Token[LiveRun | None]) -> None:
    """Undo :func:`set_current_run`."""
    _CURRENT.reset(token)


class StoreSide(Protocol):
    """What a run needs of the layer that owns the store (``hypersweep.experiment`` supplies it).

    ``view`` gives the reads of a run read back from the workspace (its metrics, details, files,
    logs); the others act on the workspace at ``workspace`` for any run, live ones included.
    """

    def view(self, run: Run) -> Any:
        """The store-backed reads of ``run`` (``metrics()``, ``status()``, ``details()``...)."""

    def parent(self, run: Run) -> Run | None:
        """The sweep ``run`` belongs to (None for a single run)."""

    def register_model(
        self,
        workspace: Path,
        run_id: str,
        experiment: str | None,
        run_dir: Path,
        model_name: str,
        model_path: str | None,
        **options: Any,
    ) -> Any:
        """Register the run's file or folder ``model_path``; return the new ``Model``."""

    def child_run(
        self, workspace: Path, experiment: str, parent_id: str, name: str | None, run_id: str | None
    ) -> Run:
        """A new run of ``experiment``, recorded as the child of ``parent_id``."""

    def children(self, workspace: Path, run_id: str) -> list[Run]:
        """The child runs of ``run_id``, in creation order."""


_STORE_SIDE: Callable[[], StoreSide] | None = None


def connect_store(side: Callable[[], StoreSide]) -> None:
    """Install the layer that owns the store: ``side()`` returns it, loading it on first use.

    ``hypersweep/__init__.py`` does this once, so a training script pays for the store layer only
    when it registers a model or makes a child run.
    """
    global _STORE_SIDE
    _STORE_SIDE = side


def _store_side() -> StoreSide:
    if _STORE_SIDE is None:  # only if something replaced the package's own hook
        from hypersweep.errors import HypersweepError

        raise HypersweepError("No store is connected to hypersweep.run (see connect_store).")
    return _STORE_SIDE()


class LoggedValueWarning(UserWarning):
    """A logged value was converted to one that can be stored, or refused (then nothing was logged)."""


def _invalid(param: str, owner: str, rule: str, got: Any) -> Exception:
    from hypersweep._validation import invalid

    return invalid(param, owner, rule, got)


def check_artifact_name(name: Any, param: str, owner: str) -> str:
    """A file's name inside a run: a relative path with ``/`` separators that stays inside the run."""
    if not isinstance(name, str) or not name.strip():
        raise _invalid(param, owner, "a relative file name such as 'outputs/model.pkl'", name)
    clean = name.replace("\\", "/").strip("/")
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if name.startswith("/") or os.path.isabs(name) or not parts or ".." in parts:
        raise _invalid(
            param, owner, "a relative file name inside the run (no absolute path, no '..')", name
        )
    return "/".join(parts)


def copy_stream(source: IO[bytes], target: Path) -> int:
    """Copy a binary stream to ``target`` in chunks (never held in memory whole); return the bytes written."""
    written = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        while chunk := source.read(_COPY_CHUNK):
            if isinstance(chunk, str):
                chunk = chunk.encode()
            out.write(chunk)
            written += len(chunk)
    return written


def copy_into_run(run_dir: Path, name: str, path_or_stream: Any, owner: str) -> int:
    """Copy a file (a path or a binary stream) to ``run_dir/name``, streamed; return its size."""
    import shutil
    from pathlib import Path

    target = run_dir / name
    if hasattr(path_or_stream, "read"):
        return copy_stream(path_or_stream, target)
    if not isinstance(path_or_stream, (str, os.PathLike)):
        raise _invalid("path_or_stream", owner, "a file path or a binary stream", path_or_stream)
    source = Path(path_or_stream)
    if not source.is_file():
        raise _invalid("path_or_stream", owner, "an existing file", str(path_or_stream))
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and os.path.samefile(source, target):
        return (
            target.stat().st_size
        )  # the file is in the run already (a script writing to outputs/)
    shutil.copyfile(source, target)  # chunked (sendfile on Linux)
    return target.stat().st_size


def _json_document(value: Any, param: str, owner: str) -> dict[str, Any]:
    """A JSON document given as a dict or a JSON string."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            raise _invalid(param, owner, "a dict or a JSON string of one", value) from None
    if not isinstance(value, Mapping):
        raise _invalid(param, owner, "a dict or a JSON string of one", value)
    return dict(value)  # cleaned by the rule of hypersweep._values when it is logged


def rows_to_columns(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Rows logged with ``log_row`` as a table ``{column: [values]}`` (None where a row lacks a column)."""
    columns: dict[str, list[Any]] = {}
    for i, row in enumerate(rows):
        for col, value in row.items():
            columns.setdefault(col, [None] * i).append(value)
        for values in columns.values():
            values += [None] * (i + 1 - len(values))
    return columns


def failure_message(error_details: Any = None, error_code: str | None = None) -> str:
    """The error a run marked Failed by ``Run.fail(error_details, error_code)`` keeps."""
    message = str(error_details) if error_details is not None else "Marked failed by Run.fail()."
    return f"{error_code}: {message}" if error_code else message


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

    def __init__(self, experiment: Any, run_id: str) -> None:
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
                    _PROCESS_RUN = LiveRun(run_id, _FileSink(events))
                elif allow_offline:
                    _PROCESS_RUN = _OfflineRun()
                else:
                    raise RuntimeError(
                        "Run.get_context(allow_offline=False) was called outside a hypersweep run."
                    )
            return _PROCESS_RUN

    # -- results side (store-backed); the live and offline runs override what they can ----------

    def _results(self) -> Any:
        return _store_side().view(self)

    def get_metrics(
        self, name: str | None = None, recursive: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
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

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: str | None = None,
        output_paths: list[str] | None = None,
        batch_size: int = 100,
        append_prefix: bool = True,
        timeout_seconds: int | None = None,
    ) -> list[str]:
        """Copy every file whose name starts with ``prefix`` into ``output_directory`` (keeping its name,
        without the prefix if ``append_prefix`` is False), or to ``output_paths``, one per file. Returns the paths."""
        return self._results().download_files(prefix, output_directory, output_paths, append_prefix)

    def get_logs(self, stream: str = "stdout", tail: int | None = None) -> str:
        """The captured ``stdout`` or ``stderr`` of the run (the last ``tail`` lines if given)."""
        return self._results().log_text(stream, tail)

    def cancel(self) -> bool:
        """Cancel this run (its sweep goes on); False if it has already ended."""
        if self.get_status() in ("Completed", "Failed", "Canceled"):
            return False
        self.experiment.workspace.store.request_run_cancel(self.id)
        return True

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Block until the run (a sweep: the sweep) is Completed, Failed or Canceled; return
        :meth:`get_details`.

        Args:
            show_output: print the run's output as it comes (a sweep: show a live progress
                display and, at the end, a table of its runs).
            raise_on_error: raise :class:`~hypersweep.errors.RunFailedError` if the run (a sweep:
                the sweep itself) failed.

        ``wait_post_processing`` is accepted as in Azure's ``Run`` and has no effect here. A run or
        a sweep submitted in this process is canceled by Ctrl-C while it is waited for.
        """
        return self._wait(show_output, raise_on_error)

    def _wait(self, show_output: bool, raise_on_error: bool) -> dict[str, Any]:
        """:meth:`wait_for_completion`'s work: wait for the run's row to end."""
        return self._results().wait(show_output=show_output, raise_on_error=raise_on_error)

    @property
    def parent(self) -> Run | None:
        return _store_side().parent(self)

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

    # -- the rest of Azure's Run (both sides) ----------------------------------------------------

    def _run_dir(self) -> Path:
        """The run's folder (``outputs/`` and ``logs/`` live there)."""
        return self._results()._dir()

    def _store(self) -> Any:
        return self.experiment.workspace.store

    def get_properties(self) -> dict[str, str]:
        """The properties added with :meth:`add_properties`."""
        return self._store().properties(self.id)

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Add properties (``{key: value}``). As in Azure, a property keeps its first value: setting it
        again to a different value is an error."""
        if not isinstance(properties, Mapping):
            raise _invalid("properties", "Run.add_properties", "a dict of {key: value}", properties)
        for key, value in properties.items():
            self._submit("add_properties", Kind.PROPERTY, key, str(value))

    def remove_tags(self, tags: Iterable[str]) -> None:
        """Remove the tags named in ``tags`` (a list of keys)."""
        if isinstance(tags, str) or not isinstance(tags, Iterable):
            raise _invalid("tags", "Run.remove_tags", "a list of tag names", tags)
        for key in tags:
            self._submit("remove_tags", Kind.UNTAG, key, None)

    @property
    def display_name(self) -> str:
        """The run's display name (its id until one is set)."""
        return self.get_properties().get("display_name") or self.id

    @display_name.setter
    def display_name(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise _invalid("display_name", "Run", "a non-empty string", value)
        self._submit("display_name", Kind.DISPLAY_NAME, "display_name", value)

    @property
    def name(self) -> str:
        """The run's name: its display name."""
        return self.display_name

    def get_environment(self) -> Any:
        """The environment the run was configured with (None when it had none)."""
        return getattr(self, "_environment", None)

    def get_portal_url(self) -> str:
        """The URL of the run's page on the dashboard (``hypersweep ui``)."""
        from urllib.parse import quote

        return f"{DASHBOARD_URL}/runs/{quote(self.id, safe='')}"

    def log_image(
        self,
        name: str,
        path: str | os.PathLike[str] | None = None,
        plot: Any = None,
        description: str = "",
    ) -> None:
        """Log an image: a file (``path``) or a matplotlib figure or ``pyplot`` (``plot``, saved as PNG).

        The image is copied into the run's ``outputs/images/`` and shown on the dashboard's run page.
        """
        if (path is None) == (plot is None):
            raise _invalid(
                "path",
                "Run.log_image",
                "given, or else 'plot' (exactly one of the two)",
                f"path={path!r}, plot={plot!r}",
            )
        self._keep_image(name, path, plot, description)

    def _keep_image(
        self, name: str, path: str | os.PathLike[str] | None, plot: Any, description: str
    ) -> None:
        """Copy the image (exactly one of ``path`` and ``plot`` is given) into the run and log it."""
        import re
        from pathlib import Path

        owner = "Run.log_image"
        if plot is not None and not callable(getattr(plot, "savefig", None)):
            raise _invalid("plot", owner, "a matplotlib figure or matplotlib.pyplot", plot)
        if path is not None and not Path(path).is_file():
            raise _invalid("path", owner, "an existing image file", str(path))
        suffix = Path(path).suffix.lower() if path is not None else ".png"
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._") or "image"
        rel = self._free_name(f"outputs/images/{stem}", suffix)
        target = self._run_dir() / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if plot is not None:
            plot.savefig(target, format="png")
        else:
            copy_into_run(self._run_dir(), rel, path, owner)
        self._submit("log_image", Kind.IMAGE, name, {"path": rel, "description": str(description)})

    def _free_name(self, stem: str, suffix: str) -> str:
        root, n = self._run_dir(), 0
        while True:
            rel = f"{stem}{'' if n == 0 else f'_{n}'}{suffix}"
            if not (root / rel).exists():
                return rel
            n += 1

    def _log_document(self, kind: Kind, name: str, value: Any, description: str) -> None:
        doc = _json_document(value, "value", f"Run.log_{kind}")
        self._submit(f"log_{kind}", kind, name, doc)

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        """Log a confusion matrix: Azure's JSON (``{"schema_type": "confusion_matrix", "data":
        {"class_labels": [...], "matrix": [[...]]}}``) as a dict or a string."""
        self._log_document(Kind.CONFUSION_MATRIX, name, value, description)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        """Log an accuracy table (Azure's JSON, as a dict or a string)."""
        self._log_document(Kind.ACCURACY_TABLE, name, value, description)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        """Log residuals (Azure's JSON: ``data`` with ``bin_edges`` and ``bin_counts``)."""
        self._log_document(Kind.RESIDUALS, name, value, description)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        """Log predictions (Azure's JSON: ``data`` with ``bin_averages``, ``bin_errors``, ``bin_counts``, ``bin_edges``)."""
        self._log_document(Kind.PREDICTIONS, name, value, description)

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: str | None = None) -> str:
        """Copy a file (a path or a binary stream) into the run as ``name`` (e.g. ``outputs/model.pkl``).

        The copy is streamed in chunks, never held in memory. Returns the name.
        """
        rel = check_artifact_name(name, "name", "Run.upload_file")
        size = copy_into_run(self._run_dir(), rel, path_or_stream, "Run.upload_file")
        self._submit("upload_file", Kind.FILE, rel, {"size": size})
        return rel

    def upload_files(
        self,
        names: Sequence[str],
        paths: Sequence[Any],
        return_artifacts: bool = False,
        timeout_seconds: int | None = None,
        datastore_name: str | None = None,
    ) -> list[str]:
        """Upload several files: ``names[i]`` gets the file at ``paths[i]``."""
        if isinstance(names, str) or isinstance(paths, str) or len(names) != len(paths):
            raise _invalid("names", "Run.upload_files", "a list as long as 'paths'", names)
        return [self.upload_file(n, p) for n, p in zip(names, paths, strict=True)]

    def upload_folder(
        self, name: str, path: str | os.PathLike[str], datastore_name: str | None = None
    ) -> list[str]:
        """Upload every file under the folder ``path`` as ``name/<relative path>``."""
        from pathlib import Path

        prefix = check_artifact_name(name, "name", "Run.upload_folder")
        root = Path(path)
        if not root.is_dir():
            raise _invalid("path", "Run.upload_folder", "an existing folder", str(path))
        files = sorted(p for p in root.rglob("*") if p.is_file())
        return [self.upload_file(f"{prefix}/{f.relative_to(root).as_posix()}", f) for f in files]

    def register_model(
        self,
        model_name: str,
        model_path: str | None = None,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        description: str | None = None,
        datasets: Any = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Register the run's file or folder ``model_path`` (e.g. ``outputs/model.joblib``) as a new version
        of the model ``model_name``; its files are copied into the workspace's registry.

        Raises:
            InvalidConfigError: the name breaks Azure's rule, or the run has no such file or folder.
        """
        workspace = self._workspace_path()
        return _store_side().register_model(
            workspace,
            self.id,
            self._experiment_name(),
            self._run_dir(),
            model_name,
            model_path,
            tags=tags,
            properties=properties,
            description=description,
            model_framework=model_framework,
            model_framework_version=model_framework_version,
        )

    def _workspace_path(self) -> Path:
        return self.experiment.workspace.path

    def _experiment_name(self) -> str | None:
        return self.experiment.name

    def get_all_logs(self, destination: str | os.PathLike[str] | None = None) -> list[str]:
        """Copy the run's ``logs/`` files into ``destination`` (default: the current folder); return the paths."""
        return self._results().download_files("logs/", str(destination or "."))

    def get_details_with_logs(self) -> dict[str, Any]:
        """:meth:`get_details` with the text of each log file under ``logFiles``."""
        from pathlib import Path

        details = self.get_details()
        details["logFiles"] = {
            name: Path(path).read_text(errors="replace")
            for name, path in details.get("logFiles", {}).items()
        }
        return details

    def fail(
        self, error_details: Any = None, error_code: str | None = None, _set_status: bool = True
    ) -> None:
        """Mark the run Failed (inside a trial: when it ends, whatever its exit status)."""
        message = failure_message(error_details, error_code)
        self._store().end_run(self.id, "Failed", message)

    def child_run(
        self, name: str | None = None, run_id: str | None = None, outputs: str | None = None
    ) -> Run:
        """A new run of this run's experiment, recorded as this run's child; log to it, then
        :meth:`complete` (or :meth:`fail`) it."""
        workspace = self._workspace_path()
        return _store_side().child_run(
            workspace, self._experiment_name() or "default", self.id, name, run_id
        )

    def get_children(
        self,
        recursive: bool = False,
        tags: Any = None,
        properties: Any = None,
        type: Any = None,
        status: str | None = None,
        **kwargs: Any,
    ) -> list[Run]:
        """The child runs (optionally only those with ``status``): those made with
        :meth:`child_run`, or a sweep's runs in creation order."""
        return self._children(status)

    def _children(self, status: str | None) -> list[Run]:
        """:meth:`get_children`'s work: the runs made with :meth:`child_run`."""
        children = _store_side().children(self._workspace_path(), self.id)
        return [c for c in children if status is None or c.get_status() == status]

    # -- logging --------------------------------------------------------------------------------

    def _emit(self, record: Record) -> None:
        """A run read from the workspace writes what it logs straight to the store."""
        self._store().append_records(self.id, [record.to_dict()])

    def _submit(
        self, method: str, kind: Kind, name: Any, value: Any, step: int | None = None
    ) -> None:
        """Clean a record by the rule of :mod:`hypersweep._values`, emit it, and warn about changes."""
        notes: list[str] = []
        try:
            record = Record(
                kind,
                clean(str(name), notes),
                clean(value, notes),
                time.time(),
                None if step is None else clean(step, notes),
            )
        except Refused as exc:
            warnings.warn(
                f"run.{method}({str(name)!r}) was not logged: {exc}.",
                LoggedValueWarning,
                stacklevel=3,
            )
            return
        self._emit(record)
        if notes:
            warnings.warn(
                f"run.{method}({record.name!r}) logged a converted value: {'; '.join(notes)}.",
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
        self._submit("log", Kind.METRIC, name, value, None if step is None else int(step))

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        """Log a list of values; each element counts as one interval."""
        self._submit("log_list", Kind.LIST, name, list(value))

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Append a row (``column=value`` keyword arguments) to the table metric ``name``."""
        self._submit("log_row", Kind.ROW, name, kwargs)

    def log_table(
        self, name: str, value: Mapping[str, Iterable[Any]], description: str = ""
    ) -> None:
        """Log a table given as ``{column: [values...]}``."""
        self._submit("log_table", Kind.TABLE, name, {str(k): list(vs) for k, vs in value.items()})

    def tag(self, key: str, value: Any = None) -> None:
        """Set a tag (``value`` defaults to an empty string; other values are logged as their ``str()``)."""
        self._submit(
            "tag",
            Kind.TAG,
            key,
            "" if value is None else value if isinstance(value, str) else str(value),
        )

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags."""
        for key, value in tags.items():
            self.tag(key, value)

    def flush(self) -> None:
        """Nothing to do: every logged value is written when it is logged."""

    def complete(self, _set_status: bool = True) -> None:
        """Mark the run Completed (a run hypersweep runs completes when its script exits with status 0)."""
        if _set_status:
            self._store().end_run(self.id, "Completed", None)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.complete()


class Sink(Protocol):
    """Where a live run sends each record it keeps (a file, a queue, a Ray hub)."""

    def write(self, record: Record) -> None:
        """Send one record on; raise nothing for a value the record holds."""


class _FileSink:
    """Appends one line per record (:func:`hypersweep._wire.encode`) to the events file with a single
    unbuffered write."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: Record) -> None:
        os.write(self.fd, encode(record))


class LiveRun(Run):
    """The run a training script or callable logs to while hypersweep runs it.

    Args:
        run_id: the run's id.
        sink: where each record goes (:class:`Sink`).
        run_dir: the run's folder (default: found from ``$HYPERSWEEP_EVENTS``).
        workspace, experiment: the workspace folder and experiment name (default: from the environment).
    """

    def __init__(
        self,
        run_id: str,
        sink: Any,
        run_dir: str | os.PathLike[str] | None = None,
        workspace: str | os.PathLike[str] | None = None,
        experiment: str | None = None,
    ) -> None:
        self.experiment = None
        self.id = run_id
        self._sink = sink
        self._metrics: dict[str, list[Any]] = {}
        self._kinds: dict[str, Kind] = {}
        self._tags: dict[str, str] = {}
        self._properties: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop_reason: str | None = None
        self._dir = os.fspath(run_dir) if run_dir is not None else None
        self._workspace = workspace if workspace is not None else os.environ.get(ENV_WORKSPACE)
        self._experiment = experiment if experiment is not None else os.environ.get(ENV_EXPERIMENT)

    def _run_dir(self) -> Path:
        from pathlib import Path

        if self._dir is not None:
            return Path(self._dir)
        events = os.environ.get(ENV_EVENTS)
        return Path(events).resolve().parent.parent if events else Path.cwd()

    def _results(self) -> Any:
        from hypersweep.errors import HypersweepError

        raise HypersweepError(
            f"Run {self.id} is running; read what it recorded from the workspace "
            "(Workspace(...).get_run(id)) once it has ended."
        )

    def _workspace_path(self) -> Path:
        from pathlib import Path

        from hypersweep._paths import DB_NAME, STATE_DIR
        from hypersweep.errors import HypersweepError

        if not self._workspace:
            raise HypersweepError(
                f"Run {self.id} does not know its workspace (${ENV_WORKSPACE} is not set)."
            )

        path = Path(self._workspace)
        if not (path / STATE_DIR / DB_NAME).is_file():  # e.g. a trial on another node of a cluster
            raise HypersweepError(
                f"Run {self.id} cannot reach its workspace {path} from here (no {STATE_DIR}/{DB_NAME}); register "
                "models and make child runs from the driver, on the run read back with Workspace(...).get_run(id)."
            )
        return path

    def _experiment_name(self) -> str | None:
        return self._experiment

    def get_properties(self) -> dict[str, str]:
        with self._lock:
            return dict(self._properties)

    def fail(
        self, error_details: Any = None, error_code: str | None = None, _set_status: bool = True
    ) -> None:
        """Mark the run Failed: it ends as Failed with this error, even if the script exits with status 0."""
        message = failure_message(error_details, error_code)
        self._submit("fail", Kind.FAIL, "error", message)

    def complete(self, _set_status: bool = True) -> None:
        """Nothing to do: the run completes when the script exits with status 0 (or the callable returns)."""

    def _emit(self, record: Record) -> None:
        if self._stop_reason is not None:
            from hypersweep.errors import TrialStopped

            raise TrialStopped(self._stop_reason)
        with self._lock:
            kind, name, value = record.kind, record.name, record.value
            if kind is Kind.TAG:
                self._tags[name] = value
            elif kind is Kind.UNTAG:
                self._tags.pop(name, None)
            elif kind in (Kind.PROPERTY, Kind.DISPLAY_NAME):
                if kind is Kind.PROPERTY and self._properties.get(name, value) != value:
                    raise _invalid(
                        "properties",
                        "Run.add_properties",
                        f"a new key or the same value (a property keeps its value; {name!r} is "
                        f"{self._properties[name]!r})",
                        value,
                    )
                self._properties[name] = value
            elif kind in (Kind.FAIL, Kind.FILE):
                pass
            elif kind is Kind.LIST:
                self._metrics.setdefault(name, []).extend(value)
            else:
                self._metrics.setdefault(name, []).append(value)
            if kind.is_metric:
                self._kinds[name] = kind
            self._sink.write(record)

    def get_metrics(
        self, name: str | None = None, recursive: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        with self._lock:
            metrics = {k: self._shape(k, v) for k, v in self._metrics.items() if k in self._kinds}
        if name is not None:
            metrics = {name: metrics[name]} if name in metrics else {}
        return {self.id: metrics} if recursive else metrics

    def _shape(self, name: str, values: list[Any]) -> Any:
        """The shape the results API gives: scalar or list; rows as ``{column: [values]}``."""
        kind = self._kinds[name]
        if kind is Kind.ROW:
            return rows_to_columns(values)
        if kind is Kind.TABLE:
            return values[-1]
        if kind is Kind.IMAGE:
            values = [v["path"] for v in values]
        return values[0] if len(values) == 1 and kind is not Kind.LIST else list(values)

    def get_tags(self) -> dict[str, str]:
        return dict(self._tags)

    def get_status(self) -> str:
        return "Running"

    def cancel(self) -> bool:
        """Nothing to do from inside the run: exit the script (or return from the callable) instead."""
        return False


#: The private names the executors and tests used before :class:`LiveRun` was public.
_LiveRun = LiveRun


class _OfflineRun(LiveRun):
    """The run returned outside hypersweep: it keeps what is logged and prints it."""

    def __init__(self) -> None:
        import uuid

        super().__init__(f"OfflineRun_{uuid.uuid4()}", sink=self)

    def write(self, record: Record) -> None:
        kind, name, value = record.kind, record.name, record.value
        if kind is Kind.TAG:
            print(f"Attempted to add tag {name} with value {value}")
        elif kind is Kind.UNTAG:
            print(f"Attempted to remove tag {name}")
        elif kind in (Kind.PROPERTY, Kind.DISPLAY_NAME):
            print(f"Attempted to set property {name} to {value}")
        elif kind is Kind.FAIL:
            print(f"Attempted to mark the run failed: {value}")
        elif kind is Kind.FILE:
            print(f"Attempted to upload file {name}")
        else:
            shown = "scalar" if kind is Kind.METRIC else kind.value.replace("_", " ")
            print(f"Attempted to log {shown} metric {name}:\n{value}")
        sys.stdout.flush()

    # Outside hypersweep nothing is copied: what would be kept is printed.

    def _keep_image(
        self, name: str, path: str | os.PathLike[str] | None, plot: Any, description: str
    ) -> None:
        print(f"Attempted to log image metric {name}:\n{path if path is not None else plot}")
        sys.stdout.flush()

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: str | None = None) -> str:
        rel = check_artifact_name(name, "name", "Run.upload_file")
        print(f"Attempted to upload file {rel} from {path_or_stream}")
        sys.stdout.flush()
        return rel

    def register_model(
        self, model_name: str, model_path: str | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        print(f"Attempted to register model {model_name} from {model_path}")
        sys.stdout.flush()
        return None

    def child_run(
        self, name: str | None = None, run_id: str | None = None, outputs: str | None = None
    ) -> Run:
        return _OfflineRun()

    def __repr__(self) -> str:
        return f"_OfflineRun(id={self.id!r})"
