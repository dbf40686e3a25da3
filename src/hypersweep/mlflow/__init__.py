"""MLflow as a logging API of every trial, the way Azure ML does it for its jobs: through MLflow's plugins.

Each trial's environment has ``MLFLOW_TRACKING_URI=hypersweep:///<workspace>`` and
``MLFLOW_EXPERIMENT_NAME=<experiment>``. MLflow finds hypersweep's tracking store for that scheme
through the ``mlflow.tracking_store`` entry point; the store is MLflow's own SQLite store on
``<workspace>/.hypersweep/mlflow.db`` (so ``MlflowClient``, ``mlflow.search_runs`` and ``mlflow ui``
read it), and it forwards what a trial logs through the same path as ``Run.log``:

- every top-level run the trial starts (``mlflow.start_run()``, the run ``mlflow.log_metric`` or an
  autolog starts by itself) *is* the trial's run: one MLflow run per hypersweep run, named after it,
  with the tag ``hypersweep.run_id``; its artifacts are the run's ``outputs/`` folder;
- each metric value becomes one ``Run.log`` (so each value of the primary metric is one interval of
  the policy, delivered live), each param the tag ``params.<name>``, each tag a tag (MLflow's own
  ``mlflow.*`` tags stay in MLflow's record); values of nested runs stay in MLflow's record only.

Callable trials run in threads of the driver; their runs are told apart by MLflow's run id, and the
thread that starts a run says which trial it is for.

This module imports neither mlflow nor anything heavy: MLflow loads the entry points of every
installed plugin when it is imported, and the thread executor calls in here for every trial.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypersweep.mlflow._trials import (
    ARTIFACTS_DIR,
    DB_NAME,
    ENV_EXPERIMENT_NAME,
    ENV_TRACKING_URI,
    INSTALL_HINT,
    NOT_IN_TRIAL_PYTHON_HINT,
    PARAM_TAG_PREFIX,
    RUN_ID_TAG,
    SCHEME,
    TrialContext,
    TrialInterrupted,
    backend_store_uri,
    bind_mlflow_run,
    current_trial,
    end_stopped_runs,
    install_hint,
    mlflow_status,
    register_thread_trial,
    tracking_uri,
    trial_env,
    trial_of,
    unregister_thread_trial,
    workspace_of,
)

if TYPE_CHECKING:
    from hypersweep.mlflow._store import HypersweepTrackingStore

__all__ = [
    "end_stopped_runs",
    "ARTIFACTS_DIR",
    "DB_NAME",
    "ENV_EXPERIMENT_NAME",
    "ENV_TRACKING_URI",
    "INSTALL_HINT",
    "NOT_IN_TRIAL_PYTHON_HINT",
    "PARAM_TAG_PREFIX",
    "RUN_ID_TAG",
    "SCHEME",
    "TrialContext",
    "TrialInterrupted",
    "backend_store_uri",
    "bind_mlflow_run",
    "current_trial",
    "install_hint",
    "mlflow_status",
    "register_thread_trial",
    "tracking_store",
    "tracking_uri",
    "trial_env",
    "trial_of",
    "unregister_thread_trial",
    "workspace_of",
]


def tracking_store(store_uri: str, artifact_uri: str | None = None) -> HypersweepTrackingStore:
    """The ``mlflow.tracking_store`` entry point for the ``hypersweep`` scheme."""
    from hypersweep.mlflow._store import HypersweepTrackingStore

    return HypersweepTrackingStore(workspace_of(store_uri))
