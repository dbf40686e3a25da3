"""Executors: where trials run (local processes, threads for callables)."""

from hypersweep.executors.base import Event, Executor, Logged, RunEnded, RunStarted, TrialSpec
from hypersweep.executors.local import LocalProcessExecutor
from hypersweep.executors.threads import ThreadExecutor


def make_executor(target: str, max_workers: int, callable_trials: bool, resources: dict | None = None) -> Executor:
    """The executor for a compute target: ``"local"``, ``"ray"`` or ``"ray://HOST:PORT"``.

    Args:
        target: where trials run.
        max_workers: the sweep's max_concurrent_runs.
        callable_trials: True for Python callables, False for scripts.
        resources: what each trial asks for (``num_gpus``: the local executor gives each its own devices).
    """
    if target == "ray" or target.startswith("ray://"):
        from hypersweep.executors.ray import RayExecutor

        return RayExecutor(address=None if target == "ray" else target, max_workers=max_workers)
    if callable_trials:
        return ThreadExecutor(max_workers, resources=resources)
    return LocalProcessExecutor(resources=resources)

__all__ = [
    "Event",
    "Executor",
    "LocalProcessExecutor",
    "Logged",
    "RunEnded",
    "RunStarted",
    "ThreadExecutor",
    "TrialSpec",
    "make_executor",
]
