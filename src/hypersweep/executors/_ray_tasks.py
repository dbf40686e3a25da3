"""The worker side of the Ray executor: the tasks that run trials on cluster nodes, and the hub
actor that carries their logged values to the driver. See ``hypersweep.executors.ray``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import os
import shutil
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from hypersweep import mlflow as mlflow_plugin
from hypersweep._wire import Kind, Record, encode
from hypersweep.errors import HypersweepError
from hypersweep.executors._callable import (
    live_run,
    request_stop,
    restore_environ,
    run_callable,
    set_environ,
    stop_reason,
)
from hypersweep.executors._process import TrialProcess, tail
from hypersweep.run import ENV_EVENTS
from hypersweep.status import RunStatus

logger = logging.getLogger(__name__)

#: How long a task sleeps between looks at its script (seconds).
LOOP_SECONDS = 0.05
#: How often an idle task asks the hub whether it was stopped (seconds).
HEARTBEAT_SECONDS = 0.2
STARTED = "started"


class _Hub:
    """Collects what tasks send and holds the stop flags, per channel (one channel per executor).

    Async: a waiting ``take`` blocks nobody.
    """

    def __init__(self) -> None:
        self._items: dict[str, list[tuple[str, list[Any]]]] = {}
        self._stops: dict[tuple[str, str], str] = {}
        self._wakes: dict[str, asyncio.Event] = {}

    async def push(self, channel: str, run_id: str, items: list[Any]) -> str | None:
        """Add a task's new items; answer its stop reason (None while it may go on)."""
        if items:
            self._items.setdefault(channel, []).append((run_id, items))
            wake = self._wakes.get(channel)
            if wake is not None:
                wake.set()
        return self._stops.get((channel, run_id))

    async def stop(self, channel: str, run_id: str, reason: str) -> None:
        self._stops[(channel, run_id)] = reason

    async def forget(self, channel: str, run_ids: list[str]) -> None:
        for run_id in run_ids:
            self._stops.pop((channel, run_id), None)

    async def close(self, channel: str) -> None:
        self._items.pop(channel, None)
        for key in [k for k in self._stops if k[0] == channel]:
            del self._stops[key]

    async def take(self, channel: str, wait: float) -> list[tuple[str, list[Any]]]:
        """Everything pushed to ``channel`` since the last take, waiting up to ``wait`` s for something."""
        if not self._items.get(channel) and wait > 0:
            wake = self._wakes[channel] = asyncio.Event()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), wait)
            if self._wakes.get(channel) is wake:
                del self._wakes[channel]
        return self._items.pop(channel, [])


_HUB_LOCK = threading.Lock()
_HUB: tuple[str, Any] | None = None  # (Ray job id, actor handle) of this process's hub


def shared_hub(ray: Any) -> Any:
    """This process's hub, started on first use (about a second, once) and kept while Ray is connected."""
    global _HUB
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    with _HUB_LOCK:
        job = str(ray.get_runtime_context().get_job_id())
        if _HUB is not None and _HUB[0] == job:
            try:
                ray.get(_HUB[1].take.remote("", 0), timeout=10)
                return _HUB[1]
            except Exception:  # noqa: BLE001 - it died: start another
                _HUB = None
        here = ray.get_runtime_context().get_node_id()
        hub = (
            ray.remote(_Hub)
            .options(
                num_cpus=0,
                max_concurrency=1000,
                scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=True),
            )
            .remote()
        )
        try:  # wait for its process, so the first trials' metrics are not held up by its start
            ray.get(hub.take.remote("", 0), timeout=120)
        except Exception as exc:
            raise HypersweepError(
                f"Could not start hypersweep's hub actor on the Ray cluster: {exc}"
            ) from exc
        _HUB = (job, hub)
        return hub


