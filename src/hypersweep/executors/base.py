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
from hypersweep.executors._devices import DevicePool, describe_request, discover, pool_for
from hypersweep.mlflow import end_stopped_runs
from hypersweep.run import ENV_WORKSPACE
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
    return (
        None
        if rec is None
        else Logged(run_id, rec.kind.value, rec.name, rec.value, rec.time, rec.step)
    )


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


class LaunchError(Exception):
    """Raised by :meth:`Executor.launch` when a trial cannot start: the run fails with this message."""


class Executor(abc.ABC):
    """Runs trials: the lifecycle every executor shares, on top of three hooks.

    The base keeps the books: the table of running trials (each with the handle its executor's
    :meth:`launch` returned), the trials waiting for room (Queued), the events due at the next
    :meth:`poll`, the reasons runs were stopped for, and the GPUs of this machine lent to trials.
    It is the one place that limits how many trials run at once: the sweep's
    ``max_concurrent_runs`` (told once by the controller, :meth:`limit_concurrent_runs`), the
    executor's own ``max_workers`` and what its devices hold. :meth:`capacity` is the room left
    under all three; a trial started beyond ``max_workers`` or the devices waits here until there
    is room.

    An executor implements :meth:`launch` (start a trial), :meth:`signal_stop` (ask it to stop)
    and :meth:`collect` (wait for what its trials did, as events). When a trial that was stopped
    ends Completed or Canceled, its end is Canceled with the first stop reason; a trial whose
    failure stands (an exception after the stop) stays Failed.

    All public methods are called from one thread, the controller's.

    Args:
        max_workers: how many trials may run at once (None: no limit of the executor's own).
        resources: what each trial of the sweep asks for; ``num_gpus`` makes the executor lend each
            trial its own devices of this machine (see :mod:`hypersweep.executors._devices`).
    """

    #: True when trials asking for ``num_gpus`` get devices of this machine from the executor.
    lends_devices = True

    def __init__(self, max_workers: int | None = None, resources: dict | None = None) -> None:
        self.max_workers = max_workers
        self.max_concurrent_runs: int | None = None  # the sweep's limit (limit_concurrent_runs)
        self._running: dict[
            str, tuple[TrialSpec, Any]
        ] = {}  # run id -> (spec, the executor's handle)
        self._waiting: list[TrialSpec] = []  # trials waiting for room, in order
        self._pending: list[Event] = []  # events due at the next poll
        self._stop_reasons: dict[str, str] = {}  # run id -> the first reason it was stopped for
        self._draining: dict[
            str, TrialSpec
        ] = {}  # ended, devices held until all its processes are gone
        self._request = _num_gpus(resources)
        self._pool: DevicePool | None = None

    # -- the hooks -----------------------------------------------------------------------------

    @abc.abstractmethod
    def launch(self, spec: TrialSpec, devices: list[str] | None) -> Any:
        """Start a trial now and return its handle (kept in the running table).

        ``devices`` are the ids of the GPUs lent to it (None when it asked for none). A
        :class:`RunStarted` event follows from :meth:`collect`, or is given to :meth:`emit` here.

        Raises:
            LaunchError: when it cannot start (the run then fails with that message).
        """

    @abc.abstractmethod
    def signal_stop(self, run_id: str, handle: Any, reason: str) -> None:
        """Ask a running trial to stop (called once a run); its :class:`RunEnded` follows from :meth:`collect`."""

    @abc.abstractmethod
    def collect(self, timeout: float) -> list[Event]:
        """Wait up to ``timeout`` seconds for what the running trials did, and return it as events."""

    def leftovers(self, specs: list[TrialSpec]) -> set[str]:
        """Run ids among these ended trials some process of which is still alive (default: none)."""
        return set()

    # -- what the controller calls ---------------------------------------------------------------

    def start(self, spec: TrialSpec) -> None:
        """Start a trial, or queue it until there is room; a :class:`RunStarted` event follows once it runs."""
        self._drain()
        if self._waiting or not self._launch(spec):
            self._waiting.append(spec)

    def poll(self, timeout: float) -> list[Event]:
        """Wait up to ``timeout`` seconds for events and return all that are ready."""
        self._drain()
        self._start_waiting()
        events, self._pending = self._pending, []
        wait = 0.0 if events else timeout
        if self._draining:  # no pidfd says when a leftover process is gone: look again soon
            wait = min(wait, 0.02)
        if self._running:
            events.extend(self.collect(wait))
        elif wait > 0:
            time.sleep(min(wait, 0.02))
        settled = [self._settle(ev) if isinstance(ev, RunEnded) else ev for ev in events]
        if self._draining:
            self._drain()
        return settled

    def stop(self, run_id: str, reason: str) -> None:
        """Stop a trial; its :class:`RunEnded` event (Canceled, with ``reason``) follows."""
        for spec in self._waiting:
            if spec.run_id == run_id:  # never started: it ends at once
                self._waiting.remove(spec)
                self.emit(RunEnded(run_id, RunStatus.CANCELED, reason, time.time()))
                return
        entry = self._running.get(run_id)
        if entry is None or run_id in self._stop_reasons:
            return
        self._stop_reasons[run_id] = reason
        self.signal_stop(run_id, entry[1], reason)

    def active(self) -> int:
        """Trials running, waiting for room, ended with processes still being ended, or whose end is due."""
        due = sum(isinstance(ev, RunEnded) for ev in self._pending)
        return len(self._running) + len(self._waiting) + len(self._draining) + due

    def running_ids(self) -> list[str]:
        """Ids of the trials started (or waiting to) and not yet ended."""
        return list(self._running) + [spec.run_id for spec in self._waiting]

    def limit_concurrent_runs(self, max_concurrent_runs: int | None) -> None:
        """Set the sweep's ``max_concurrent_runs`` (None: no limit), which :meth:`capacity` honours."""
        self.max_concurrent_runs = max_concurrent_runs

    def capacity(self) -> int | None:
        """How many more trials could start now, under every limit: ``max_concurrent_runs``,
        ``max_workers`` (what is left of each once the active trials are counted) and, when trials
        ask for GPUs of this machine, how many more the free devices hold.

        None: no limit at all. A trial started beyond ``max_workers`` or the devices waits in the
        executor (Queued).
        """
        room, fits = self._room(), self._fits()
        if fits is None:
            return room
        return fits if room is None else min(room, fits)

    def _room(self) -> int | None:
        """What ``max_concurrent_runs`` and ``max_workers`` leave (None: neither is set)."""
        limits = [n for n in (self.max_concurrent_runs, self.max_workers) if n is not None]
        return max(0, min(limits) - self.active()) if limits else None

    def _fits(self) -> int | None:
        """How many more trials the free devices hold (None: trials ask for none)."""
        if not self._lends():
            return None
        self._drain()
        return max(0, self._devices().fits(self._request) - len(self._waiting))

    def capacity_note(self) -> str:
        """Why :meth:`capacity` is what it is, in words: "" unless the devices are what limits it now."""
        fits = self._fits()
        room = self._room()
        if fits is None or (room is not None and room <= fits):
            return ""
        pool = self._devices()
        found = f"{len(pool.devices.ids)} GPU{'s' if len(pool.devices.ids) != 1 else ''} found from {pool.devices.source}"
        return (
            f"each trial asks for {describe_request(self._request)}, and the {found} hold "
            f"{pool.at_most(self._request)} such trials at once; the others start as devices are freed"
        )

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

    def abandon(self) -> None:
        """Forget the trials still listed after :meth:`shutdown` gave up waiting, and give back their devices."""
        for run_id in [*self._running, *self._draining]:
            self._release(run_id)
        self._running.clear()
        self._waiting.clear()
        self._draining.clear()
        self._stop_reasons.clear()

    # -- for the executors -----------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Give an event to the next :meth:`poll` (from the controller's thread only)."""
        self._pending.append(event)

    def handles(self) -> dict[str, Any]:
        """The handles of the running trials, by run id."""
        return {run_id: handle for run_id, (_, handle) in self._running.items()}

    # -- the books -------------------------------------------------------------------------------

    def _lends(self) -> bool:
        return self.lends_devices and self._request > 0

    def _devices(self) -> DevicePool:
        if self._pool is None:
            self._pool = pool_for(discover())
        return self._pool

    def _launch(self, spec: TrialSpec) -> bool:
        """Launch ``spec`` if there is room for it now (False: there is none)."""
        if self.max_workers is not None and len(self._running) >= self.max_workers:
            return False
        devices = None
        gpus = _num_gpus(spec.resources)
        if self.lends_devices and gpus > 0:
            devices = self._devices().acquire(spec.run_id, gpus)
            if devices is None:
                return False
        try:
            handle = self.launch(spec, devices)
        except LaunchError as exc:
            self._release(spec.run_id)
            self.emit(RunEnded(spec.run_id, RunStatus.FAILED, str(exc), time.time()))
            return True
        self._running[spec.run_id] = (spec, handle)
        return True

    def _start_waiting(self) -> None:
        while self._waiting and self._launch(self._waiting[0]):
            self._waiting.pop(0)

    def _settle(self, ended: RunEnded) -> RunEnded:
        """Take an ended trial off the books; a stopped one ends Canceled with its stop reason."""
        entry = self._running.pop(ended.run_id, None)
        reason = self._stop_reasons.pop(ended.run_id, None)
        if entry is not None and self._pool is not None and ended.run_id in self._pool.holders:
            self._draining[ended.run_id] = entry[
                0
            ]  # its devices stay held until its processes are gone
        if reason is not None and entry is not None and entry[0].argv is not None:
            workspace = entry[0].env.get(ENV_WORKSPACE)
            if workspace:  # what a stopped script could not write as it died (its MLflow runs)
                end_stopped_runs(workspace, ended.run_id)
        if reason is not None and ended.status in (RunStatus.COMPLETED, RunStatus.CANCELED):
            return RunEnded(ended.run_id, RunStatus.CANCELED, reason, ended.time)
        return ended

    def _drain(self) -> None:
        """Free the devices of ended trials none of whose processes is alive any more."""
        if not self._draining:
            return
        alive = self.leftovers(list(self._draining.values()))
        for run_id in [r for r in self._draining if r not in alive]:
            del self._draining[run_id]
            self._release(run_id)

    def _release(self, run_id: str) -> None:
        if self._pool is not None:
            self._pool.release(run_id)


def _num_gpus(resources: dict | None) -> float:
    return float((resources or {}).get("num_gpus", 0) or 0)
