"""Callable trials in a thread pool of this process.

The callable receives the sampled values as a dict and logs with ``Run.get_context()`` as a script
would, or with MLflow: while trials run, this process's ``MLFLOW_TRACKING_URI`` is the sweep's (unless
the program set one of its own), and each MLflow run a trial's thread starts is that trial's run.
A stopped callable is interrupted at its next ``log`` call (``TrialStopped``), or at its next MLflow
call that logs (``TrialInterrupted``, which ``except Exception`` blocks, autolog's among them, let
through). Whatever it prints goes to its run's ``logs/stdout.txt`` and ``logs/stderr.txt``.

GPUs: a callable asking for ``num_gpus`` starts only when that share of the devices is free, as a
script does, and its run is tagged ``hypersweep.devices`` (``Run.get_context().get_tags()`` has it
inside the callable). But every thread shares this process and sees every device it sees: a
framework reads ``CUDA_VISIBLE_DEVICES`` once per process, so the assignment is advice the callable
follows (``torch.device("cuda", ...)``), not isolation. Scripts and Ray tasks are isolated.
"""

from __future__ import annotations

import contextvars
import os
import queue
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, ClassVar

from hypersweep import mlflow as mlflow_plugin
from hypersweep._wire import Record
from hypersweep.errors import TrialStopped
from hypersweep.executors._devices import (
    DEVICES_TAG,
    DevicePool,
    describe_request,
    discover,
    pool_for,
)
from hypersweep.executors.base import Event, Executor, Logged, RunEnded, RunStarted, TrialSpec
from hypersweep.run import (
    ENV_EXPERIMENT,
    ENV_WORKSPACE,
    LiveRun,
    reset_current_run,
    set_current_run,
)
from hypersweep.status import RunStatus

_STREAMS: contextvars.ContextVar[tuple[IO[str], IO[str]] | None] = contextvars.ContextVar(
    "hypersweep_streams", default=None
)


class _Routed:
    """A stand-in for sys.stdout/sys.stderr that sends a trial thread's output to its run's file.

    Everything else is the real stream's: ``encoding``, ``isatty``, and what front ends add (Jupyter's
    kernel calls ``sys.stdout.set_parent`` at each cell, so that output lands in that cell).
    """

    def __init__(self, original: IO[str], index: int) -> None:
        self.original, self.index = original, index

    def _target(self) -> IO[str]:
        streams = _STREAMS.get()
        return streams[self.index] if streams is not None else self.original

    def write(self, text: str) -> int:
        return self._target().write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


class _QueueSink:
    def __init__(self, run_id: str, events: queue.SimpleQueue[Event]) -> None:
        self.run_id, self.events = run_id, events

    def write(self, record: Record) -> None:
        self.events.put(Logged(self.run_id, record.kind.value, record.name, record.value, record.time, record.step))


