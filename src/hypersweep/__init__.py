"""hypersweep: hyperparameter sweeps on a laptop or a cluster, with Azure ML HyperDrive's API.

Change the import lines of a HyperDrive notebook and it runs locally::

    from hypersweep import (BanditPolicy, Experiment, HyperDriveConfig, PrimaryMetricGoal,
                            RandomParameterSampling, ScriptRunConfig, Workspace, choice, loguniform)

Names are imported lazily, so a training script's ``from hypersweep import Run`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # search space
    "choice": "hypersweep.space",
    "randint": "hypersweep.space",
    "uniform": "hypersweep.space",
    "quniform": "hypersweep.space",
    "loguniform": "hypersweep.space",
    "qloguniform": "hypersweep.space",
    "normal": "hypersweep.space",
    "qnormal": "hypersweep.space",
    "lognormal": "hypersweep.space",
    "qlognormal": "hypersweep.space",
    "SearchSpace": "hypersweep.space",
    # sampling
    "HyperParameterSampling": "hypersweep.sampling",
    "RandomParameterSampling": "hypersweep.sampling",
    "GridParameterSampling": "hypersweep.sampling",
    "BayesianParameterSampling": "hypersweep.sampling",
    # policies
    "EarlyTerminationPolicy": "hypersweep.policy",
    "BanditPolicy": "hypersweep.policy",
    "MedianStoppingPolicy": "hypersweep.policy",
    "TruncationSelectionPolicy": "hypersweep.policy",
    "NoTerminationPolicy": "hypersweep.policy",
    "AshaPolicy": "hypersweep.policy",
    "RobustAshaPolicy": "hypersweep.policy",
    # configuration and results
    "PrimaryMetricGoal": "hypersweep.goal",
    "RunStatus": "hypersweep.status",
    "HyperDriveConfig": "hypersweep.config",
    "HyperDriveRunConfig": "hypersweep.config",
    "ScriptRunConfig": "hypersweep.config",
    "FunctionRunConfig": "hypersweep.config",
    "Workspace": "hypersweep.experiment",
    "Environment": "hypersweep.environment",
    "ComputeTarget": "hypersweep.compute",
    "AmlCompute": "hypersweep.compute",
    "RayCompute": "hypersweep.compute",
    "ComputeTargetException": "hypersweep.compute",
    "CondaDependencies": "hypersweep.conda_dependencies",
    "Experiment": "hypersweep.experiment",
    "HyperDriveRun": "hypersweep.experiment",
    "ScriptRun": "hypersweep.experiment",
    "Model": "hypersweep.model",
    "Run": "hypersweep.run",
    "RunDetails": "hypersweep.widgets",
    # errors
    "HypersweepError": "hypersweep.errors",
    "InvalidConfigError": "hypersweep.errors",
    "NotFoundError": "hypersweep.errors",
    "RunFailedError": "hypersweep.errors",
    "SchemaVersionError": "hypersweep.errors",
    "TrialStopped": "hypersweep.errors",
    "WorkspaceError": "hypersweep.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hypersweep' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _store_side() -> Any:
    """The layer that owns the store, for :mod:`hypersweep.run` (which imports nothing above it)."""
    from hypersweep.experiment import STORE_SIDE

    return STORE_SIDE


from hypersweep import run as _run  # noqa: E402 - standard library only: `from hypersweep import Run` stays cheap

_run.connect_store(_store_side)


if TYPE_CHECKING:
    from hypersweep.compute import AmlCompute, ComputeTarget, ComputeTargetException, RayCompute
    from hypersweep.conda_dependencies import CondaDependencies
    from hypersweep.config import (
        FunctionRunConfig,
        HyperDriveConfig,
        HyperDriveRunConfig,
        ScriptRunConfig,
    )
    from hypersweep.environment import Environment
    from hypersweep.errors import (
        HypersweepError,
        InvalidConfigError,
        NotFoundError,
        RunFailedError,
        SchemaVersionError,
        TrialStopped,
        WorkspaceError,
    )
    from hypersweep.experiment import Experiment, HyperDriveRun, ScriptRun, Workspace
    from hypersweep.goal import PrimaryMetricGoal
    from hypersweep.model import Model
    from hypersweep.run import Run
    from hypersweep.space import (
        SearchSpace,
        choice,
        lognormal,
        loguniform,
        normal,
        qlognormal,
        qloguniform,
        qnormal,
        quniform,
        randint,
        uniform,
    )
    from hypersweep.status import RunStatus
    from hypersweep.widgets import RunDetails
