"""Script trials as local subprocesses.

Each trial runs in its own session (so its whole process tree can be signalled), with stdout and
stderr going straight to files in its run folder, and its logged values read back from the events
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
from pathlib import Path
from typing import IO

from hypersweep.executors.base import Event, Executor, RunEnded, RunStarted, TrialSpec, parse_record
from hypersweep.status import RunStatus

DEFAULT_GRACE_SECONDS = 10.0
# Trials get SIGKILL when the thread that started them dies (a driver killed with -9, a closed
# notebook), so a crash leaves no orphans; util-linux's setpriv sets that and execs the command.
_SETPRIV = shutil.which("setpriv")


@dataclass
class _Proc:
    spec: TrialSpec
    popen: subprocess.Popen[bytes]
    events_fd: int
    files: list[IO[bytes]]
    pidfd: int | None
    pending: bytes = b""
    stop_reason: str | None = None
    kill_at: float | None = None
    killed: bool = False
    extra: list[Event] = field(default_factory=list)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def materialize(spec: TrialSpec) -> None:
    """Make the run folder: a copy of the source snapshot (hard links where possible), ``outputs/``, ``logs/``."""
    if spec.source_dir is not None:
        shutil.copytree(spec.source_dir, spec.run_dir, copy_function=_link_or_copy, symlinks=True, dirs_exist_ok=True)
    (spec.run_dir / "outputs").mkdir(parents=True, exist_ok=True)
    spec.stdout_path.parent.mkdir(parents=True, exist_ok=True)
    spec.events_path.touch()


def _is_trial(pid: int, run_id: str) -> bool:
    """True if process ``pid`` is alive and runs trial ``run_id``."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"HYPERSWEEP_RUN_ID={run_id}".encode() in environ.split(b"\0")


def _tail(path: os.PathLike[str] | str, max_lines: int = 20, max_bytes: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-max_lines:])


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
        events_fd = os.open(spec.events_path, os.O_RDONLY)
        out = open(spec.stdout_path, "ab")
        err = open(spec.stderr_path, "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
        try:
            program = spec.argv[0]
            if shutil.which(program, path=env.get("PATH")) is None and shutil.which(os.path.join(spec.run_dir, program)) is None:
                raise FileNotFoundError(f"no executable {program!r}")
            argv = [_SETPRIV, "--pdeathsig", "KILL", "--", *spec.argv] if _SETPRIV else spec.argv
            popen = subprocess.Popen(
                argv,
                cwd=spec.run_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except OSError as exc:
            os.close(events_fd)
            out.close()
            err.close()
            err_text = f"Could not start {spec.argv[0]!r}: {exc}"
            spec.stderr_path.write_text(err_text + "\n")
            proc = _Proc(spec, None, -1, [], None)  # type: ignore[arg-type]
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
        proc = _Proc(spec, popen, events_fd, [out, err], pidfd)
        proc.extra.append(RunStarted(spec.run_id, popen.pid, time.time()))
        self._procs[spec.run_id] = proc

    def _read_events(self, proc: _Proc) -> list[Event]:
        chunks = []
        while True:
            chunk = os.read(proc.events_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        if not chunks:
            return []
        data = proc.pending + b"".join(chunks)
        lines = data.split(b"\n")
        proc.pending = lines.pop()
        events: list[Event] = []
        for line in lines:
            rec = parse_record(proc.spec.run_id, line)
            if rec is not None:
                events.append(rec)
        return events

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
        for run_id, proc in list(self._procs.items()):
            if proc.popen is None:  # failed to start
                del self._procs[run_id]
                continue
            events.extend(self._read_events(proc))
            if proc.kill_at is not None and not proc.killed and now >= proc.kill_at:
                _signal_group(proc.popen.pid, signal.SIGKILL)
                proc.killed = True
            code = proc.popen.poll()
            if code is None:
                continue
            events.extend(self._read_events(proc))
            _signal_group(proc.popen.pid, signal.SIGKILL)  # no orphans left behind in its group
            events.append(self._finish(proc, code))
            del self._procs[run_id]
        return events

    def _finish(self, proc: _Proc, code: int) -> RunEnded:
        if proc.pidfd is not None:
            self._poller.unregister(proc.pidfd)
            del self._by_fd[proc.pidfd]
            os.close(proc.pidfd)
        os.close(proc.events_fd)
        for f in proc.files:
            f.close()
        spec = proc.spec
        if proc.stop_reason is not None:
            return RunEnded(spec.run_id, RunStatus.CANCELED, proc.stop_reason, time.time())
        if code == 0:
            return RunEnded(spec.run_id, RunStatus.COMPLETED, None, time.time())
        if code < 0:
            try:
                what = f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                what = f"killed by signal {-code}"
        else:
            what = f"exited with code {code}"
        tail = _tail(spec.stderr_path)
        message = f"The training script {what}." + (f"\n{tail}" if tail else "")
        return RunEnded(spec.run_id, RunStatus.FAILED, message, time.time())

    def stop(self, run_id: str, reason: str) -> None:
        proc = self._procs.get(run_id)
        if proc is None or proc.stop_reason is not None or proc.popen is None:
            return
        proc.stop_reason = reason
        proc.kill_at = time.monotonic() + self.grace_seconds
        _signal_group(proc.popen.pid, signal.SIGTERM)

    def active(self) -> int:
        return len(self._procs)

    def running_ids(self) -> list[str]:
        return list(self._procs)

    def recover(self, spec: TrialSpec, pid: int | None) -> list[Event]:
        """Everything a trial left by a dead driver logged, after making sure it no longer runs.

        Its process group is killed if it still exists (checked against the run id in the process's
        environment, so a reused pid is never hit).
        """
        if pid is not None and _is_trial(pid, spec.run_id):
            _signal_group(pid, signal.SIGKILL)
        events: list[Event] = []
        try:
            data = spec.events_path.read_bytes()
        except OSError:
            return events
        for line in data.split(b"\n"):
            rec = parse_record(spec.run_id, line)
            if rec is not None:
                events.append(rec)
        return events

    def pids(self) -> dict[str, int]:
        """Process ids of the running trials."""
        return {rid: p.popen.pid for rid, p in self._procs.items() if p.popen is not None}
