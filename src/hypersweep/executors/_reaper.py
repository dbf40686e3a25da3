"""Finding and ending every process a trial started, however far it strayed from its parent.

How a trial's processes are found
    Every trial process is started with two variables in its environment: ``HYPERSWEEP_TRIAL``
    (the run's folder, an absolute path: unique on the machine, and known again on resume) and
    ``HYPERSWEEP_TRIAL_OWNER`` (a random token naming the process that started it).
    Children inherit their environment, so every descendant carries both, also one that left the
    trial's process group (``setsid``) or was reparented to init (a double-forked daemon). On
    Linux, :func:`kill_marked` scans ``/proc/*/environ`` for one of these markers and kills what
    it finds, again and again until a scan finds nothing (so children forked meanwhile are caught
    too). A process is signalled through a pidfd opened *before* its environment is read (or,
    without pidfds, after checking that its start time did not change), so a pid reused by an
    unrelated process is never hit. A process that clears its own environment (``env -i``) or is
    started by another user cannot be found this way; nothing else of a trial escapes.

    This was chosen over the alternatives: a process group or session loses every descendant that
    calls ``setsid``; making the driver a child subreaper (``PR_SET_CHILD_SUBREAPER``) keeps
    double-forked descendants only while the driver lives, and would make a user's notebook reap
    children that ``subprocess`` expects to wait for itself; cgroups need privileges or systemd
    that a laptop or a CI container may not grant; a supervisor process per trial costs a Python
    start-up on every trial.

When it happens
    * A run that ends (its script exits, or it is stopped by a policy, a timeout or a cancel):
      every process carrying its run's marker is killed (SIGTERM first when it is stopped, then
      SIGKILL). The driver hands the scan to its watchdog (one line down a pipe), so a run's end
      costs the driving loop nothing; it scans itself only if the watchdog is gone.
    * The process that started the trials dies, even by ``kill -9``: the trial's main process gets
      SIGKILL from the kernel at once (``setpriv --pdeathsig``), and a small watchdog process, one
      per driving process, sees the end of a pipe it shares with that process and kills every
      process carrying the driver's token (the pipe's end is seen however the driver ends, and on
      no other occasion). The watchdog runs in its own session (Ctrl-C in the terminal does not
      reach it) and needs nothing but the standard library; one per driving process, it costs one
      short Python start-up per sweep process, not per trial.
    * ``hypersweep resume``: every process still carrying the marker of an interrupted run is killed
      before the run is recorded as interrupted, even when its group leader is long gone (the
      case the watchdog cannot cover: the watchdog itself killed, or the machine suspended in the
      middle).

This module imports only the standard library: the watchdog runs it as a script.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable

ENV_TRIAL = "HYPERSWEEP_TRIAL"
ENV_OWNER = "HYPERSWEEP_TRIAL_OWNER"
HAS_PROC = os.path.isdir("/proc/self")


def marker(name: str, value: str) -> bytes:
    """The ``NAME=value`` entry a marked process carries in its environment."""
    return f"{name}={value}".encode(errors="surrogateescape")


def _environ(pid: int) -> list[bytes]:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat.rsplit(b")", 1)[-1].split()[19].decode()  # field 22, after the command name


def carries(pid: int, markers: Iterable[bytes]) -> bool:
    """True if process ``pid`` is alive and its environment holds one of ``markers``."""
    entries = set(_environ(pid))
    return any(m in entries for m in markers)


def marked_pids(markers: Iterable[bytes]) -> list[int]:
    """Every process of this machine whose environment holds one of ``markers`` (Linux; [] elsewhere)."""
    wanted = set(markers)
    if not HAS_PROC or not wanted:
        return []
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != me and wanted.intersection(_environ(int(name))):
            found.append(int(name))
    return found


def alive_trials(trials: Iterable[str]) -> set[str]:
    """Which of these trials (by folder) still have a live process carrying their marker, in one scan of ``/proc``.

    A zombie (ended, not yet reaped) counts as ended: its environment reads empty. Without ``/proc``
    nothing can be seen, and every trial counts as ended.
    """
    keys = {marker(ENV_TRIAL, k): k for k in trials}
    if not HAS_PROC or not keys:
        return set()
    me = os.getpid()
    alive: set[str] = set()
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != me:
            for entry in keys.keys() & set(_environ(int(name))):
                alive.add(keys[entry])
    return alive


def _signal_if_marked(pid: int, markers: list[bytes], sig: int) -> bool:
    """Send ``sig`` to ``pid`` if it still carries a marker; never to a process that reused the pid."""
    pidfd = None
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(pid)
    try:
        started = _start_time(pid) if pidfd is None else None
        if not carries(pid, markers):
            return False
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, sig)
        elif started is not None and _start_time(pid) == started:
            os.kill(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False
    finally:
        if pidfd is not None:
            os.close(pidfd)


def kill_marked(markers: Iterable[bytes], sig: int = signal.SIGKILL, rounds: int = 100) -> int:
    """Signal every process carrying one of ``markers``; with SIGKILL, until none is left.

    Returns:
        How many signals were sent.
    """
    wanted = list(markers)
    sent = 0
    for _ in range(rounds if sig == signal.SIGKILL else 1):
        pids = marked_pids(wanted)
        hit = sum(_signal_if_marked(pid, wanted, sig) for pid in pids)
        sent += hit
        if not hit:
            break
        time.sleep(0.005)  # let the killed die (a zombie's environment reads empty) and forks show
    return sent


class Reaper:
    """Marks the trial processes this process starts, and ends them when it dies.

    One per process (see :func:`process_reaper`): its watchdog is started on first use.
    """

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def env(self, trial: str) -> dict[str, str]:
        """The variables that mark a process of the trial ``trial`` (its folder) started here."""
        self._ensure_watchdog()
        return {ENV_TRIAL: trial, ENV_OWNER: self.token}

    def signal(self, trials: Iterable[str], sig: int, wait: bool = False) -> None:
        """Send ``sig`` to every process of these trials (by folder); with SIGKILL, until none is left.

        Unless ``wait``, the watchdog does it (this process only writes a line to it), so a run's
        end costs the driver no scan of ``/proc``; without a watchdog, it is done here and now.
        """
        keys = list(trials)
        if not keys or not HAS_PROC:
            return
        if not wait:
            line = b"".join(
                b"%d %s\n" % (sig, k.encode(errors="surrogateescape").hex().encode()) for k in keys
            )
            with self._lock:
                watchdog = self._watchdog if self._pid == os.getpid() else None
                if watchdog is not None and watchdog.stdin is not None:
                    try:
                        if os.write(watchdog.stdin.fileno(), line) == len(line):
                            return
                    except OSError:  # gone, or its pipe is full: do it here
                        pass
        kill_marked([marker(ENV_TRIAL, k) for k in keys], sig)

    def _ensure_watchdog(self) -> None:
        if not HAS_PROC:
            return
        with self._lock:
            if self._watchdog is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            # stdin is a pipe whose only writer is this process: it reads EOF when this process ends.
            self._watchdog = subprocess.Popen(
                [sys.executable, "-I", "-S", __file__, self.token],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            assert self._watchdog.stdin is not None
            os.set_blocking(
                self._watchdog.stdin.fileno(), False
            )  # a stalled watchdog never blocks a driver
            atexit.register(self._close)

    def _close(self) -> None:
        """At exit: let the watchdog make its last sweep (this process's trials have ended) and exit."""
        watchdog = self._watchdog
        if watchdog is None or self._pid != os.getpid():
            return
        with contextlib.suppress(OSError):
            assert watchdog.stdin is not None
            watchdog.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            watchdog.wait(timeout=2.0)


_REAPER: Reaper | None = None
_REAPER_LOCK = threading.Lock()


def process_reaper() -> Reaper:
    """The reaper of this process (created on first use)."""
    global _REAPER
    with _REAPER_LOCK:
        if _REAPER is None:
            _REAPER = Reaper()
        return _REAPER


def _watch(token: str) -> None:
    """The watchdog: signal the trials it is told of (lines ``SIG HEXKEY``); at the driver's end, kill what it started."""
    for sig in (
        signal.SIGINT,
        signal.SIGHUP,
        signal.SIGTSTP,
    ):  # a terminal's signals (it has its own session anyway)
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, signal.SIG_IGN)
    pending = b""
    with contextlib.suppress(OSError):
        while chunk := os.read(0, 1 << 16):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                with contextlib.suppress(ValueError):
                    number, key = line.split(b" ")
                    kill_marked(
                        [ENV_TRIAL.encode() + b"=" + bytes.fromhex(key.decode())], int(number)
                    )
    kill_marked([marker(ENV_OWNER, token)])


if __name__ == "__main__":
    _watch(sys.argv[1])
