"""What the executors that run script trials share: starting and ending trial processes, run folders, the events file.

:class:`TrialProcess` supervises one trial's script wherever it runs (a local trial on the driver,
a Ray task on its worker): it starts it with its environment in a session of its own, reads what it
logs, stops it with SIGTERM and then SIGKILL after a grace period, ends every process it left when
it exits, and words its exit. How every process of a trial is found and ended (also after
``setsid`` or a double fork, and when the driver dies by ``kill -9``) is told in
:mod:`hypersweep.executors._reaper`.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from hypersweep.executors._reaper import process_reaper
from hypersweep.executors.base import Logged, TrialSpec, parse_records
from hypersweep.mlflow import install_hint

# Trials get SIGKILL when the thread that started them dies (a driver killed with -9, a closed
# notebook, a Ray worker that crashed), so a crash leaves no orphans; util-linux's setpriv sets
# that and execs the command.
SETPRIV = shutil.which("setpriv") if sys.platform.startswith("linux") else None


def with_parent_death_signal(argv: list[str]) -> list[str]:
    """``argv`` run so that it dies with the thread that starts it (unchanged without setpriv)."""
    return [SETPRIV, "--pdeathsig", "KILL", "--", *argv] if SETPRIV else list(argv)


def signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the process group led by ``pid``, if it still exists."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def is_trial(pid: int, run_id: str) -> bool:
    """True if process ``pid`` is alive and runs trial ``run_id`` (so a reused pid is never hit)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"HYPERSWEEP_RUN_ID={run_id}".encode() in environ.split(b"\0")


def trial_key(run_dir: os.PathLike[str] | str) -> str:
    """What marks a trial's processes: its run folder as an absolute path (unique on this machine)."""
    return os.path.abspath(run_dir)


def start_trial_process(
    run_dir: os.PathLike[str] | str,
    argv: list[str],
    cwd: os.PathLike[str] | str,
    env: dict[str, str],
    stdout: IO[bytes],
    stderr: IO[bytes],
) -> subprocess.Popen[bytes]:
    """Start a trial's script: in its own session, dying with this thread, every descendant marked as the run's.

    Raises:
        OSError: if it cannot be started.
    """
    return subprocess.Popen(
        with_parent_death_signal(argv),
        cwd=cwd,
        env={**env, **process_reaper().env(trial_key(run_dir))},
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )


def signal_trials(
    run_dirs: Iterable[os.PathLike[str] | str],
    sig: int,
    leaders: Iterable[int] = (),
    wait: bool = False,
) -> None:
    """Send ``sig`` to every process of these trials (by run folder): the groups of their ``leaders``, every marked descendant.

    The groups are signalled at once; the marked descendants by this process's watchdog, unless
    ``wait`` (then here, before returning). With SIGKILL, nothing of these trials is left
    afterwards (see :mod:`hypersweep.executors._reaper`).
    """
    for pid in leaders:
        signal_group(pid, sig)
    process_reaper().signal([trial_key(d) for d in run_dirs], sig, wait=wait)


