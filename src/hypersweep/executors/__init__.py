"""Executors: where trials run (local processes, threads for callables, Ray tasks).

Each executor class declares, at its top, the compute targets it runs (``compute_targets``) and what
it runs (``runs_scripts``, ``runs_callables``); :func:`make_executor` picks the first class defined
that fits, so a new executor is one module (its class defined is its registration) plus its export here.

A compute target form is matched as written, except for two placeholders: ``HOST`` (a host name or
address) and ``:PORT`` (an optional port number): ``"ray://HOST:PORT"`` matches ``ray://head`` and
``ray://10.0.0.1:10001``. The first form is the target's bare name.
"""

from __future__ import annotations

import inspect
import re
from functools import lru_cache
from typing import Any

from hypersweep._registry import load_plugins
from hypersweep.errors import InvalidConfigError
from hypersweep.executors.base import Event, Executor, Logged, RunEnded, RunStarted, TrialSpec
from hypersweep.executors.local import LocalProcessExecutor
from hypersweep.executors.ray import RayExecutor
from hypersweep.executors.threads import ThreadExecutor


def executor_classes() -> list[type[Executor]]:
    """Every executor class that declares ``compute_targets``, in the order they were defined
    (installed plugins' included: see :func:`hypersweep._registry.load_plugins`)."""
    load_plugins()
    found: list[type[Executor]] = []
    todo = list(Executor.__subclasses__())
    while todo:
        cls = todo.pop(0)
        if "compute_targets" in cls.__dict__ and cls not in found:
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


@lru_cache(maxsize=64)
def _pattern(form: str) -> re.Pattern[str]:
    text = re.escape(form).replace(":PORT", "(?::[0-9]+)?").replace("HOST", r"[^\s/:]+")
    return re.compile(text)


def _serves(cls: type[Executor], target: str) -> bool:
    return any(_pattern(form).fullmatch(target) for form in getattr(cls, "compute_targets", ()))


def is_target(target: Any) -> bool:
    """True when some executor runs this compute target (``"local"``, ``"ray"``, ``"ray://HOST:PORT"``, ...)."""
    return isinstance(target, str) and any(_serves(cls, target) for cls in executor_classes())


def target_forms() -> list[str]:
    """The compute targets the executors run, as written in messages: ``['local', 'ray', 'ray://HOST:PORT']``."""
    forms = [form for cls in executor_classes() for form in cls.compute_targets]  # type: ignore[attr-defined]
    return list(dict.fromkeys(forms))


def make_executor(
    target: str, max_workers: int, callable_trials: bool, resources: dict | None = None
) -> Executor:
    """The executor for a compute target: the first class whose ``compute_targets`` match and that runs
    this kind of trial.

    Its constructor gets, among these keyword arguments, those it takes: ``address`` (the target as
    written, or None for its bare name), ``max_workers`` and ``resources``.

    Args:
        target: where trials run.
        max_workers: the sweep's max_concurrent_runs.
        callable_trials: True for Python callables, False for scripts.
        resources: what each trial asks for (``num_gpus``: the local executor gives each its own devices).

    Raises:
        InvalidConfigError: no executor runs this target (or this kind of trial on it).
    """
    flag = "runs_callables" if callable_trials else "runs_scripts"
    for cls in executor_classes():
        if _serves(cls, target) and getattr(cls, flag, False):
            forms: tuple[str, ...] = cls.compute_targets  # type: ignore[attr-defined]
            offered: dict[str, Any] = {
                "address": None if target == forms[0] else target,
                "max_workers": max_workers,
                "resources": resources,
            }
            accepted = inspect.signature(cls).parameters
            return cls(**{key: value for key, value in offered.items() if key in accepted})
    kind = "callable" if callable_trials else "script"
    raise InvalidConfigError(
        f"No executor runs {kind} trials on the compute target {target!r}; the targets are "
        f"{', '.join(map(repr, target_forms()))}."
    )


__all__ = [
    "Event",
    "Executor",
    "LocalProcessExecutor",
    "Logged",
    "RayExecutor",
    "RunEnded",
    "RunStarted",
    "ThreadExecutor",
    "TrialSpec",
    "executor_classes",
    "is_target",
    "make_executor",
    "target_forms",
]
