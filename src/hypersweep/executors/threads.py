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
import queue
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, ClassVar

from hypersweep import mlflow as mlflow_plugin
from hypersweep._wire import Record
from hypersweep.executors._callable import (
    LiveRun,
    live_run,
    request_stop,
    restore_environ,
    run_callable,
    set_environ,
)
from hypersweep.executors._devices import DEVICES_TAG
from hypersweep.executors.base import (
    Event,
    Executor,
    LaunchError,
    Logged,
    RunEnded,
    RunStarted,
    TrialSpec,
)
from hypersweep.run import ENV_EXPERIMENT, ENV_WORKSPACE
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
        self.events.put(
            Logged(
                self.run_id, record.kind.value, record.name, record.value, record.time, record.step
            )
        )


class ThreadExecutor(Executor):
    """Runs callable trials in threads of this process (reused from trial to trial).

    The base class starts no more than ``max_workers`` trials at once, so a trial never waits for
    a thread: the pool only saves starting one for each trial.

    Args:
        max_workers: the number of trials that may run at once (the others wait, Queued).
        resources: what each trial asks for (``num_gpus``: see the module's docstring).
    """

    compute_targets: ClassVar[tuple[str, ...]] = ("local",)
    runs_scripts: ClassVar[bool] = False
    runs_callables: ClassVar[bool] = True

    def __init__(self, max_workers: int, resources: dict | None = None) -> None:
        super().__init__(max_workers, resources)
        self._threads = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="hypersweep-trial"
        )
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._saved: tuple[Any, Any] | None = None
        self._saved_env: dict[str, str | None] | None = None

    def _route_output(self) -> None:
        if self._saved is None:
            self._saved = (sys.stdout, sys.stderr)
            sys.stdout = _Routed(sys.stdout, 0)
            sys.stderr = _Routed(sys.stderr, 1)

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
            self._saved_env = set_environ(env)

    def _restore_env(self) -> None:
        if self._saved_env is not None:
            restore_environ(self._saved_env)
            self._saved_env = None

    # -- the hooks -------------------------------------------------------------------------------

    def launch(self, spec: TrialSpec, devices: list[str] | None) -> LiveRun:
        if spec.function is None:
            raise LaunchError("A callable trial needs a function.")
        (spec.run_dir / "outputs").mkdir(parents=True, exist_ok=True)
        spec.stdout_path.parent.mkdir(parents=True, exist_ok=True)
        run = live_run(
            spec.run_id,
            _QueueSink(spec.run_id, self._events),
            run_dir=spec.run_dir,
            workspace=spec.env.get(ENV_WORKSPACE),
            experiment=spec.env.get(ENV_EXPERIMENT),
        )
        self._route_output()
        self._apply_env({k: v for k, v in spec.env.items() if k == mlflow_plugin.ENV_TRACKING_URI})
        if devices is not None:
            run.tag(DEVICES_TAG, ",".join(devices))
        self._threads.submit(self._execute, spec, run)
        return run

    def signal_stop(self, run_id: str, handle: Any, reason: str) -> None:
        request_stop(handle, reason)

    def collect(self, timeout: float) -> list[Event]:
        events: list[Event] = []
        try:
            events.append(
                self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait()
            )
        except queue.Empty:
            return events
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                return events

    # -- a trial's thread ------------------------------------------------------------------------

    def _execute(self, spec: TrialSpec, run: LiveRun) -> None:
        self._events.put(RunStarted(spec.run_id, None, time.time()))
        status: RunStatus = RunStatus.FAILED
        error: str | None = "The trial's thread ended without a result."
        try:
            status, error = self._call(spec, run)
        except BaseException as exc:  # noqa: BLE001 - whatever happens, the run ends and the sweep goes on
            status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        finally:
            self._events.put(RunEnded(spec.run_id, status, error, time.time()))

    def _call(self, spec: TrialSpec, run: LiveRun) -> tuple[RunStatus, str | None]:
        """Run the callable with its output routed to the run's files (text that is not UTF-8 escaped)."""
        function, config = spec.function, dict(spec.config)
        assert function is not None
        with (
            open(spec.stdout_path, "a", errors="backslashreplace") as out,
            open(spec.stderr_path, "a", errors="backslashreplace") as err,
        ):
            streams = _STREAMS.set((out, err))
            experiment = spec.env.get(mlflow_plugin.ENV_EXPERIMENT_NAME, "Default")
            mlflow_plugin.register_thread_trial(run, spec.run_dir / "outputs", experiment)
            status = RunStatus.FAILED
            try:
                status, error = run_callable(
                    run,
                    lambda: function(config),
                    primary_metric=spec.primary_metric,
                    stderr=err,
                    interrupts=(mlflow_plugin.TrialInterrupted,),
                )
            finally:
                mlflow_plugin.unregister_thread_trial(
                    spec.run_id, mlflow_plugin.mlflow_status(status)
                )
                _STREAMS.reset(streams)
        return status, error

    def shutdown(self, reason: str = "sweep ended", wait_seconds: float = 30.0) -> list[Event]:
        events = super().shutdown(reason, wait_seconds)
        self._threads.shutdown(wait=False)
        self._restore_output()
        self._restore_env()
        return events
