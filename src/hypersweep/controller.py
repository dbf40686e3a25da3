"""The sweep loop: ask the sampler, start runs, ingest what they log, ask the policy, stop, finish.

The controller is the only writer of a running sweep's metrics: it reads events from its executor
and writes what one step of its loop learned and decided (new runs, logged values, statuses, stops)
to the store as one :class:`~hypersweep.store.Batch`, in one transaction. It holds the sampler's and
the policy's view of the sweep in memory (plain data) and hands them to those objects; neither sees
the store or a process. Each run's state is one :class:`~hypersweep.policy.base.RunHistory`: the
status the sampler and the policy see is the one the controller acts on.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypersweep.errors import DriverLostError
from hypersweep.executors.base import (
    Event,
    Executor,
    Logged,
    RunEnded,
    RunStarted,
    TrialSpec,
    coerce_number,
)
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy.base import EarlyTerminationPolicy, RunHistory
from hypersweep.sampling.base import HyperParameterSampling, Observation
from hypersweep.status import RunStatus
from hypersweep.store import RUN_FIELD_KINDS, SERIES_KINDS, Batch, MetricRecord, NewRun, Store

logger = logging.getLogger(__name__)

#: Builds the executor's spec for a new run:
#: (run_id, number, config, run_dir, resume_from) -> (spec, arguments).
TrialFactory = Callable[[str, int, dict[str, Any], Path, "str | None"], tuple[TrialSpec, list[str]]]

_ACTIVE: dict[str, SweepController] = {}
_ACTIVE_LOCK = threading.Lock()


def active_controller(sweep_id: str) -> SweepController | None:
    """The controller driving ``sweep_id`` in this process, if any."""
    with _ACTIVE_LOCK:
        return _ACTIVE.get(sweep_id)


def _values(ev: Logged) -> list[Any]:
    """The values a record carries: ``log_list`` logs several (one interval each), the rest one."""
    return ev.value if ev.kind == "list" and isinstance(ev.value, list) else [ev.value]


@dataclass
class PriorRun:
    """A finished run of a warm-start sweep: evidence for the sampler and the policy."""

    run_id: str
    config: dict[str, Any]
    values: list[float]
    status: RunStatus
    best: float


@dataclass
class ResumeRequest:
    """A run of an earlier sweep to run again with the same values, from its checkpoint."""

    config: dict[str, Any]
    checkpoint: str
    origin: dict[str, Any]


@dataclass
class SweepPlan:
    """What the controller needs to know about a sweep: plain values, and the two deciders built for this
    sweep alone from its stored description (never the user's objects)."""

    sweep_id: str
    sampling: HyperParameterSampling
    policy: EarlyTerminationPolicy | None
    goal: PrimaryMetricGoal
    primary_metric: str
    max_total_runs: int
    max_concurrent_runs: int
    max_duration_seconds: float
    trial_timeout: float | None
    runs_dir: Path
    priors: list[PriorRun] = field(default_factory=list)
    resumes: list[ResumeRequest] = field(default_factory=list)


#: The error of a run that was in flight when the process driving its sweep stopped.
INTERRUPTED = "Interrupted: the process driving the sweep stopped while this run was in flight."


@dataclass
class _RunState:
    """What the controller knows of one run. Its status is its history's (one state per run): the
    policy sees the status the controller acts on."""

    run_id: str
    number: int
    config: dict[str, Any]
    history: RunHistory
    started: float | None = None
    steps: dict[str, int] = field(default_factory=dict)
    best: float = math.nan
    failure: str | None = None  # set by Run.fail(): the run ends Failed with this error
    interrupted: bool = (
        False  # ended Failed because a driver died while it ran, not by its own doing
    )

    @classmethod
    def new(
        cls, run_id: str, number: int, config: dict[str, Any], status: RunStatus = RunStatus.QUEUED
    ) -> _RunState:
        """A run's state, its history empty."""
        return cls(run_id, number, config, RunHistory(run_id, [], status))

    @property
    def status(self) -> RunStatus:
        return self.history.status

    @status.setter
    def status(self, status: RunStatus) -> None:
        self.history.status = status


class SweepController:
    """Drives one sweep to its end.

    Args:
        store: the workspace database.
        plan: the sweep's settings.
        executor: where trials run.
        factory: builds a trial's spec from a configuration.
        poll_interval: the longest the loop sleeps between looks at its trials (seconds).
        on_end: called once the loop has ended and its last write is done (releases the sweep's lease).

    Should another process take the sweep over (every write of a driver that lost it fails with
    :class:`DriverLostError`), the loop stops its trials and ends without writing anything more.
    """

    def __init__(
        self,
        store: Store,
        plan: SweepPlan,
        executor: Executor,
        factory: TrialFactory,
        poll_interval: float = 0.1,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self.store, self.plan, self.executor, self.factory = store, plan, executor, factory
        executor.limit_concurrent_runs(plan.max_concurrent_runs)  # its capacity() honours it
        self.poll_interval = poll_interval
        self._on_end = on_end
        self.lost: str | None = (
            None  # why this controller stopped driving its sweep, if another took it
        )
        self.runs: dict[str, _RunState] = {}
        self.histories: dict[str, RunHistory] = {}
        self._cancel = threading.Event()
        self.done = threading.Event()  # set once the sweep's final state is recorded
        self._cancel_reason = "Canceled by the user."
        self._exhausted = False
        self._said_waiting = False  # the sweep said once that it waits for its executor's devices
        self._policy_failed = False  # the policy raised once: said, and it is not asked again
        self._last_flag_check = 0.0
        self._last_heartbeat = 0.0
        self.status = RunStatus.QUEUED
        self._resumes = list(plan.resumes)
        self._prior_observations = [
            Observation(p.config, p.best, p.status, tuple(p.values), prior=True)
            for p in plan.priors
        ]
        for p in plan.priors:
            self.histories[p.run_id] = RunHistory(p.run_id, list(p.values), p.status, prior=True)

    # -- public ---------------------------------------------------------------------------------

    def cancel(self, reason: str = "Canceled by the user.") -> None:
        """Ask the loop to cancel every run and end the sweep as Canceled."""
        self._cancel_reason = reason
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the sweep's final state is recorded; True if it is.

        (Waiting on an event, not ``Thread.join``: on Python 3.11 a join interrupted by Ctrl-C
        marks the still-running thread as stopped, and the interpreter would then exit under it.)
        """
        return self.done.wait(timeout)

    def run(self) -> RunStatus:
        """Run the sweep to its end and return its final status."""
        plan = self.plan
        with _ACTIVE_LOCK:
            _ACTIVE[plan.sweep_id] = self
        start = time.monotonic()
        final, error = RunStatus.COMPLETED, None
        try:
            now = time.time()
            self._write(
                Batch(
                    sweep={
                        "status": RunStatus.RUNNING.value,
                        "started": now,
                        "driver_pid": os.getpid(),
                        "heartbeat": now,
                    }
                )
            )
            events: list[Event] = []
            while (
                True
            ):  # one step: what the last poll brought, decisions, new runs; one batch written
                batch = Batch()
                self._ingest(events, batch)
                self._check_timeouts(batch)
                self._check_flags(batch)
                if self._cancel.is_set():
                    self._write(batch)
                    self._shutdown(self._cancel_reason)
                    final = RunStatus.CANCELED
                    break
                if time.monotonic() - start > plan.max_duration_seconds:
                    self._write(batch)
                    minutes = plan.max_duration_seconds / 60
                    self._shutdown(f"The sweep reached max_duration_minutes ({minutes:g}).")
                    final = RunStatus.CANCELED
                    break
                specs = self._launch(batch)
                self._write(batch)
                for spec in specs:  # after their rows are written: a trial may read its own run
                    self.executor.start(spec)
                finished = self._exhausted and not self._resumes
                if not self.executor.active() and (
                    finished or len(self.runs) >= plan.max_total_runs
                ):
                    self._shutdown(
                        "The sweep ended."
                    )  # nothing runs: this only releases the executor
                    break
                events = self.executor.poll(self.poll_interval)
        except KeyboardInterrupt:
            self._shutdown("Canceled by Ctrl-C.")
            final = RunStatus.CANCELED
            raise
        except DriverLostError as exc:
            self._lose(str(exc))
        except BaseException as exc:
            logger.exception("sweep %s failed", plan.sweep_id)
            error = f"{type(exc).__name__}: {exc}"
            self._shutdown(f"The sweep failed: {error}")
            final = RunStatus.FAILED
        finally:
            try:
                if self.lost is None:
                    self._finish(final, error)
            except DriverLostError as exc:
                self._lose(str(exc))
            finally:
                with _ACTIVE_LOCK:
                    _ACTIVE.pop(plan.sweep_id, None)
                if self._on_end is not None:
                    self._on_end()
                self.done.set()
        return final

    def _lose(self, message: str) -> None:
        """Another process drives the sweep now: stop this process's trials, write nothing, say so."""
        if self.lost is None:
            self.lost = message
            logger.warning("%s", message)
        self.executor.shutdown(message)  # its events are dropped: the new driver records the runs

    def restore(self, make_spec: Callable[[str, Path], TrialSpec]) -> list[str]:
        """Load the sweep's runs from the store, to continue a sweep whose driver died.

        Runs that were in flight are recovered: what they logged (their events files are the
        record) is stored, their processes are stopped if they still run, and they end as Failed
        ("interrupted"); they count toward ``max_total_runs`` and are not re-run (resume them
        from their checkpoints with ``resume_child_runs`` in a new sweep).

        Args:
            make_spec: builds a spec (run folder and id are what matters) for a recovered run.

        Returns:
            The ids of the interrupted runs.
        """
        store, plan = self.store, self.plan
        records = store.runs(plan.sweep_id)
        series = store.metric_series([r.id for r in records], plan.primary_metric)
        counts = store.metric_counts(plan.sweep_id)
        interrupted = []
        for record in records:
            state = _RunState.new(record.id, record.number, record.hyperparameters, record.status)
            state.steps = dict(counts.get(record.id, {}))
            self.runs[record.id] = state
            self.histories[record.id] = state.history
            for value in series.get(record.id, []):
                self._record(state, value)
            state.interrupted = record.status is RunStatus.FAILED and (
                record.error or ""
            ).startswith(INTERRUPTED)
            done = record.origin.get("resumed_from") if record.origin else None
            if done:
                self._resumes = [r for r in self._resumes if r.origin.get("resumed_from") != done]
            if record.status.is_terminal:
                continue
            interrupted.append(record.id)
            spec = make_spec(record.id, Path(record.run_dir))
            seen: dict[str, int] = {}
            fresh: list[Event] = []
            for ev in self.executor.recover(spec, record.pid):
                if isinstance(ev, Logged) and ev.kind not in ("tag", "untag", *RUN_FIELD_KINDS):
                    seen[ev.name] = seen.get(ev.name, 0) + len(_values(ev))
                    if seen[ev.name] <= state.steps.get(ev.name, 0):
                        continue
                fresh.append(ev)
            state.status = RunStatus.CANCEL_REQUESTED  # not running: no policy decisions on replay
            batch = Batch()
            self._ingest(fresh, batch)
            state.interrupted = True
            self._ingest([RunEnded(record.id, RunStatus.FAILED, INTERRUPTED, time.time())], batch)
            self._write(batch)
        return interrupted

    # -- the loop's steps ------------------------------------------------------------------------

    def _check_flags(self, batch: Batch) -> None:
        """Read the cancel requests of the sweep and its runs (twice a second), and beat the heart."""
        now = time.monotonic()
        if now - self._last_flag_check < 0.5:
            return
        self._last_flag_check = now
        sweep_canceled, wanted = self.store.cancel_requests(self.plan.sweep_id)
        if sweep_canceled and not self._cancel.is_set():
            self.cancel("Canceled by the user.")
        for run_id in wanted:
            state = self.runs.get(run_id)
            if state is not None and not state.status.is_terminal:
                self._request_stop(state, "Canceled by the user.", batch)
        if now - self._last_heartbeat > 2.0:
            self._last_heartbeat = now
            batch.sweep["heartbeat"] = time.time()

    def _write(self, batch: Batch) -> None:
        """Write one step's batch, in one transaction."""
        self.store.apply(batch, self.plan.sweep_id)

    def observations(self) -> list[Observation]:
        """The sampler's view of the sweep: every run so far."""
        own = [
            Observation(
                config=s.config,
                value=s.best,
                status=s.history.status,
                history=tuple(s.history.values),
            )
            for s in self.runs.values()
        ]
        return own + self._prior_observations

    def _launch(self, batch: Batch) -> list[TrialSpec]:
        """Ask for new runs as room allows; their rows go into ``batch``. Returns their specs, to start
        once the batch is written."""
        plan = self.plan
        n = plan.max_total_runs - len(self.runs)
        if n <= 0 or (self._exhausted and not self._resumes):
            return []
        room = self.executor.capacity()  # max_concurrent_runs, max_workers, free devices
        if room is not None and room < n:
            note = self.executor.capacity_note()  # "" unless devices are what it waits for
            if note and not self._said_waiting:
                self._said_waiting = True
                logger.warning("hypersweep: sweep %s waits for devices: %s", plan.sweep_id, note)
            n = room
        if n <= 0:
            return []
        wanted: list[tuple[dict[str, Any], ResumeRequest | None]] = []
        while self._resumes and len(wanted) < n:
            resume = self._resumes.pop(0)
            wanted.append((resume.config, resume))
        if len(wanted) < n and not self._exhausted:
            want = n - len(wanted)
            configs = plan.sampling.suggest(want, self.observations(), plan.goal)
            if len(configs) < want:
                self._exhausted = True
            wanted += [(c, None) for c in configs]
        specs, now = [], time.time()
        for config, request in wanted:
            number = len(self.runs)
            run_id = f"{plan.sweep_id}_{number}"
            run_dir = plan.runs_dir / run_id
            checkpoint = request.checkpoint if request else None
            spec, arguments = self.factory(run_id, number, config, run_dir, checkpoint)
            state = _RunState.new(run_id, number, dict(config))
            self.runs[run_id] = state
            self.histories[run_id] = state.history
            specs.append(spec)
            batch.runs.append(
                NewRun(
                    run_id,
                    plan.sweep_id,
                    number,
                    now,
                    config,
                    arguments,
                    str(run_dir),
                    request.origin if request else None,
                )
            )
        return specs

    def _ingest(self, events: list[Event], batch: Batch | None = None) -> None:
        """Apply a batch of events: in memory (policy decisions) and into ``batch`` (written at once,
        in one transaction, when no batch is given).

        No record can abort the batch: a logged record whose processing fails is skipped alone (and
        logged), and the store converts any value it is given into one SQLite can bind.
        """
        if not events:
            return
        own = batch is None
        batch = Batch() if batch is None else batch
        stops: list[tuple[str, str]] = []
        for ev in events:
            state = self.runs.get(ev.run_id)
            if state is None:
                continue
            if isinstance(ev, RunStarted):
                state.status = RunStatus.RUNNING
                state.started = time.monotonic()
                batch.update(
                    ev.run_id,
                    status=RunStatus.RUNNING.value,
                    started=ev.time or time.time(),
                    pid=ev.pid,
                )
            elif isinstance(ev, Logged):
                try:
                    self._ingest_logged(state, ev, batch, stops)
                except Exception:  # noqa: BLE001 - one bad record must not end the sweep
                    logger.exception(
                        "hypersweep: skipped a record of %s (%s %r)", ev.run_id, ev.kind, ev.name
                    )
            elif isinstance(ev, RunEnded):
                status, error = ev.status, ev.error
                if status is RunStatus.COMPLETED and state.failure is not None:
                    status, error = RunStatus.FAILED, state.failure  # the run called Run.fail()
                state.status = status
                batch.update(ev.run_id, status=status.value, ended=ev.time or time.time())
                if status is RunStatus.FAILED:
                    batch.update(ev.run_id, error=error)
                elif ev.status is RunStatus.CANCELED:
                    batch.update(ev.run_id, reason=ev.error)
        for run_id, reason in stops:
            if not self.runs[run_id].status.is_terminal:
                self.executor.stop(run_id, reason)
                batch.stop(run_id, reason)
        if own:
            self._write(batch)

    def _ingest_logged(
        self,
        state: _RunState,
        ev: Logged,
        batch: Batch,
        stops: list[tuple[str, str]],
    ) -> None:
        """One logged record into the batch: its rows, the primary metric's intervals, a stop decision."""
        if ev.kind in ("tag", "untag"):
            batch.tags.setdefault(ev.run_id, {})[ev.name] = (
                None if ev.kind == "untag" else str(ev.value)
            )
            return
        if ev.kind == "fail":  # Run.fail(): the run ends Failed with this error
            state.failure = str(ev.value)
            return
        if ev.kind in RUN_FIELD_KINDS:  # properties, display name: the run's, not metrics
            batch.run_fields.append((ev.run_id, ev.kind, ev.name, ev.value))
            return
        values = _values(ev)
        kind = "scalar" if ev.kind == "metric" else ev.kind
        for value in values:
            step = state.steps.get(ev.name, 0) + 1
            state.steps[ev.name] = step
            batch.metrics.append(MetricRecord(ev.run_id, ev.name, step, kind, value, ev.time))
            if ev.name == self.plan.primary_metric and kind in SERIES_KINDS:
                decision = self._report(state, coerce_number(value))
                if decision:
                    stops.append((ev.run_id, decision))
                    break
        if ev.name == self.plan.primary_metric:
            batch.update(ev.run_id, **self._summary(state))

    def _record(self, state: _RunState, value: float) -> None:
        state.history.values.append(value)
        if not math.isnan(value) and (
            math.isnan(state.best) or self.plan.goal.better(value, state.best)
        ):
            state.best = value

    def _report(self, state: _RunState, value: float) -> str | None:
        """Record one interval of the primary metric; return a stop reason if the policy says so."""
        history = state.history
        self._record(state, value)
        policy = self.plan.policy
        interval = len(history.values)
        if policy is None or self._policy_failed or state.status is not RunStatus.RUNNING:
            return None
        try:
            if not policy.should_evaluate(interval):
                return None
            decision = policy.evaluate(state.run_id, interval, self.histories, self.plan.goal)
        except Exception as exc:  # a user's policy with a bug: its runs go on, the sweep too
            self._policy_failed = True
            logger.warning(
                "hypersweep: sweep %s: the early-termination policy %s raised %s: %s; "
                "no run of this sweep is stopped early from now on",
                self.plan.sweep_id,
                type(policy).__name__,
                type(exc).__name__,
                exc,
            )
            return None
        # a Decision, or (as an Optuna pruner's answer) a plain bool: True stops the run
        if not getattr(decision, "stop", decision):
            return None
        state.status = RunStatus.CANCEL_REQUESTED
        return getattr(decision, "reason", "") or f"Stopped by {type(policy).__name__}."

    @staticmethod
    def _summary(state: _RunState) -> dict[str, Any]:
        values = state.history.values
        last = values[-1] if values else math.nan
        return {
            "best_value": None if math.isnan(state.best) else state.best,
            "last_value": None if math.isnan(last) else last,
            "intervals": len(values),
        }

    def _check_timeouts(self, batch: Batch) -> None:
        timeout = self.plan.trial_timeout
        if timeout is None:
            return
        now = time.monotonic()
        for state in self.runs.values():
            if (
                state.status is RunStatus.RUNNING
                and state.started is not None
                and now - state.started > timeout
            ):
                self._request_stop(state, f"The run exceeded trial_timeout ({timeout:g} s).", batch)

    def _request_stop(self, state: _RunState, reason: str, batch: Batch) -> None:
        """Stop a run now (not a policy's decision): its executor is told, the batch says why."""
        self.executor.stop(state.run_id, reason)
        state.status = RunStatus.CANCEL_REQUESTED
        batch.update(state.run_id, status=RunStatus.CANCEL_REQUESTED.value, reason=reason)

    def _final_status(self, final: RunStatus, error: str | None) -> tuple[RunStatus, str | None]:
        """A sweep that would complete but in which every run failed ends Failed, with the first failure.

        Runs interrupted by a driver that died failed through no fault of their own: a sweep whose runs
        all failed only that way ends as it would have (resume them from their checkpoints).
        """
        if final is not RunStatus.COMPLETED or not self.runs:
            return final, error
        if any(state.status is not RunStatus.FAILED for state in self.runs.values()):
            return final, error
        own = [state for state in self.runs.values() if not state.interrupted]
        if not own:
            return final, error
        first = min(own, key=lambda state: state.number)
        detail = (self.store.run(first.run_id).error or "").strip()
        return (
            RunStatus.FAILED,
            f"Every run failed ({len(self.runs)}); the first, {first.run_id}: {detail}",
        )

    def _shutdown(self, reason: str) -> None:
        events = self.executor.shutdown(reason)
        try:
            self._ingest(events)
        except DriverLostError as exc:
            self._lose(str(exc))

    def _finish(self, final: RunStatus, error: str | None) -> None:
        final, error = self._final_status(final, error)
        self.status = final
        now = time.time()
        batch = Batch()
        batch.cancels = [
            (state.run_id, "The sweep ended before the run did.")
            for state in self.runs.values()
            if not state.status.is_terminal
        ]
        batch.sweep.update(status=final.value, ended=now, error=error, heartbeat=now)
        self._write(batch)
