"""Trials as Ray tasks on a cluster (``compute_target="ray"`` or ``"ray://HOST:PORT"``).

Each trial is one Ray task, scheduled with the run configuration's resource request. How the parts
move:

- **Source**: the sweep's snapshot is packed once (a tar in the object store, ``ray.put``); each
  script task unpacks it into a run folder on its worker node and starts the script there, in its
  own session, as the local executor does, with ``HYPERSWEEP_EVENTS`` naming a worker-local file.
- **Metrics**: the task tails that file and sends new lines to a small hub actor every loop
  (~50 ms; one call in flight at a time, so they arrive in order); the executor long-polls the hub,
  so a logged value reaches the controller in well under a second. One hub serves every executor
  of the driving process (a channel each); it starts with the first one (about a second).
- **Stop**: ``stop`` sets a flag in the hub; the task learns it from the answer to its next call and
  sends SIGTERM to the script's process group, then SIGKILL after the grace period. A callable
  trial gets ``TrialStopped`` at its next ``log``. A task still waiting for resources is canceled.
- **Files**: when the script ends, the task returns a tar of ``outputs/`` and ``logs/`` (stdout,
  stderr, events) which the executor unpacks into the run's folder on the driver. With
  ``shared_workspace=True`` (the workspace is on a file system every node mounts at the same path)
  the script runs in the run's folder itself and nothing is copied.
- **Faults**: tasks are never retried; a task whose worker or node dies, or that cannot run, ends
  its run as Failed with Ray's reason and the sweep goes on. The script is started under
  ``setpriv --pdeathsig KILL`` (when present) so it dies with its worker.
- **Driver crash**: Ray ends the tasks of a driver that died (their scripts die with them); an
  interrupted task keeps its worker-local folder, which :meth:`RayExecutor.recover` collects when
  the sweep is resumed on the same machine. On another node, a run keeps what the store had.

This module imports Ray only when an executor is made; without Ray it raises
:class:`~hypersweep.errors.HypersweepError` with the command that installs it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import tarfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from hypersweep import mlflow as mlflow_plugin
from hypersweep.errors import HypersweepError
from hypersweep.executors._process import (
    exit_message,
    is_trial,
    materialize,
    recorded_events,
    signal_trials,
)
from hypersweep.executors._ray_tasks import (
    STARTED,
    callable_task,
    pack,
    script_task,
    shared_hub,
    unpack,
    work_root,
)
from hypersweep.executors.base import (
    Event,
    Executor,
    LaunchError,
    RunEnded,
    RunStarted,
    TrialSpec,
    parse_record,
)
from hypersweep.status import RunStatus

logger = logging.getLogger(__name__)


INSTALL_COMMAND = "pip install 'hypersweep[ray]'"
DEFAULT_GRACE_SECONDS = 10.0
#: How long the executor waits for a finished run's last records before ending it anyway (seconds).
STRAGGLER_SECONDS = 5.0
#: Environment variable: "1" when the workspace is on a file system shared by every node.
ENV_SHARED_WORKSPACE = "HYPERSWEEP_RAY_SHARED_WORKSPACE"


def import_ray() -> Any:
    """Import Ray, or raise a :class:`HypersweepError` that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise HypersweepError(missing_ray_message()) from exc
    return ray


def missing_ray_message() -> str:
    return (
        "compute_target 'ray' needs Ray, which is not installed in this Python environment. "
        f"Install it with: {INSTALL_COMMAND}"
    )


# -- the driver's side ----------------------------------------------------------------------------


@dataclass
class _RayRun:
    spec: TrialSpec
    ref: Any = None
    started: bool = False
    stopping: bool = False
    received: int = 0
    outcome: Any = None  # the task's result dict, or the exception ray.get raised
    finished_at: float | None = None


