"""Which trial is logging, and the names MLflow's plugins share (re-exported by :mod:`hypersweep.mlflow`).

Both plugins (the tracking store in :mod:`hypersweep.mlflow._store`, the run context in
:mod:`hypersweep.mlflow._context`) and the executors use these; the tracking store's entry point
itself is in the package. This module imports neither mlflow nor anything heavy.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hypersweep.run import ENV_EVENTS, ENV_EXPERIMENT, ENV_RUN_ID, LiveRun, Run, current_run
from hypersweep.status import RunStatus

SCHEME = "hypersweep"
ENV_TRACKING_URI = "MLFLOW_TRACKING_URI"
ENV_EXPERIMENT_NAME = "MLFLOW_EXPERIMENT_NAME"
DB_NAME = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"
#: The tag, on the MLflow run, naming the hypersweep run it belongs to.
RUN_ID_TAG = "hypersweep.run_id"
#: The prefix of the hypersweep tags that hold what a trial logged with ``mlflow.log_param``.
PARAM_TAG_PREFIX = "params."
INSTALL_HINT = (
    'The script imports mlflow, which is not installed: pip install "hypersweep[mlflow]".'
)


def tracking_uri(workspace: str | os.PathLike[str]) -> str:
    """The MLflow tracking URI of a workspace folder: ``hypersweep:///<absolute path>``."""
    return f"{SCHEME}://{Path(workspace).resolve()}"


def backend_store_uri(workspace: str | os.PathLike[str]) -> str:
    """The SQLAlchemy URI of the MLflow record of a workspace, for ``mlflow ui --backend-store-uri``."""
    return f"sqlite:///{Path(workspace).resolve() / '.hypersweep' / DB_NAME}"


def end_stopped_runs(workspace: str | os.PathLike[str], run_id: str) -> None:
    """Once a stopped script trial's process has ended: its MLflow runs still RUNNING end KILLED.

    The trial's own SIGTERM handler marks them as it dies, but it cannot when the script held MLflow's
    database at that moment (the handler interrupts the script's own transaction); the process gone,
    nothing holds it. A workspace where no trial used MLflow has no database, and nothing is done.
    """
    db = Path(workspace) / ".hypersweep" / DB_NAME
    if not db.is_file():
        return
    with (
        contextlib.suppress(sqlite3.Error),
        contextlib.closing(sqlite3.connect(db, timeout=10.0)) as conn,
        conn,
    ):
        conn.execute(
            "UPDATE runs SET status = 'KILLED', end_time = COALESCE(end_time, ?) WHERE status = 'RUNNING'"
            " AND run_uuid IN (SELECT run_uuid FROM tags WHERE key = ? AND value = ?)",
            (int(time.time() * 1000), RUN_ID_TAG, run_id),
        )


def trial_env(workspace: str | os.PathLike[str], experiment: str) -> dict[str, str]:
    """The environment variables that make MLflow in a trial log to its hypersweep run."""
    return {ENV_TRACKING_URI: tracking_uri(workspace), ENV_EXPERIMENT_NAME: experiment}


def workspace_of(store_uri: str) -> Path:
    """The workspace folder of a ``hypersweep:`` tracking URI (``hypersweep:///abs``, ``hypersweep:rel``)."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(store_uri)
    path = unquote(parsed.netloc + parsed.path) if parsed.netloc else unquote(parsed.path)
    return Path(path or ".").resolve()


NOT_IN_TRIAL_PYTHON_HINT = (
    "MLflow in the script does not know the 'hypersweep:' tracking URI the sweep gave it: the "
    'Python that runs the script needs hypersweep too: pip install "hypersweep[mlflow]" there.'
)


def install_hint(stderr_tail: str) -> str:
    """A line to add to a failed run's error when it failed for want of mlflow, or of hypersweep
    beside the script's mlflow ("" otherwise)."""
    if "No module named 'mlflow'" in stderr_tail:
        return "\n" + INSTALL_HINT
    if f"unsupported URI '{SCHEME}:" in stderr_tail:
        return "\n" + NOT_IN_TRIAL_PYTHON_HINT
    return ""


