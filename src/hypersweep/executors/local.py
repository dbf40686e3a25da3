"""Script trials as local subprocesses.

Each trial runs in its own session, every process it starts marked as its own (so all of them end
with the run, see :mod:`hypersweep.executors._reaper`), with stdout and stderr going straight to
files in its run folder, and its logged values read back from the events
file it appends to. The executor wakes as soon as a process exits (a pidfd per process), so short
trials pay no polling delay.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import IO, ClassVar

from hypersweep.executors._devices import (
    DEVICES_TAG,
    DevicePool,
    describe_request,
    discover,
    pool_for,
)
from hypersweep.executors._process import (
    EventLines,
    exit_description,
    is_trial,
    materialize,
    recorded_events,
    signal_trials,
    start_trial_process,
    tail,
    trial_key,
)
from hypersweep.executors._reaper import alive_trials
from hypersweep.executors.base import (
    Event,
    Executor,
    Logged,
    RunEnded,
    RunStarted,
    TrialSpec,
    parse_records,
)
from hypersweep.mlflow import install_hint
from hypersweep.status import RunStatus

DEFAULT_GRACE_SECONDS = 10.0


@dataclass
class _Proc:
    spec: TrialSpec
    popen: subprocess.Popen[bytes] | None
    events: EventLines | None
    files: list[IO[bytes]]
    pidfd: int | None
    stop_reason: str | None = None
    kill_at: float | None = None
    killed: bool = False
    extra: list[Event] = field(default_factory=list)


def _num_gpus(resources: dict | None) -> float:
    return float((resources or {}).get("num_gpus", 0) or 0)


class LocalProcessExecutor(Executor):
    """Runs script trials as subprocesses of this machine.

    A trial that asks for GPUs (``resources={"num_gpus": n}``) starts only when its devices are free
    (see :mod:`hypersweep.executors._devices`); until then it waits here, Queued. It sees only its
    devices (``CUDA_VISIBLE_DEVICES``, and ``HIP_VISIBLE_DEVICES`` for ROCm devices), and the run is
    tagged ``hypersweep.devices`` with them. Its devices are freed once every process of the trial
    has ended, not when its main process exits (what it left behind is killed, and that is waited for).

    Args:
        grace_seconds: time between SIGTERM and SIGKILL when a trial is stopped.
        resources: what each trial of the sweep asks for (for :meth:`capacity`).
    """

    compute_targets: ClassVar[tuple[str, ...]] = ("local",)
    runs_scripts: ClassVar[bool] = True
    runs_callables: ClassVar[bool] = False

    def __init__(self, grace_seconds: float = DEFAULT_GRACE_SECONDS, resources: dict | None = None) -> None:
        self.grace_seconds = grace_seconds
        self._procs: dict[str, _Proc] = {}
        self._poller = select.poll()
        self._by_fd: dict[int, str] = {}
        self._request = _num_gpus(resources)
        self._pool: DevicePool | None = None
        self._waiting: list[TrialSpec] = []  # trials whose devices are not free yet, in order
        self._draining: dict[str, str] = {}  # run id -> trial key: ended, devices held until its processes are gone
        self._extra: list[Event] = []

    # -- devices ------------------------------------------------------------------------------

    def _devices(self) -> DevicePool:
        if self._pool is None:
            self._pool = pool_for(discover())
        return self._pool

    def _drain(self) -> None:
        """Free the devices of ended trials none of whose processes is alive any more."""
        if not self._draining:
            return
        alive = alive_trials(self._draining.values())
        for run_id, key in list(self._draining.items()):
            if key not in alive:
                del self._draining[run_id]
                self._devices().release(run_id)

    def _start_waiting(self) -> None:
        while self._waiting:
            spec = self._waiting[0]
            ids = self._devices().acquire(spec.run_id, _num_gpus(spec.resources))
            if ids is None:
                return
            self._waiting.pop(0)
            self._launch(spec, ids)

    def capacity(self) -> int | None:
        if self._request <= 0:
            return None
        self._drain()
        return max(0, self._devices().fits(self._request) - len(self._waiting))

    def capacity_note(self) -> str:
        if self._request <= 0:
            return ""
        pool = self._devices()
        found = f"{len(pool.devices.ids)} GPU{'s' if len(pool.devices.ids) != 1 else ''} found from {pool.devices.source}"
        return (f"each trial asks for {describe_request(self._request)}, and the {found} hold "
                f"{pool.at_most(self._request)} such trials at once; the others start as devices are freed")

    # -- trials -------------------------------------------------------------------------------

    def start(self, spec: TrialSpec) -> None:
        assert spec.argv is not None, "a script trial needs argv"
        gpus = _num_gpus(spec.resources)
        if gpus <= 0:
            self._launch(spec, None)
            return
        self._drain()
        ids = None if self._waiting else self._devices().acquire(spec.run_id, gpus)
        if ids is None:
            self._waiting.append(spec)
            return
        self._launch(spec, ids)

    def _launch(self, spec: TrialSpec, devices: list[str] | None) -> None:
        assert spec.argv is not None, "a script trial needs argv"
        materialize(spec)
        out = open(spec.stdout_path, "ab")
        err = open(spec.stderr_path, "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
        if devices is not None:
            env.update(self._devices().devices.variables(devices))
        try:
            program = spec.argv[0]
            if shutil.which(program, path=env.get("PATH")) is None and shutil.which(os.path.join(spec.run_dir, program)) is None:
                raise FileNotFoundError(f"no executable {program!r}")
            popen = start_trial_process(spec.run_dir, spec.argv, spec.run_dir, env, out, err)
        except OSError as exc:
            out.close()
            err.close()
            err_text = f"Could not start {spec.argv[0]!r}: {exc}"
            spec.stderr_path.write_text(err_text + "\n")
            proc = _Proc(spec, None, None, [], None)
            proc.extra = [RunEnded(spec.run_id, RunStatus.FAILED, err_text, time.time())]
            self._procs[spec.run_id] = proc
            if devices is not None:
                self._devices().release(spec.run_id)
            return
        pidfd = None
        try:
            pidfd = os.pidfd_open(popen.pid)
            self._poller.register(pidfd, select.POLLIN)
            self._by_fd[pidfd] = spec.run_id
        except (AttributeError, OSError):  # no pidfd (old kernel or not Linux): plain polling
            pidfd = None
        proc = _Proc(spec, popen, EventLines(spec.events_path), [out, err], pidfd)
        proc.extra.append(RunStarted(spec.run_id, popen.pid, time.time()))
        if devices is not None:
            proc.extra.append(Logged(spec.run_id, "tag", DEVICES_TAG, ",".join(devices), time.time()))
        self._procs[spec.run_id] = proc

    @staticmethod
    def _read_events(proc: _Proc) -> list[Event]:
        assert proc.events is not None
        return list(parse_records(proc.spec.run_id, proc.events.read()))

    def poll(self, timeout: float) -> list[Event]:
        events: list[Event] = self._extra
        self._extra = []
        self._drain()
        self._start_waiting()
        for proc in self._procs.values():
            if proc.extra:
                events.extend(proc.extra)
                proc.extra = []
        now = time.monotonic()
        deadlines = [p.kill_at for p in self._procs.values() if p.kill_at is not None and not p.killed]
        wait = 0.0 if events else timeout
        if self._draining:  # no pidfd says when a leftover process is gone: look again soon
            wait = min(wait, 0.02)
        if deadlines:
            wait = max(0.0, min(wait, min(deadlines) - now))
        if wait > 0 and self._by_fd:
            self._poller.poll(wait * 1000)
        elif wait > 0:
            time.sleep(min(wait, 0.02))
        now = time.monotonic()
        ended: list[tuple[_Proc, int]] = []
        for run_id, proc in list(self._procs.items()):
            if proc.popen is None or proc.events is None:  # failed to start
                del self._procs[run_id]
                continue
            events.extend(self._read_events(proc))
            if proc.kill_at is not None and not proc.killed and now >= proc.kill_at:
                signal_trials([proc.spec.run_dir], signal.SIGKILL, [proc.popen.pid])
                proc.killed = True
            code = proc.popen.poll()
            if code is None:
                continue
            events.extend(self._read_events(proc))
            ended.append((proc, code))
            del self._procs[run_id]
        if ended:  # nothing a finished run started outlives it: its group, and every marked descendant
            signal_trials([p.spec.run_dir for p, _ in ended], signal.SIGKILL, [p.popen.pid for p, _ in ended if p.popen])
            for proc, _ in ended:  # its devices stay held until all of those are gone
                if proc.spec.run_id in self._devices_held():
                    self._draining[proc.spec.run_id] = trial_key(proc.spec.run_dir)
            events.extend(self._finish(proc, code) for proc, code in ended)
            self._drain()
        return events

    def _devices_held(self) -> dict[str, list[tuple[int, int]]]:
        return self._pool.holders if self._pool is not None else {}

    def _finish(self, proc: _Proc, code: int) -> RunEnded:
        if proc.pidfd is not None:
            self._poller.unregister(proc.pidfd)
            del self._by_fd[proc.pidfd]
            os.close(proc.pidfd)
        assert proc.events is not None
        proc.events.close()
        for f in proc.files:
            f.close()
        spec = proc.spec
        if proc.stop_reason is not None:
            return RunEnded(spec.run_id, RunStatus.CANCELED, proc.stop_reason, time.time())
        if code == 0:
            return RunEnded(spec.run_id, RunStatus.COMPLETED, None, time.time())
        last_lines = tail(spec.stderr_path)
        message = f"The training script {exit_description(code)}." + (f"\n{last_lines}" if last_lines else "")
        message += install_hint(last_lines)
        return RunEnded(spec.run_id, RunStatus.FAILED, message, time.time())

    def stop(self, run_id: str, reason: str) -> None:
        for spec in self._waiting:
            if spec.run_id == run_id:  # never started: it ends at once
                self._waiting.remove(spec)
                self._extra.append(RunEnded(run_id, RunStatus.CANCELED, reason, time.time()))
                return
        proc = self._procs.get(run_id)
        if proc is None or proc.stop_reason is not None or proc.popen is None:
            return
        proc.stop_reason = reason
        proc.kill_at = time.monotonic() + self.grace_seconds
        signal_trials([proc.spec.run_dir], signal.SIGTERM, [proc.popen.pid])

    def active(self) -> int:
        """Trials running, waiting for devices, or ended with processes still being ended (holding devices)."""
        return len(self._procs) + len(self._waiting) + len(self._draining) + len(self._extra)

    def running_ids(self) -> list[str]:
        return list(self._procs) + [spec.run_id for spec in self._waiting]

    def abandon(self) -> None:
        """Forget trials still waiting for devices, and give back what ended trials hold."""
        self._waiting.clear()
        if self._pool is not None:
            for run_id in list(self._draining):
                self._pool.release(run_id)
        self._draining.clear()

    def recover(self, spec: TrialSpec, pid: int | None) -> list[Event]:
        """Everything a trial left by a dead driver logged, after making sure it no longer runs.

        Every process it started is killed, found by the marker in its environment even when its
        group leader is gone (a reused pid is never hit); its process group too, if the leader
        still runs (a trial started by an older hypersweep carries only its run id).
        """
        leaders = [pid] if pid is not None and is_trial(pid, spec.run_id) else []
        signal_trials([spec.run_dir], signal.SIGKILL, leaders, wait=True)
        return list(recorded_events(spec))

    def pids(self) -> dict[str, int]:
        """Process ids of the running trials."""
        return {rid: p.popen.pid for rid, p in self._procs.items() if p.popen is not None}
