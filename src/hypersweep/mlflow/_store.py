"""The tracking store behind ``hypersweep:`` URIs: MLflow's SQLite store, forwarding a trial's values."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.exceptions import MlflowException
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

from hypersweep._filelock import file_lock
from hypersweep.mlflow._trials import (
    ARTIFACTS_DIR,
    DB_NAME,
    PARAM_TAG_PREFIX,
    RUN_ID_TAG,
    TrialContext,
    TrialInterrupted,
    bind_mlflow_run,
    current_trial,
    trial_of,
)

_PARENT_TAG = "mlflow.parentRunId"
_RUN_NAME_TAG = "mlflow.runName"


def _schema_template() -> Path | None:
    """An empty database with MLflow's schema, made once per MLflow version in the user's cache.

    Creating MLflow's tables runs all its migrations (seconds); a new workspace copies this file
    instead. None if it cannot be made (then MLflow migrates the workspace's database itself).
    """
    import mlflow
    from mlflow.store.db import utils as db_utils

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hypersweep"
    template = cache / f"mlflow-{mlflow.__version__}-schema.db"
    if template.exists():
        return template
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with file_lock(cache / "mlflow-schema.lock"):
            if not template.exists():
                partial = cache / f".{template.name}.{os.getpid()}"
                engine = sqlalchemy.create_engine(f"sqlite:///{partial}")
                try:
                    db_utils._initialize_tables(engine)
                finally:
                    engine.dispose()
                os.replace(partial, template)
    except Exception:  # noqa: BLE001 - only an optimization: MLflow creates the tables itself
        return None
    return template


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Write-ahead logging: readers (mlflow ui, MlflowClient) never block a trial that logs, and a
    # commit costs no fsync; a crash of the process loses nothing that was committed.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _end_killed_on_sigterm(db: Path, mlflow_run_id: str) -> None:
    """In a script trial: when the sweep stops it (SIGTERM), its MLflow run ends KILLED, then the
    process dies of the signal as it would have. Only where SIGTERM has no handler of the script's."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def on_sigterm(signum: int, frame: Any) -> None:
        # the stop may arrive twice (the process group, then the watchdog's sweep of the trial's
        # processes): the second must not interrupt the first while it writes
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:  # a connection of its own, waiting at most 1 s for one the script may hold
            with contextlib.closing(sqlite3.connect(db, timeout=1.0)) as conn, conn:
                conn.execute(
                    "UPDATE runs SET status = 'KILLED', end_time = ? WHERE run_uuid = ?",
                    (int(time.time() * 1000), mlflow_run_id),
                )
        except sqlite3.Error:
            pass
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)