class ThreadExecutor(Executor):
    """Runs callable trials in threads.

    Args:
        max_workers: the number of trials that may run at once.
        resources: what each trial asks for (``num_gpus``: see the module's docstring).
    """

    compute_targets: ClassVar[tuple[str, ...]] = ("local",)
    runs_scripts: ClassVar[bool] = False
    runs_callables: ClassVar[bool] = True

    def __init__(self, max_workers: int, resources: dict | None = None) -> None:
        self._threads = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="hypersweep-trial")
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._runs: dict[str, LiveRun] = {}
        self._lock = threading.Lock()
        self._saved: tuple[Any, Any] | None = None
        self._saved_env: dict[str, str | None] | None = None
        self._request = float((resources or {}).get("num_gpus", 0) or 0)
        self._pool: DevicePool | None = None
        self._waiting: list[TrialSpec] = []  # trials whose devices are not free yet, in order

    def _devices(self) -> DevicePool:
        if self._pool is None:
            self._pool = pool_for(discover())
        return self._pool

    def capacity(self) -> int | None:
        if self._request <= 0:
            return None
        return max(0, self._devices().fits(self._request) - len(self._waiting))

    def capacity_note(self) -> str:
        if self._request <= 0:
            return ""
        pool = self._devices()
        return (f"each trial asks for {describe_request(self._request)}, and the {len(pool.devices.ids)} GPU(s) "
                f"found from {pool.devices.source} hold {pool.at_most(self._request)} such trials at once")

    def _start_waiting(self) -> None:
        while self._waiting:
            spec = self._waiting[0]
            ids = self._devices().acquire(spec.run_id, float(spec.resources.get("num_gpus", 0)))
            if ids is None:
                return
            self._waiting.pop(0)
            self._submit(spec, ids)

    def _route_output(self) -> None:
        if self._saved is None:
            self._saved = (sys.stdout, sys.stderr)
            sys.stdout = _Routed(sys.stdout, 0)  # type: ignore[assignment]
            sys.stderr = _Routed(sys.stderr, 1)  # type: ignore[assignment]

    def _restore_output(self) -> None:
        if self._saved is not None:
            if isinstance(sys.stdout, _Routed):
                sys.stdout = self._saved[0]
            if isinstance(sys.stderr, _Routed):
                sys.stderr = self._saved[1]
            self._saved = None

    def _apply_env(self, env: dict[str, str]) -> None:
        """Set the process-wide part of the trials' environment (MLflow's tracking URI) until shutdown."""
        if self._saved_env is None:
            self._saved_env = {key: os.environ.get(key) for key in env}
            os.environ.update(env)

    def _restore_env(self) -> None:
        if self._saved_env is not None:
            for key, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_env = None

    def start(self, spec: TrialSpec) -> None:
        assert spec.function is not None, "a callable trial needs a function"
        gpus = float(spec.resources.get("num_gpus", 0) or 0)
        ids = None
        if gpus > 0:
            ids = None if self._waiting else self._devices().acquire(spec.run_id, gpus)
            if ids is None:
                with self._lock:
                    self._waiting.append(spec)
                return
        self._submit(spec, ids)

    def _submit(self, spec: TrialSpec, devices: list[str] | None) -> None:
        assert spec.function is not None, "a callable trial needs a function"
        (spec.run_dir / "outputs").mkdir(parents=True, exist_ok=True)
        spec.stdout_path.parent.mkdir(parents=True, exist_ok=True)
        run = LiveRun(spec.run_id, _QueueSink(spec.run_id, self._events), run_dir=spec.run_dir,
                       workspace=spec.env.get(ENV_WORKSPACE), experiment=spec.env.get(ENV_EXPERIMENT))
        with self._lock:
            self._runs[spec.run_id] = run
        self._route_output()
        self._apply_env({k: v for k, v in spec.env.items() if k == mlflow_plugin.ENV_TRACKING_URI})
        if devices is not None:
            run.tag(DEVICES_TAG, ",".join(devices))
        self._threads.submit(self._execute, spec, run)

    def _execute(self, spec: TrialSpec, run: LiveRun) -> None:
        self._events.put(RunStarted(spec.run_id, None, time.time()))
        status, error = RunStatus.FAILED, "The trial's thread ended without a result."
        try:
            status, error = self._call(spec, run)
        except BaseException as exc:  # noqa: BLE001 - whatever happens, the run ends and the sweep goes on
            status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        finally:
            if run._stop_reason is not None and status is RunStatus.COMPLETED:
                status, error = RunStatus.CANCELED, run._stop_reason
            self._events.put(RunEnded(spec.run_id, status, error, time.time()))

    def _call(self, spec: TrialSpec, run: LiveRun) -> tuple[RunStatus, str | None]:
        """Run the callable with its output routed to the run's files (text that is not UTF-8 escaped)."""
        status, error = RunStatus.COMPLETED, None
        with open(spec.stdout_path, "a", errors="backslashreplace") as out, \
                open(spec.stderr_path, "a", errors="backslashreplace") as err:
            token = set_current_run(run)
            streams = _STREAMS.set((out, err))
            experiment = spec.env.get(mlflow_plugin.ENV_EXPERIMENT_NAME, "Default")
            mlflow_plugin.register_thread_trial(run, spec.run_dir / "outputs", experiment)
            try:
                if run._stop_reason is not None:
                    raise TrialStopped(run._stop_reason)
                result = spec.function(dict(spec.config))  # type: ignore[misc]
                self._log_result(run, spec, result)
            except (TrialStopped, mlflow_plugin.TrialInterrupted) as exc:
                status, error = RunStatus.CANCELED, str(exc)
            except BaseException as exc:  # noqa: BLE001 - a trial's failure must not stop the sweep
                err.write(traceback.format_exc())
                status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
                error += mlflow_plugin.install_hint(error)
            finally:
                mlflow_status = {RunStatus.COMPLETED: "FINISHED", RunStatus.FAILED: "FAILED"}.get(status, "KILLED")
                mlflow_plugin.unregister_thread_trial(spec.run_id, mlflow_status)
                _STREAMS.reset(streams)
                reset_current_run(token)
        return status, error

    @staticmethod
    def _log_result(run: LiveRun, spec: TrialSpec, result: Any) -> None:
        """A returned number is the primary metric (unless the trial logged it); a dict, several metrics."""
        if isinstance(result, dict):
            for name, value in result.items():
                if isinstance(value, (int, float)):
                    run.log(str(name), value)
        elif isinstance(result, (int, float)) and not isinstance(result, bool):
            if spec.primary_metric and spec.primary_metric not in run._metrics:
                try:
                    value = float(result)
                except OverflowError:  # an int beyond the float range: log refuses it, with a warning
                    value = result
                run.log(spec.primary_metric, value)

    def poll(self, timeout: float) -> list[Event]:
        events: list[Event] = []
        self._start_waiting()
        try:
            events.append(self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait())
        except queue.Empty:
            return events
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                break
        with self._lock:
            for ev in events:
                if isinstance(ev, RunEnded):
                    self._runs.pop(ev.run_id, None)
                    if self._pool is not None:
                        self._pool.release(ev.run_id)
        return events

    def stop(self, run_id: str, reason: str) -> None:
        with self._lock:
            waiting = [spec for spec in self._waiting if spec.run_id == run_id]
            for spec in waiting:  # never started: it ends at once
                self._waiting.remove(spec)
                self._events.put(RunEnded(run_id, RunStatus.CANCELED, reason, time.time()))
            run = self._runs.get(run_id)
        if run is not None and run._stop_reason is None:
            run._stop_reason = reason

    def active(self) -> int:
        with self._lock:
            return len(self._runs) + len(self._waiting)

    def running_ids(self) -> list[str]:
        with self._lock:
            return list(self._runs) + [spec.run_id for spec in self._waiting]

    def abandon(self) -> None:
        with self._lock:
            if self._pool is not None:
                for run_id in self._runs:
                    self._pool.release(run_id)
            self._runs.clear()
            self._waiting.clear()

    def shutdown(self, reason: str = "sweep ended", wait_seconds: float = 30.0) -> list[Event]:
        events = super().shutdown(reason, wait_seconds)
        self._threads.shutdown(wait=False)
        self._restore_output()
        self._restore_env()
        return events