class _HubLink:
    """A task's side of the hub: batches items, keeps one call in flight, learns the stop flag.

    Items the hub never acknowledged (it died) are kept and returned with the task's result.
    """

    def __init__(self, ray: Any, hub: Any, channel: str, run_id: str) -> None:
        self.ray, self.hub, self.channel, self.run_id = ray, hub, channel, run_id
        self.buffer: list[Any] = []
        self.sent: list[Any] = []
        self.acked = 0
        self.inflight: Any = None
        self.last_send = 0.0
        self.stop_reason: str | None = None
        self.broken = False
        self.lock = threading.Lock()

    def add(self, items: list[Any]) -> None:
        with self.lock:
            self.buffer.extend(items)

    def write(self, record: Record) -> None:
        """The sink of a callable trial's live run."""
        self.add([encode(record)])

    def _settle(self, timeout: float) -> None:
        if self.inflight is None:
            return
        ready, _ = self.ray.wait([self.inflight], timeout=timeout)
        if not ready:
            return
        try:
            reason = self.ray.get(self.inflight)
        except Exception:  # noqa: BLE001 - the hub is gone: keep the items for the result
            logger.warning(
                "hypersweep: run %s lost its hub; its records come back at its end", self.run_id
            )
            self.broken = True
            with self.lock:
                self.buffer[:0] = self.sent
        else:
            self.acked += len(self.sent)
            if reason is not None and self.stop_reason is None:
                self.stop_reason = reason
        self.sent, self.inflight = [], None

    def pump(self) -> str | None:
        """Send what is buffered (or a heartbeat) if no call is in flight; return the stop reason."""
        self._settle(0)
        if self.inflight is None and not self.broken:
            now = time.monotonic()
            with self.lock:
                due = bool(self.buffer) or now - self.last_send >= HEARTBEAT_SECONDS
                if due:
                    self.sent, self.buffer = self.buffer, []
            if due:
                self.inflight = self.hub.push.remote(self.channel, self.run_id, self.sent)
                self.last_send = now
        return self.stop_reason

    def warm_up(self, timeout: float = 10.0) -> None:
        """Send what is buffered; the first time in this process, wait for the answer.

        The first call to the hub connects to it: it is paid for while the trial starts, not by
        its first metrics.
        """
        self.pump()
        if self.channel not in _WARM:
            self._settle(timeout)
            _WARM.add(self.channel)

    def finish(self, timeout: float = 10.0) -> list[Any]:
        """Wait for the call in flight; return what is left, to travel with the task's result."""
        self._settle(timeout)
        with self.lock:  # a call still in flight after the timeout: its items may or may not arrive
            return [*self.sent, *self.buffer] if self.inflight is not None else list(self.buffer)


_WARM: set[str] = set()  # the channels this worker process has sent to


# -- what runs on the worker ----------------------------------------------------------------------


def work_root() -> Path:
    """Where a worker node keeps the folders of the trials it runs."""
    return Path(tempfile.gettempdir()) / "hypersweep-ray"


def _work_dir(payload: dict[str, Any]) -> Path:
    if payload["shared_dir"]:
        return Path(payload["shared_dir"])
    base = work_root()
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{payload['run_id']}-", dir=base))


def pack(folder: Path, names: tuple[str, ...] | None = None) -> bytes:
    """A tar of ``names`` inside ``folder`` (default: everything in it)."""
    if names is None:
        names = tuple(child.name for child in sorted(folder.iterdir()))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in names:
            if (folder / name).exists():
                tar.add(folder / name, arcname=name)
    return buf.getvalue()


