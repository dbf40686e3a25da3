"""What the executors that run script trials share: starting and ending trial processes, run folders, the events file.

How every process of a trial is found and ended (also after ``setsid`` or a double fork, and when
the driver dies by ``kill -9``) is told in :mod:`hypersweep.executors._reaper`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from hypersweep.executors._reaper import process_reaper
from hypersweep.executors.base import Logged, TrialSpec, parse_records

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
    run_dir: os.PathLike[str] | str, argv: list[str], cwd: os.PathLike[str] | str, env: dict[str, str], stdout: IO[bytes], stderr: IO[bytes]
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
    run_dirs: Iterable[os.PathLike[str] | str], sig: int, leaders: Iterable[int] = (), wait: bool = False
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