class RayExecutor(Executor):
    """Runs script and callable trials as Ray tasks.

    Which cluster: ``address`` (``"ray://HOST:PORT"`` for Ray Client, or ``"HOST:PORT"`` of a
    cluster's head); with None, ``$RAY_ADDRESS``; without it, a cluster started with ``ray start`` on
    this machine; and only when none is running, a new local Ray instance that lives as long as this
    process. A Ray already initialized in this process (``ray.init`` called by the user) is used as is.
    Every node needs hypersweep installed (``pip install 'hypersweep[ray]'``) and the Python
    packages the trials import.

    Args:
        address: the cluster, see above.
        max_workers: the sweep's ``max_concurrent_runs``: at most that many tasks are submitted at
            once (the others wait here, Queued); Ray queues tasks that do not fit the cluster's
            free resources.
        grace_seconds: time between SIGTERM and SIGKILL when a script trial is stopped.
        shared_workspace: True when the workspace folder is on a file system that every node
            mounts at the same path: trials then run in their run folders and no file is copied.
            Defaults to ``$HYPERSWEEP_RAY_SHARED_WORKSPACE == "1"``.

    Raises:
        HypersweepError: when Ray is not installed (with the command that installs it).

    Example:
        >>> ex = RayExecutor("ray://head:10001", max_workers=8)   # doctest: +SKIP
    """

    lends_devices = False  # Ray schedules num_gpus on its nodes' devices itself

    compute_targets: ClassVar[tuple[str, ...]] = ("ray", "ray://HOST:PORT")
    runs_scripts: ClassVar[bool] = True
    runs_callables: ClassVar[bool] = True

    def __init__(
        self,
        address: str | None = None,
        max_workers: int = 1,
        *,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        shared_workspace: bool | None = None,
    ) -> None:
        super().__init__(max_workers)
        self._ray = import_ray()
        self.grace_seconds = grace_seconds
        if shared_workspace is None:
            shared_workspace = os.environ.get(ENV_SHARED_WORKSPACE) == "1"
        self.shared_workspace = shared_workspace
        self.address = _connect(self._ray, address)
        ray = self._ray
        self._hub = shared_hub(ray)
        self._channel = uuid.uuid4().hex
        self._script = ray.remote(script_task)
        self._callable = ray.remote(callable_task)
        self._take: Any = None
        self._hub_alive = True
        self._snapshots: dict[Path, Any] = {}

    # -- start ----------------------------------------------------------------------------------

    def _options(self, spec: TrialSpec) -> dict[str, Any]:
        res = spec.resources or {}
        options: dict[str, Any] = {
            "num_cpus": res.get("num_cpus", 1),
            "num_gpus": res.get("num_gpus", 0),
            "max_retries": 0,
            "name": f"hypersweep:{spec.run_id}",
        }
        if res.get("resources"):
            options["resources"] = dict(res["resources"])
        return options

    def _snapshot(self, source_dir: Path) -> Any:
        ref = self._snapshots.get(source_dir)
        if ref is None:
            ref = self._ray.put(pack(source_dir))
            self._snapshots[source_dir] = ref
        return ref

    def launch(self, spec: TrialSpec, devices: list[str] | None) -> _RayRun:
        run = _RayRun(spec)
        payload: dict[str, Any] = {
            "run_id": spec.run_id,
            "grace_seconds": self.grace_seconds,
            "shared_dir": str(spec.run_dir) if self.shared_workspace else None,
            "primary_metric": spec.primary_metric,
            "channel": self._channel,
        }
        try:
            if spec.function is not None:
                spec.stdout_path.parent.mkdir(parents=True, exist_ok=True)
                (spec.run_dir / "outputs").mkdir(parents=True, exist_ok=True)
                payload["config"] = dict(spec.config)
                payload["mlflow_env"] = {
                    key: value
                    for key, value in spec.env.items()
                    if key in (mlflow_plugin.ENV_TRACKING_URI, mlflow_plugin.ENV_EXPERIMENT_NAME)
                }
                function = _dumps_function(spec.function)
                run.ref = self._callable.options(**self._options(spec)).remote(
                    payload, function, self._hub
                )
                return run
            if spec.argv is None:
                raise ValueError("a script trial needs a command (argv)")
            if self.shared_workspace:
                materialize(spec)
                snapshot = None
            else:
                (spec.run_dir / "outputs").mkdir(parents=True, exist_ok=True)
                spec.stdout_path.parent.mkdir(parents=True, exist_ok=True)
                snapshot = self._snapshot(spec.source_dir) if spec.source_dir is not None else None
            payload.update(
                argv=list(spec.argv),
                env=dict(spec.env),
                driver_python=sys.executable,
                output_dirs=list(spec.output_dirs),
            )
            run.ref = self._script.options(**self._options(spec)).remote(
                payload, snapshot, self._hub
            )
        except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable callable: this run fails, not the sweep
            raise LaunchError(
                f"Could not submit the trial to Ray: {type(exc).__name__}: {exc}"
            ) from exc
        return run

    # -- collect --------------------------------------------------------------------------------

    def collect(self, timeout: float) -> list[Event]:
        ray = self._ray
        runs: dict[str, _RayRun] = self.handles()
        events: list[Event] = []
        waiting = [r.ref for r in runs.values() if r.finished_at is None]
        if self._hub_alive and self._take is None:
            self._take = self._hub.take.remote(self._channel, 0.5)
        watch = waiting + ([self._take] if self._take is not None else [])
        if watch:
            ray.wait(watch, num_returns=1, timeout=timeout)
        elif timeout > 0:
            time.sleep(min(timeout, 0.02))
        if waiting:
            done, _ = ray.wait(waiting, num_returns=len(waiting), timeout=0)
            by_ref = {r.ref: r for r in runs.values()}
            for ref in done:
                self._result(by_ref[ref])
        if self._take is not None and ray.wait([self._take], timeout=0)[0]:
            try:
                batches = ray.get(self._take)
            except Exception as exc:  # noqa: BLE001 - the hub died: records now come with results
                logger.warning(
                    "hypersweep: the Ray hub actor died (%s); metrics arrive at run ends", exc
                )
                batches, self._hub_alive = [], False
            self._take = None
            for run_id, items in batches:
                run = runs.get(run_id)
                if run is not None:
                    run.received += len(items)
                    events.extend(self._decode(run, items))
        now = time.monotonic()
        for run in runs.values():
            if run.finished_at is None:
                continue
            outcome = run.outcome
            expected = outcome.get("acked", 0) if isinstance(outcome, dict) else 0
            if (
                run.received < expected
                and self._hub_alive
                and now - run.finished_at < STRAGGLER_SECONDS
            ):
                continue  # its last records are still on their way
            events.extend(self._finish(run))
        return events

    def _result(self, run: _RayRun) -> None:
        try:
            run.outcome = self._ray.get(run.ref)
        except Exception as exc:  # noqa: BLE001 - every Ray failure ends the run, never the sweep
            run.outcome = exc
        run.finished_at = time.monotonic()

    def _decode(self, run: _RayRun, items: list[Any]) -> list[Event]:
        events: list[Event] = []
        for item in items:
            if isinstance(item, (bytes, str)):
                rec = parse_record(run.spec.run_id, item)
                if rec is not None:
                    events.append(rec)
            elif isinstance(item, (tuple, list)) and item and item[0] == STARTED:
                if not run.started:
                    run.started = True
                    events.append(RunStarted(run.spec.run_id, item[1], item[2]))
        return events

    def _finish(self, run: _RayRun) -> list[Event]:
        spec, outcome = run.spec, run.outcome
        events: list[Event] = []
        if isinstance(outcome, dict):
            events.extend(self._decode(run, list(outcome.get("unsent") or [])))
            if not run.started:
                run.started = True
                events.insert(0, RunStarted(spec.run_id, None, time.time()))
            if outcome.get("files"):
                try:
                    unpack(outcome["files"], spec.run_dir)
                except (OSError, tarfile.TarError) as exc:
                    logger.warning(
                        "hypersweep: could not unpack the files of %s: %s", spec.run_id, exc
                    )
            events.append(self._ended(run, outcome))
        else:
            events.append(self._failed(run, outcome))
        if self._hub_alive:
            self._hub.forget.remote(self._channel, [spec.run_id])
        return events

    def _ended(self, run: _RayRun, outcome: dict[str, Any]) -> RunEnded:
        run_id, now = run.spec.run_id, time.time()
        if "status" in outcome:  # a callable
            return RunEnded(run_id, RunStatus(outcome["status"]), outcome["error"], now)
        if run.stopping:  # its stop reason is the executor's
            return RunEnded(run_id, RunStatus.CANCELED, None, now)
        code = outcome.get("code")
        if code == 0:
            return RunEnded(run_id, RunStatus.COMPLETED, None, now)
        if code is None:
            return RunEnded(
                run_id, RunStatus.FAILED, outcome.get("error") or "The trial did not start.", now
            )
        message = exit_message(
            code, outcome.get("tail") or "", f" (Ray node {outcome.get('node', '?')})"
        )
        return RunEnded(run_id, RunStatus.FAILED, message, now)

    def _failed(self, run: _RayRun, exc: BaseException) -> RunEnded:
        ray = self._ray
        run_id, now = run.spec.run_id, time.time()
        if isinstance(exc, ray.exceptions.TaskCancelledError):
            return RunEnded(run_id, RunStatus.CANCELED, "The Ray task was canceled.", now)
        if isinstance(exc, ray.exceptions.RayTaskError):
            cause = getattr(exc, "cause", None) or exc
            text = f"{type(cause).__name__}: {cause}"
            message = f"The Ray task running the trial raised {_shorten(text)}"
        else:
            message = f"The Ray task running the trial was lost: {type(exc).__name__}: {_shorten(str(exc))}"
        return RunEnded(run_id, RunStatus.FAILED, message, now)

    # -- stop and the rest ----------------------------------------------------------------------

    def signal_stop(self, run_id: str, handle: Any, reason: str) -> None:
        run: _RayRun = handle
        if run.finished_at is not None:
            return
        run.stopping = True
        if self._hub_alive:
            self._hub.stop.remote(self._channel, run_id, reason)
        if not run.started:  # probably still waiting for resources: take it off the queue
            with contextlib.suppress(Exception):
                self._ray.cancel(run.ref, force=False)

    def recover(self, spec: TrialSpec, pid: int | None) -> list[Event]:
        """What a trial of a driver that died had logged, as far as this machine can see it.

        Ray ends a dead driver's tasks, and their scripts die with their workers. What a trial had
        written is readable when its folder is: always with ``shared_workspace``; otherwise only
        when its worker node was this machine (its worker-local folder is then copied into the run
        folder). A trial that ran on another node keeps only what the store already had.
        """
        leaders = (
            [pid] if pid is not None and is_trial(pid, spec.run_id) else []
        )  # same machine, still running
        signal_trials(
            [spec.run_dir, *work_root().glob(f"{spec.run_id}-*")],
            signal.SIGKILL,
            leaders,
            wait=True,
        )
        if not self.shared_workspace:
            for folder in sorted(work_root().glob(f"{spec.run_id}-*")):
                for sub in ("outputs", "logs"):
                    if (folder / sub).is_dir():
                        shutil.copytree(folder / sub, spec.run_dir / sub, dirs_exist_ok=True)
                shutil.rmtree(folder, ignore_errors=True)
        return list(recorded_events(spec))

    def abandon(self) -> None:
        for run in self.handles().values():
            if run.finished_at is None:
                with contextlib.suppress(Exception):
                    self._ray.cancel(run.ref, force=True)
        super().abandon()

    def shutdown(self, reason: str = "sweep ended", wait_seconds: float = 30.0) -> list[Event]:
        events = super().shutdown(reason, wait_seconds)
        if self._hub_alive:
            with contextlib.suppress(Exception):
                self._hub.close.remote(self._channel)
        self._hub_alive, self._take = False, None
        return events


