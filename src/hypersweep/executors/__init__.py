"""Executors: where trials run (local processes, threads for callables)."""

from hypersweep.executors.base import Event, Executor, Logged, RunEnded, RunStarted, TrialSpec
from hypersweep.executors.local import LocalProcessExecutor
from hypersweep.executors.threads import ThreadExecutor

__all__ = [
    "Event",
    "Executor",
    "LocalProcessExecutor",
    "Logged",
    "RunEnded",
    "RunStarted",
    "ThreadExecutor",
    "TrialSpec",
]
