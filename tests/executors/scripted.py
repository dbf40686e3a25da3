"""A scripted in-memory executor: trials are lists of steps, run one step a poll, in this thread.

It is a real :class:`~hypersweep.executors.base.Executor` (the base keeps its books, as it does for
Local, Thread and Ray); only the three hooks are scripted. A trial's ``TrialSpec.function`` is a
:class:`Script`: an iterable of steps, one a poll, each ``("log", name, value)``, ``("tick",)``
(nothing happens), ``("fail", message)`` or ``("stubborn",)`` (from then on it ignores stops, and
it never ends); after its last step it ends Completed. A stopped trial ends Canceled at its next
step, as a callable does at its next ``log``.
No thread, process or sleep: controller and policy tests run in milliseconds.

Example:
    >>> ex = ScriptedExecutor(max_workers=2)
    >>> ex.start(TrialSpec("r0", Path("/nonexistent"), {}, function=Script([("log", "m", 1.0)])))
    >>> [type(e).__name__ for e in ex.poll(0) + ex.poll(0)]
    ['RunStarted', 'Logged', 'RunEnded']
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path  # noqa: F401 - used by the docstring's example
from typing import Any

from hypersweep.executors.base import Event, Executor, Logged, RunEnded, RunStarted, TrialSpec
from hypersweep.status import RunStatus


class Script:
    """The steps of one scripted trial (callable, so that a ``TrialSpec`` accepts it as its function)."""

    def __init__(self, steps: Iterable[tuple[Any, ...]]) -> None:
        self.steps = steps

    def __call__(
        self, config: dict[str, Any]
    ) -> None:  # pragma: no cover - never called: the steps are run
        raise TypeError("a Script is run by ScriptedExecutor, step by step")


def forever(name: str = "m") -> Script:
    """A trial that logs ``name`` = 0, 1, 2, ... one value a poll, until it is stopped."""
    return Script(("log", name, float(i)) for i in itertools.count())


@dataclass
class _Trial:
    steps: Iterator[tuple[Any, ...]]
    stopping: bool = False
    stubborn: bool = False


class ScriptedExecutor(Executor):
    """Runs :class:`Script` trials step by step (see the module's docstring).

    Args:
        max_workers: how many trials may run at once.
        resources: as for every executor (``num_gpus`` is lent from this machine's devices).

    Attributes:
        clock: polls so far (the trials' time).
        most_running: the most trials that ever ran at once.
    """

    def __init__(self, max_workers: int | None = None, resources: dict | None = None) -> None:
        super().__init__(max_workers, resources)
        self.clock = 0
        self.most_running = 0

    def launch(self, spec: TrialSpec, devices: list[str] | None) -> _Trial:
        script = spec.function
        if not isinstance(script, Script):
            raise TypeError(f"ScriptedExecutor runs Script trials; got {type(script).__name__}")
        self.emit(RunStarted(spec.run_id, None, float(self.clock)))
        return _Trial(iter(script.steps))

    def signal_stop(self, run_id: str, handle: Any, reason: str) -> None:
        handle.stopping = True

    def collect(self, timeout: float) -> list[Event]:
        self.clock += 1
        trials: dict[str, _Trial] = self.handles()
        self.most_running = max(self.most_running, len(trials))
        events: list[Event] = []
        for run_id, trial in trials.items():
            events.extend(self._step(run_id, trial))
        return events

    def _step(self, run_id: str, trial: _Trial) -> list[Event]:
        now = float(self.clock)
        if trial.stopping and not trial.stubborn:
            return [RunEnded(run_id, RunStatus.CANCELED, None, now)]
        for step in trial.steps:
            if step[0] == "log":  # one logged value a poll
                return [Logged(run_id, "metric", step[1], step[2], now)]
            if step[0] == "fail":
                return [RunEnded(run_id, RunStatus.FAILED, step[1], now)]
            if step[0] == "stubborn":
                trial.stubborn = True
                continue
            return []
        return [] if trial.stubborn else [RunEnded(run_id, RunStatus.COMPLETED, None, now)]