def _connect(ray: Any, address: str | None) -> str:
    """Connect this process to Ray (see :class:`RayExecutor`) and return a description of where."""
    if ray.is_initialized():
        return address or "the Ray instance already initialized in this process"
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address is None:
        address = os.environ.get("RAY_ADDRESS") or None
    if address is not None:
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, TimeoutError) as exc:
            raise HypersweepError(
                f"Could not connect to the Ray cluster at {address}: {exc}. Check that the cluster runs and "
                "that its address (and, for ray://, the head's Ray Client port) is reachable from here, or "
                "run the sweep locally (compute_target='local')."
            ) from exc
        return address
    try:
        ray.init(address="auto", **options)
        return "auto"
    except ConnectionError:
        logger.info("hypersweep: no Ray cluster is running here; starting a local Ray instance")
        ray.init(**options)
        return "local"


def _dumps_function(function: Any) -> bytes:
    """Pickle a callable by value when its module may not be importable on the workers."""
    from ray import cloudpickle

    module = sys.modules.get(getattr(function, "__module__", "") or "")
    by_value = (
        module is not None
        and module.__name__ != "__main__"
        and not module.__name__.startswith("hypersweep")
        and "site-packages" not in (getattr(module, "__file__", None) or "site-packages")
    )
    if by_value:
        cloudpickle.register_pickle_by_value(module)
    try:
        return bytes(cloudpickle.dumps(function))
    finally:
        if by_value:
            cloudpickle.unregister_pickle_by_value(module)


def _shorten(text: str, limit: int = 2000) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit // 2] + "\n...\n" + text[-limit // 2 :]
