"""Script trials as local subprocesses.

Each trial runs in its own session, every process it starts marked as its own (so all of them end
with the run, see :mod:`hypersweep.executors._reaper`), with stdout and stderr going straight to
files in its run folder, and its logged values read back from the events
file it appends to. The executor wakes as soon as a process exits (a pidfd per process), so short
trials pay no polling delay.
"""

from __future__ import annotations

import select
import signal
import time
from typing import Any, ClassVar

from hypersweep.executors._devices import DEVICES_TAG
from hypersweep.executors._process import (
    TrialProcess,
    is_trial,
    materialize,
    recorded_events,
    signal_trials,
    trial_key,
)
from hypersweep.executors._reaper import alive_trials
from hypersweep.executors.base import (
    Event,
    Executor,
    LaunchError,
    Logged,
    RunEnded,
    RunStarted,
    TrialSpec,
    parse_records,
)
from hypersweep.status import RunStatus

DEFAULT_GRACE_SECONDS = 10.0


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
        max_workers: how many trials may run at once (None: as many as the controller starts).
    """

    compute_targets: ClassVar[tuple[str, ...]] = ("local",)
    runs_scripts: ClassVar[bool] = True
    runs_callables: ClassVar[bool] = False

    def __init__(
        self,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        resources: dict | None = None,
        *,
        max_workers: int | None = None,
    ) -> None:
        super().__init__(max_workers, resources)
        self.grace_seconds = grace_seconds
        self._poller = select.poll()
        self._by_fd: dict[int, str] = {}

    # -- the hooks -------------------------------------------------------------------------------

    def launch(self, spec: TrialSpec, devices: list[str] | None) -> TrialProcess:
        if spec.argv is None:
            raise LaunchError("A script trial needs a command (argv).")
        materialize(spec)
        env = dict(spec.env)
        if devices is not None:
            env.update(self._devices().devices.variables(devices))
        try:
            proc = TrialProcess(
                spec.run_dir,
                spec.argv,
                spec.run_dir,
                env,
                stdout=spec.stdout_path,
                stderr=spec.stderr_path,
                events=spec.events_path,
                grace_seconds=self.grace_seconds,
            )
        except OSError as exc:
            message = f"Could not start {spec.argv[0]!r}: {exc}"
            spec.stderr_path.write_text(message + "\n")
            raise LaunchError(message) from exc
        if proc.pidfd is not None:
            self._poller.register(proc.pidfd, select.POLLIN)
            self._by_fd[proc.pidfd] = spec.run_id
        self.emit(RunStarted(spec.run_id, proc.pid, time.time()))
        if devices is not None:
            self.emit(Logged(spec.run_id, "tag", DEVICES_TAG, ",".join(devices), time.time()))
        return proc

    def signal_stop(self, run_id: str, handle: Any, reason: str) -> None:
        handle.terminate()

    def collect(self, timeout: float) -> list[Event]:
        procs: dict[str, TrialProcess] = self.handles()
        deadlines = [p.kill_at for p in procs.values() if p.kill_at is not None]
        wait = (
            timeout if not deadlines else max(0.0, min(timeout, min(deadlines) - time.monotonic()))
        )
        if wait > 0 and self._by_fd:
            self._poller.poll(wait * 1000)
        elif wait > 0:
            time.sleep(min(wait, 0.02))
        events: list[Event] = []
        ended: list[tuple[str, TrialProcess, int]] = []
        for run_id, proc in procs.items():
            events.extend(parse_records(run_id, proc.read()))
            code = proc.poll()
            if code is not None:
                events.extend(parse_records(run_id, proc.read()))
                ended.append((run_id, proc, code))
        if (
            ended
        ):  # nothing a finished run started outlives it: its group, and every marked descendant
            signal_trials(
                [p.key_dir for _, p, _ in ended], signal.SIGKILL, [p.pid for _, p, _ in ended]
            )
            now = time.time()
            for run_id, proc, code in ended:
                if proc.pidfd is not None:
                    self._poller.unregister(proc.pidfd)
                    del self._by_fd[proc.pidfd]
                proc.release()
                if proc.stopping:
                    events.append(RunEnded(run_id, RunStatus.CANCELED, None, now))
                elif code == 0:
                    events.append(RunEnded(run_id, RunStatus.COMPLETED, None, now))
                else:
                    events.append(RunEnded(run_id, RunStatus.FAILED, proc.failure(code), now))
        return events

    def leftovers(self, specs: list[TrialSpec]) -> set[str]:
        alive = alive_trials(trial_key(spec.run_dir) for spec in specs)
        return {spec.run_id for spec in specs if trial_key(spec.run_dir) in alive}

    # -- the rest --------------------------------------------------------------------------------

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
        return {run_id: proc.pid for run_id, proc in self.handles().items()}