def tail(path: os.PathLike[str] | str, max_lines: int = 20, max_bytes: int = 4000) -> str:
    """The last lines of a text file ("" if it cannot be read)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - max_bytes))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-max_lines:])


def exit_description(code: int) -> str:
    """``exited with code 3`` or ``killed by signal SIGKILL``."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        return f"killed by signal {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


def exit_message(code: int, last_lines: str, where: str = "") -> str:
    """A failed script's error: how it ended (``where``: e.g. `` (Ray node 10.0.0.2)``), its stderr's tail, a hint."""
    message = f"The training script {exit_description(code)}{where}." + (
        f"\n{last_lines}" if last_lines else ""
    )
    return message + install_hint(last_lines)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def materialize(spec: TrialSpec) -> None:
    """Make the run folder: a copy of the source snapshot (hard links where possible), ``outputs/``, ``logs/``."""
    if spec.source_dir is not None:
        shutil.copytree(
            spec.source_dir,
            spec.run_dir,
            copy_function=_link_or_copy,
            symlinks=True,
            dirs_exist_ok=True,
        )
    (spec.run_dir / "outputs").mkdir(parents=True, exist_ok=True)
    for name in spec.output_dirs:
        (spec.run_dir / "outputs" / name).mkdir(parents=True, exist_ok=True)
    spec.stdout_path.parent.mkdir(parents=True, exist_ok=True)
    spec.events_path.touch()


def recorded_events(spec: TrialSpec) -> list[Logged]:
    """Everything the trial's events file holds (nothing if it cannot be read)."""
    try:
        data = spec.events_path.read_bytes()
    except OSError:
        return []
    return parse_records(spec.run_id, data.split(b"\n"))


class EventLines:
    """Reads the complete lines a trial has appended to its events file since the last call."""

    def __init__(self, path: os.PathLike[str] | str) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.pending = b""

    def read(self) -> list[bytes]:
        chunks = []
        while chunk := os.read(self.fd, 1 << 20):
            chunks.append(chunk)
        if not chunks:
            return []
        lines = (self.pending + b"".join(chunks)).split(b"\n")
        self.pending = lines.pop()  # a line still being written
        return [line for line in lines if line.strip()]

    def close(self) -> None:
        os.close(self.fd)


class TrialProcess:
    """One trial's script, from its start to the end of every process it started.

    Started at once (in its own session, dying with the thread that starts it, every descendant
    marked as the trial's), with stdout and stderr appended to ``stdout`` and ``stderr`` and the
    environment ``os.environ`` updated with ``PYTHONUNBUFFERED=1`` and ``env``. :meth:`terminate`
    sends SIGTERM to all of it; :meth:`poll` sends SIGKILL once ``grace_seconds`` have passed since.
    :meth:`close` kills whatever is left and frees the files; call it once the script has exited.

    Args:
        key_dir: the folder that marks the trial's processes (its run folder; see :func:`trial_key`).
        argv: the command; its program must exist on ``PATH`` or in ``cwd``.
        cwd: where it runs.
        env: the trial's variables, over this process's environment.
        stdout, stderr, events: the paths of its output files and of the events file it appends to.
        grace_seconds: time between SIGTERM and SIGKILL.

    Raises:
        OSError: when the script cannot be started (a missing program among them).
    """

    def __init__(
        self,
        key_dir: os.PathLike[str] | str,
        argv: list[str],
        cwd: os.PathLike[str] | str,
        env: Mapping[str, str],
        *,
        stdout: os.PathLike[str] | str,
        stderr: os.PathLike[str] | str,
        events: os.PathLike[str] | str,
        grace_seconds: float,
    ) -> None:
        self.key_dir, self.stderr_path, self.grace_seconds = key_dir, stderr, grace_seconds
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        program = argv[0] if argv else ""
        if (
            shutil.which(program, path=full_env.get("PATH")) is None
            and shutil.which(os.path.join(cwd, program)) is None
        ):
            raise FileNotFoundError(f"no executable {program!r}")
        self.files: list[IO[bytes]] = [open(stdout, "ab"), open(stderr, "ab")]
        try:
            self.popen = start_trial_process(
                key_dir, argv, cwd, full_env, self.files[0], self.files[1]
            )
        except OSError:
            for f in self.files:
                f.close()
            raise
        self.pid = self.popen.pid
        self.events = EventLines(events)
        self.kill_at: float | None = None
        self.stopping = False
        self.pidfd: int | None = None
        with contextlib.suppress(
            AttributeError, OSError
        ):  # no pidfd (old kernel or not Linux): plain polling
            self.pidfd = os.pidfd_open(self.pid)

    def read(self) -> list[bytes]:
        """The complete lines the script appended to its events file since the last call."""
        return self.events.read()

    def terminate(self) -> None:
        """Send SIGTERM to every process of the trial (once); SIGKILL follows after the grace period."""
        if self.stopping:
            return
        self.stopping = True
        self.kill_at = time.monotonic() + self.grace_seconds
        signal_trials([self.key_dir], signal.SIGTERM, [self.pid])

    def poll(self) -> int | None:
        """The script's exit code, or None while it runs (sending SIGKILL when its grace period is over)."""
        if self.kill_at is not None and time.monotonic() >= self.kill_at:
            signal_trials([self.key_dir], signal.SIGKILL, [self.pid])
            self.kill_at = None
        return self.popen.poll()

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds, less if the script exits before."""
        if self.pidfd is not None:
            select.select([self.pidfd], [], [], timeout)
        else:
            time.sleep(timeout)

    def failure(self, code: int, where: str = "") -> str:
        """The error of a script that exited with ``code`` (see :func:`exit_message`)."""
        return exit_message(code, tail(self.stderr_path), where)

    def close(self) -> None:
        """Kill every process the trial left (in its group or not) and close its files; safe to repeat."""
        signal_trials([self.key_dir], signal.SIGKILL, [self.pid])
        self.release()

    def release(self) -> None:
        """Close the files, without signalling (for :func:`signal_trials` done for many trials at once)."""
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        if self.files:
            self.events.close()
            for f in self.files:
                f.close()
            self.files = []