class HypersweepTrackingStore(SqlAlchemyStore):
    """MLflow's SQLite store on ``<workspace>/.hypersweep/mlflow.db`` that also reports to hypersweep.

    In a trial, a top-level run is the trial's own run, and what is logged to it reaches the
    sweep as ``Run.log`` and ``Run.tag`` would. Anywhere else it is MLflow's SQLite store.
    """

    def __init__(self, workspace: Path) -> None:
        state = workspace / ".hypersweep"
        state.mkdir(parents=True, exist_ok=True)
        self.workspace = workspace
        self._experiments: dict[str, str] = {}
        self._experiments_lock = threading.Lock()
        self.db = db = state / DB_NAME
        with file_lock(state / "mlflow.lock"):
            if not db.exists() and (template := _schema_template()) is not None:
                partial = state / f".{DB_NAME}.{os.getpid()}"
                shutil.copyfile(template, partial)
                os.replace(partial, db)
            super().__init__(f"sqlite:///{db}", (state / ARTIFACTS_DIR).as_uri())
            with self.engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode = WAL")
            sqlalchemy.event.listen(self.engine, "connect", _on_connect)
            self.engine.dispose()  # the pooled connections get the pragma too
            trial = current_trial()
            if trial is not None:  # its experiment exists before MLflow looks it up by name
                self._experiment_id(trial.experiment)

    # -- the trial's own run ----------------------------------------------------------------------

    def _experiment_id(self, name: str) -> str:
        with self._experiments_lock:
            if name not in self._experiments:
                experiment = self.get_experiment_by_name(name)
                if experiment is None:
                    try:
                        self._experiments[name] = self.create_experiment(name)
                    except MlflowException:  # another trial created it meanwhile
                        experiment = self.get_experiment_by_name(name)
                        if experiment is None:
                            raise
                if experiment is not None:
                    self._experiments[name] = experiment.experiment_id
            return self._experiments[name]

    def create_run(
        self, experiment_id: Any, user_id: Any, start_time: Any, tags: Any, run_name: Any
    ) -> Any:
        """A new run; in a trial, a top-level run is the trial's own (created once, then resumed)."""
        tags = list(tags or [])
        trial = current_trial()
        if trial is None or any(t.key == _PARENT_TAG for t in tags):
            return super().create_run(experiment_id, user_id, start_time, tags, run_name)
        by_key = {t.key: t for t in tags if t.key != _RUN_NAME_TAG}
        by_key[RUN_ID_TAG] = RunTag(RUN_ID_TAG, trial.run_id)
        tags = list(by_key.values())
        _check_not_stopped(trial)
        with trial.lock:
            if trial.mlflow_run_id is None:
                run = super().create_run(
                    self._experiment_id(trial.experiment), user_id, start_time, tags, trial.run_id
                )
                mlflow_run_id = run.info.run_id
                trial.outputs.mkdir(parents=True, exist_ok=True)
                with self.engine.begin() as conn:  # its artifacts are the hypersweep run's outputs
                    conn.execute(
                        sqlalchemy.text("UPDATE runs SET artifact_uri = :uri WHERE run_uuid = :id"),
                        {"uri": trial.outputs.resolve().as_uri(), "id": mlflow_run_id},
                    )
                bind_mlflow_run(trial, mlflow_run_id)
                if not trial.in_thread:
                    _end_killed_on_sigterm(self.db, mlflow_run_id)
                trial.live.tag("mlflow.run_id", mlflow_run_id)
            else:
                mlflow_run_id = trial.mlflow_run_id
                self.update_run_info(mlflow_run_id, RunStatus.RUNNING, None, None)
                if tags:
                    self.log_batch(mlflow_run_id, [], [], tags)
        return self.get_run(mlflow_run_id)

    def update_run_info(self, run_id: str, run_status: Any, end_time: Any, run_name: Any) -> Any:
        """As MLflow's; a trial's run that the sweep stopped ends KILLED (not FAILED by the stop's exception)."""
        trial = trial_of(run_id)
        if (
            trial is not None
            and trial.live._stop_reason is not None
            and run_status == RunStatus.FAILED
        ):
            run_status = RunStatus.KILLED
        return super().update_run_info(run_id, run_status, end_time, run_name)

    # -- logging: MLflow's record first, then the sweep's ------------------------------------------

    def log_metric(self, run_id: str, metric: Metric) -> None:
        super().log_metric(run_id, metric)
        self._forward(run_id, [metric], (), ())

    def log_param(self, run_id: str, param: Param) -> None:
        super().log_param(run_id, param)
        self._forward(run_id, (), [param], ())

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        super().set_tag(run_id, tag)
        self._forward(run_id, (), (), [tag])

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
    ) -> None:
        super().log_batch(run_id, metrics, params, tags)
        self._forward(run_id, metrics, params, tags)

    @staticmethod
    def _forward(
        run_id: str, metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
    ) -> None:
        trial: TrialContext | None = trial_of(run_id)
        if trial is None:  # not a trial's own run (a nested run, or outside a sweep)
            return
        _check_not_stopped(trial)  # before any Run.tag or Run.log, which would raise TrialStopped
        live = trial.live
        for param in params:
            live.tag(PARAM_TAG_PREFIX + param.key, param.value)
        for tag in tags:
            if not tag.key.startswith("mlflow.") and tag.key != RUN_ID_TAG:
                live.tag(tag.key, tag.value)
        for metric in metrics:
            live.log(metric.key, metric.value, step=metric.step)


def _check_not_stopped(trial: TrialContext) -> None:
    """Interrupt a callable trial that the sweep stopped (scripts are stopped by a signal)."""
    reason = trial.live._stop_reason
    if reason is not None:
        raise TrialInterrupted(reason)
