"""The executor interface: start trials, poll their events, stop them.

Executors know nothing of samplers, policies or the store: they run what they are given and report
what happened, as plain events.
"""

from __future__ import annotations

import abc
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypersweep._wire import KINDS, decode  # noqa: F401 - KINDS: the kinds a run writes
from hypersweep.status import RunStatus


@dataclass
class TrialSpec:
    """Everything an executor needs to run one trial.

    Attributes:
        run_id: the run's id.
        run_dir: the run's folder (its working folder for scripts): holds ``outputs/`` and ``logs/``.
        config: the sampled values, keyed by parameter names without dashes.
        argv: the command of a script trial (None for a callable).
        function: the callable of a callable trial (None for a script).
        env: extra environment variables for a script trial.
        primary_metric: the primary metric's name (a callable's numeric return value is logged under it).
        source_dir: the sweep's source snapshot; a script trial's working folder starts as a copy of it.
        resources: what the trial asks for: ``num_cpus``, ``num_gpus`` (its own devices, locally too),
            ``resources`` (custom, Ray only).
        output_dirs: named output folders (``${{outputs.NAME}}``), made as ``outputs/NAME`` before the run starts.
    """

    run_id: str
    run_dir: Path
    config: dict[str, Any]
    argv: list[str] | None = None
    function: Callable[[dict[str, Any]], Any] | None = None
    env: dict[str, str] = field(default_factory=dict)
    primary_metric: str = ""
    source_dir: Path | None = None
    resources: dict[str, Any] = field(default_factory=dict)
    output_dirs: list[str] = field(default_factory=list)

    @property
    def events_path(self) -> Path:
        return self.run_dir / "logs" / "events.jsonl"

    @property
    def stdout_path(self) -> Path:
        return self.run_dir / "logs" / "stdout.txt"

    @property
    def stderr_path(self) -> Path:
        return self.run_dir / "logs" / "stderr.txt"


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    pid: int | None = None
    time: float = 0.0


@dataclass(frozen=True)
class Logged:
    """One record a trial logged: ``kind`` is metric, list, row, table or tag (see ``hypersweep.run``)."""

    run_id: str
    kind: str
    name: str
    value: Any
    time: float
    step: int | None = None


@dataclass(frozen=True)
class RunEnded:
    run_id: str
    status: RunStatus
    error: str | None = None
    time: float = 0.0


Event = RunStarted | Logged | RunEnded


def parse_record(run_id: str, line: bytes | str) -> Logged | None:
    """Decode one line of the events file; None for a line that is torn, foreign or malformed
    (see :func:`hypersweep._wire.decode`: whatever a line holds, only that line is lost)."""
    rec = decode(line)
    return None if rec is None else Logged(run_id, rec.kind.value, rec.name, rec.value, rec.time, rec.step)


def parse_records(run_id: str, lines: Iterable[bytes | str]) -> list[Logged]:
    """The records among lines of an events file (torn, foreign or malformed lines are skipped)."""
    return [rec for line in lines if (rec := parse_record(run_id, line)) is not None]


def coerce_number(value: Any) -> float:
    """A logged value as a float for policies and summaries (NaN when it is not a number).

    Integers beyond the float range (which the layers before refuse) count as ±inf.
    """
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return math.nan


class Executor(abc.ABC):
    """Runs trials. All methods are called from the controller's thread."""

    @abc.abstractmethod
    def start(self, spec: TrialSpec) -> None:
        """Start a trial; a :class:`RunStarted` event follows."""

    @abc.abstractmethod
    def poll(self, timeout: float) -> list[Event]:
        """Wait up to ``timeout`` seconds for events and return all that are ready."""

    @abc.abstractmethod
    def stop(self, run_id: str, reason: str) -> None:
        """Stop a trial; its :class:`RunEnded` event (Canceled) follows."""

    @abc.abstractmethod
    def active(self) -> int:
        """Number of trials started and not yet ended."""

    def capacity(self) -> int | None:
        """How many more trials could start now, as far as this executor's own resources go.

        None (the default): no limit but ``max_concurrent_runs``. The local executor counts the free
        GPUs when trials ask for them; a trial started beyond this waits in the executor (Queued).
        """
        return None

    def capacity_note(self) -> str:
        """Why :meth:`capacity` is what it is, in words ("" when it sets no limit)."""
        return ""

    def shutdown(self, reason: str = "sweep ended", wait_seconds: float = 30.0) -> list[Event]:
        """Stop every trial, wait up to ``wait_seconds`` for them, and return the last events.

        A trial still going after that (a callable that never logs again) is reported Canceled
        and abandoned.
        """
        for run_id in self.running_ids():
            self.stop(run_id, reason)
        events: list[Event] = []
        deadline = time.monotonic() + wait_seconds
        while self.active() and time.monotonic() < deadline:
            events.extend(self.poll(0.05))
        now = time.time()
        for run_id in self.running_ids():
            note = f"{reason} (the trial did not stop within {wait_seconds:g} s and was abandoned)"
            events.append(RunEnded(run_id, RunStatus.CANCELED, note, now))
        self.abandon()
        return events

    def recover(self, spec: TrialSpec, pid: int | None) -> list[Event]:
        """What a trial started by a driver that died had logged; stop it if it still runs.

        Executors that cannot reach such trials return nothing.
        """
        return []

    def abandon(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Forget the trials still listed after :meth:`shutdown` gave up waiting."""

    @abc.abstractmethod
    def running_ids(self) -> list[str]:
        """Ids of the trials started and not yet ended."""