class TrialInterrupted(BaseException):  # noqa: N818 - named as what happens to the trial
    """Raised by MLflow's logging calls in a callable trial that the sweep stopped.

    A ``BaseException``, like ``KeyboardInterrupt``: MLflow's autologging catches every
    ``Exception`` its logging raises, so ``TrialStopped`` would not stop the training loop.
    """


# -- which trial is logging -----------------------------------------------------------------------


@dataclass
class TrialContext:
    """One trial as MLflow sees it: where its values go and which MLflow run is its own."""

    run_id: str
    live: LiveRun
    outputs: Path
    experiment: str
    mlflow_run_id: str | None = None
    in_thread: bool = False
    warned: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


_LOCK = threading.Lock()
_THREAD_TRIALS: dict[str, TrialContext] = {}
_BY_MLFLOW_RUN: dict[str, TrialContext] = {}
_PROCESS_TRIAL: list[TrialContext | None] = []


def mlflow_status(status: RunStatus) -> str:
    """MLflow's status for a trial's end: FINISHED, FAILED, or KILLED (stopped or canceled)."""
    return {RunStatus.COMPLETED: "FINISHED", RunStatus.FAILED: "FAILED"}.get(status, "KILLED")


def register_thread_trial(live: LiveRun, outputs: Path, experiment: str) -> None:
    """Make a callable trial's run known (called by the thread executor before it calls the trial)."""
    with _LOCK:
        _THREAD_TRIALS[live.id] = TrialContext(live.id, live, outputs, experiment, in_thread=True)


def unregister_thread_trial(run_id: str, status: str) -> None:
    """End the MLflow runs the trial's thread left active (``status``: FINISHED, FAILED or KILLED),
    so the next trial in this thread starts clean, and forget the trial."""
    with _LOCK:
        trial = _THREAD_TRIALS.get(run_id)
    if "mlflow" in sys.modules:  # the trial used MLflow: it was imported
        import mlflow

        with contextlib.suppress(Exception):
            while mlflow.active_run() is not None:
                mlflow.end_run(status)
            if status == "KILLED" and trial is not None and trial.mlflow_run_id is not None:
                # stopped between two runs (autolog ends its run after each fit): still KILLED
                mlflow.MlflowClient().set_terminated(trial.mlflow_run_id, status)
    with _LOCK:
        trial = _THREAD_TRIALS.pop(run_id, None)
        if trial is not None and trial.mlflow_run_id is not None:
            _BY_MLFLOW_RUN.pop(trial.mlflow_run_id, None)


def _process_trial() -> TrialContext | None:
    """The trial this process is (a script started by hypersweep), from its environment."""
    with _LOCK:
        if not _PROCESS_TRIAL:
            run_id, events = os.environ.get(ENV_RUN_ID), os.environ.get(ENV_EVENTS)
            trial = None
            if run_id and events:
                live = Run.get_context()
                if isinstance(live, LiveRun) and live.id == run_id:
                    outputs = Path(events).parent.parent / "outputs"  # <run>/logs/events.jsonl
                    trial = TrialContext(
                        run_id, live, outputs, os.environ.get(ENV_EXPERIMENT) or "Default"
                    )
            _PROCESS_TRIAL.append(trial)
        return _PROCESS_TRIAL[0]


def current_trial() -> TrialContext | None:
    """The trial the calling thread runs: a callable's (by its thread), else this process's, else None."""
    live = current_run()
    if live is not None:
        with _LOCK:
            return _THREAD_TRIALS.get(live.id)
    return _process_trial()


def bind_mlflow_run(trial: TrialContext, mlflow_run_id: str) -> None:
    """Route what is logged to the MLflow run ``mlflow_run_id`` to ``trial``."""
    with _LOCK:
        trial.mlflow_run_id = mlflow_run_id
        _BY_MLFLOW_RUN[mlflow_run_id] = trial


def trial_of(mlflow_run_id: str) -> TrialContext | None:
    """The trial whose own MLflow run is ``mlflow_run_id`` (None for any other run)."""
    return _BY_MLFLOW_RUN.get(mlflow_run_id)