def unpack(data: bytes, folder: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(folder, filter="data")
        else:  # Python < 3.10.12 / 3.11.4
            tar.extractall(folder)  # noqa: S202 - our own archive


def _gpu_record(ray: Any) -> list[bytes]:
    """The ``hypersweep.devices`` tag of a task Ray gave GPUs to (the ids Ray assigned), or nothing."""
    ids: list[Any] = []
    with contextlib.suppress(Exception):
        ids = list(ray.get_runtime_context().get_accelerator_ids().get("GPU", []))
    if not ids:
        with contextlib.suppress(Exception):
            ids = list(ray.get_gpu_ids())
    if not ids:
        return []
    value = ",".join(str(i) for i in ids)
    return [encode(Record(Kind.TAG, "hypersweep.devices", value, time.time()))]


@functools.lru_cache(maxsize=1)
def _node_ip(ray: Any) -> str:
    try:
        return str(ray.util.get_node_ip_address())
    except Exception:  # noqa: BLE001
        return "?"


def script_task(payload: dict[str, Any], snapshot: bytes | None, hub: Any) -> dict[str, Any]:
    """Run one script trial on this node; return its end and its files.

    A task interrupted by an exception (its driver died, or ``ray.cancel``) keeps its folder, for
    a resumed sweep to collect (see :meth:`RayExecutor.recover`).
    """
    import ray

    shared = bool(payload["shared_dir"])
    work = _work_dir(payload)
    result = _run_script(
        ray, payload, snapshot, _HubLink(ray, hub, payload["channel"], payload["run_id"]), work
    )
    if not shared:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _run_script(
    ray: Any, payload: dict[str, Any], snapshot: bytes | None, link: _HubLink, work: Path
) -> dict[str, Any]:
    shared = bool(payload["shared_dir"])
    if snapshot is not None and not shared:
        unpack(snapshot, work)
    for sub in ("outputs", "logs", *(f"outputs/{name}" for name in payload.get("output_dirs", ()))):
        (work / sub).mkdir(parents=True, exist_ok=True)
    events, stdout, stderr = (
        work / "logs" / "events.jsonl",
        work / "logs" / "stdout.txt",
        work / "logs" / "stderr.txt",
    )
    events.touch()
    argv = list(payload["argv"])
    if argv and argv[0] == payload["driver_python"]:
        argv[0] = (
            sys.executable
        )  # the driver's interpreter path means "the Python hypersweep runs in"
    try:
        proc = TrialProcess(
            work,
            argv,
            work,
            {**payload["env"], ENV_EVENTS: str(events)},
            stdout=stdout,
            stderr=stderr,
            events=events,
            grace_seconds=payload["grace_seconds"],
        )
    except OSError as exc:
        message = f"Could not start {payload['argv'][0]!r} on node {_node_ip(ray)}: {exc}"
        with open(stderr, "ab") as err:
            err.write((message + "\n").encode())
        return _script_result(link, work, shared, {"code": None, "error": message})
    try:
        link.add([(STARTED, proc.pid, time.time(), _node_ip(ray)), *_gpu_record(ray)])
        link.warm_up()
        code = _supervise(proc, link)
        link.add(proc.read())
    finally:
        proc.close()  # no orphans left behind, in its group or not (also when this task is interrupted)
    last_lines = tail(stderr) if code != 0 else ""
    return _script_result(
        link, work, shared, {"code": code, "error": None, "tail": last_lines, "node": _node_ip(ray)}
    )


def _supervise(proc: TrialProcess, link: _HubLink) -> int:
    """Forward the script's records until it exits; stop it when the hub says so."""
    while True:
        link.add(proc.read())
        code = proc.poll()
        if code is not None:
            return code
        try:
            reason = link.pump()
        except KeyboardInterrupt:  # ray.cancel of a task that had just started
            reason = "canceled"
        if reason is not None:
            proc.terminate()
        proc.wait(LOOP_SECONDS)


def _script_result(
    link: _HubLink, work: Path, shared: bool, result: dict[str, Any]
) -> dict[str, Any]:
    result["stop_reason"] = link.stop_reason
    result["unsent"] = link.finish()
    result["acked"] = link.acked
    result["files"] = None if shared else pack(work, ("outputs", "logs"))
    return result


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Any:
    """``values`` in this process's environment for the block, what was there before restored after."""
    saved = set_environ(values)
    try:
        yield
    finally:
        restore_environ(saved)


def callable_task(payload: dict[str, Any], function: bytes, hub: Any) -> dict[str, Any]:
    """Run one callable trial on this worker; return its end and its files."""
    import ray
    from ray import cloudpickle

    run_id = payload["run_id"]
    link = _HubLink(ray, hub, payload["channel"], run_id)
    shared = bool(payload["shared_dir"])
    work = _work_dir(payload)
    run = live_run(run_id, link)
    done = threading.Event()

    def pump() -> None:
        while not done.wait(LOOP_SECONDS):
            reason = link.pump()
            if reason is not None:
                request_stop(run, reason)

    def call() -> Any:
        return cloudpickle.loads(function)(dict(payload["config"]))

    # MLflow in the callable logs to this run, as in a thread trial. Off the driver's machine the
    # workspace is not here: MLflow's own record stays in the task's folder (the values still
    # reach the run); on a shared workspace it is the workspace's, as for every other trial.
    mlflow_env = dict(payload.get("mlflow_env") or {})
    if mlflow_env and not shared:
        mlflow_env[mlflow_plugin.ENV_TRACKING_URI] = mlflow_plugin.tracking_uri(work)
    experiment = mlflow_env.get(mlflow_plugin.ENV_EXPERIMENT_NAME, "Default")

    try:
        for sub in ("outputs", "logs"):
            (work / sub).mkdir(parents=True, exist_ok=True)
        link.add([(STARTED, None, time.time(), _node_ip(ray)), *_gpu_record(ray)])
        link.warm_up()
        pumper = threading.Thread(target=pump, name=f"hypersweep-{run_id}", daemon=True)
        pumper.start()
        cwd = os.getcwd()
        status = RunStatus.FAILED
        with (
            open(work / "logs" / "stdout.txt", "a") as out,
            open(work / "logs" / "stderr.txt", "a") as err,
            _environ(mlflow_env),  # a Ray worker runs one task at a time
        ):
            mlflow_plugin.register_thread_trial(run, work / "outputs", experiment)
            try:
                os.chdir(work)  # outputs/... written by the callable come back with the run
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    # ray.cancel, sent by stop() before the start was seen, interrupts the call
                    status, error = run_callable(
                        run,
                        call,
                        primary_metric=payload["primary_metric"],
                        stderr=err,
                        interrupts=(mlflow_plugin.TrialInterrupted,),
                        canceled_by={KeyboardInterrupt: "The Ray task was canceled."},
                    )
            finally:
                os.chdir(cwd)
                mlflow_plugin.unregister_thread_trial(run_id, mlflow_plugin.mlflow_status(status))
        done.set()
        pumper.join()
        link.pump()
        if link.stop_reason is not None:
            request_stop(run, link.stop_reason)
        reason = stop_reason(run)
        if reason is not None and status is RunStatus.COMPLETED:
            status, error = RunStatus.CANCELED, reason
        result = {
            "status": status.value,
            "error": error,
            "stop_reason": reason,
            "unsent": link.finish(),
            "acked": link.acked,
            "files": None if shared else pack(work, ("outputs", "logs")),
        }
    finally:
        done.set()
    if not shared:  # (an interrupted task keeps its folder, as a script's does)
        shutil.rmtree(work, ignore_errors=True)
    return result
