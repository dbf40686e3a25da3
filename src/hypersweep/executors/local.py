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
from typing import IO

from hypersweep.executors._process import (
    EventLines,
    exit_description,
    is_trial,
    materialize,
    recorded_events,
    signal_trials,
    start_trial_process,
    tail,
)
from hypersweep.executors.base import (
    Event,
    Executor,
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


class LocalProcessExecutor(Executor):
    """Runs script trials as subprocesses of this machine.

    Args:
        grace_seconds: time between SIGTERM and SIGKILL when a trial is stopped.
    """

    def __init__(self, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> None:
        self.grace_seconds = grace_seconds
        self._procs: dict[str, _Proc] = {}
        self._poller = select.poll()
        self._by_fd: dict[int, str] = {}

    def start(self, spec: TrialSpec) -> None:
        assert spec.argv is not None, "a script trial needs argv"
        materialize(spec)
        out = open(spec.stdout_path, "ab")
        err = open(spec.stderr_path, "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
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
        self._procs[spec.run_id] = proc

    @staticmethod
    def _read_events(proc: _Proc) -> list[Event]:
        assert proc.events is not None
        return list(parse_records(proc.spec.run_id, proc.events.read()))

    def poll(self, timeout: float) -> list[Event]:
        events: list[Event] = []
        for proc in self._procs.values():
            if proc.extra:
                events.extend(proc.extra)
                proc.extra = []
        now = time.monotonic()
        deadlines = [p.kill_at for p in self._procs.values() if p.kill_at is not None and not p.killed]
        wait = 0.0 if events else timeout
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
            events.extend(self._finish(proc, code) for proc, code in ended)
        return events

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
        proc = self._procs.get(run_id)
        if proc is None or proc.stop_reason is not None or proc.popen is None:
            return
        proc.stop_reason = reason
        proc.kill_at = time.monotonic() + self.grace_seconds
        signal_trials([proc.spec.run_dir], signal.SIGTERM, [proc.popen.pid])

    def active(self) -> int:
        return len(self._procs)

    def running_ids(self) -> list[str]:
        return list(self._procs)

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
