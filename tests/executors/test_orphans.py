"""No process a trial started outlives its run: children in its group, ``setsid`` grandchildren, daemons.

Each trial records the pids it started; a pid counts as surviving only while ``/proc`` shows it
alive and carrying the trial's run id, so a pid reused by someone else's process is never counted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import pid_alive
from hypersweep.executors._process import is_trial
from hypersweep.executors.base import RunEnded, TrialSpec
from hypersweep.executors.local import LocalProcessExecutor
from hypersweep.run import ENV_EVENTS, ENV_RUN_ID
from hypersweep.status import RunStatus

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc"),
]

# A child in the trial's group, a grandchild in a session of its own, and a double-forked daemon;
# their pids go to pids.txt. Then it exits at once, or (HANG=1) sleeps until stopped.
SPAWNER = """
import os, subprocess, sys, time
child = subprocess.Popen(["sleep", "300"])
grandchild = subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(300)"])
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(w, str(os.getpid()).encode())
        os.close(w)
        time.sleep(300)
    os._exit(0)
os.close(w)
daemon = int(os.read(r, 100))
os.wait()
time.sleep(0.2)  # the grandchild has called setsid
with open("pids.tmp", "w") as f:
    f.write(f"{child.pid} {grandchild.pid} {daemon}")
os.replace("pids.tmp", "pids.txt")
if os.environ.get("HANG"):
    from hypersweep import Run
    Run.get_context().log("m", 1)
    time.sleep(300)
"""


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def recorded_pids(run_dir: Path) -> list[int]:
    """The pids the trial wrote, once it has written them."""
    path = run_dir / "pids.txt"
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def survivors(pids: list[int], run_id: str) -> list[int]:
    """The pids still alive as processes of ``run_id``."""
    return [p for p in pids if pid_alive(p) and is_trial(p, run_id)]


def spec_for(tmp_path: Path, run_id: str, hang: bool) -> TrialSpec:
    run_dir = tmp_path / run_id
    run_dir.mkdir()
    (run_dir / "t.py").write_text(textwrap.dedent(SPAWNER))
    spec = TrialSpec(run_id, run_dir, {}, argv=[sys.executable, "t.py"])
    spec.env = {
        ENV_RUN_ID: run_id,
        ENV_EVENTS: str(spec.events_path),
        **({"HANG": "1"} if hang else {}),
    }
    return spec


def drain(ex: LocalProcessExecutor, timeout: float = 60.0) -> list:
    events, deadline = [], time.monotonic() + timeout
    while ex.active() and time.monotonic() < deadline:
        events += ex.poll(0.05)
    assert not ex.active(), "trials did not end in time"
    return events


def test_nothing_outlives_a_run_that_ends_by_itself(tmp_path) -> None:
    spec = spec_for(tmp_path, "ends", hang=False)
    ex = LocalProcessExecutor()
    ex.start(spec)
    events = drain(ex)
    assert events[-1] == RunEnded("ends", RunStatus.COMPLETED, None, events[-1].time)
    pids = recorded_pids(spec.run_dir)
    assert len(pids) == 3
    wait_for(lambda: not survivors(pids, "ends"), timeout=30)


def test_nothing_outlives_a_stopped_run(tmp_path) -> None:
    spec = spec_for(tmp_path, "stopped", hang=True)
    ex = LocalProcessExecutor(grace_seconds=5)
    ex.start(spec)
    events: list = []
    pids = wait_for(lambda: (events.extend(ex.poll(0.05)), recorded_pids(spec.run_dir))[1])
    assert len(survivors(pids, "stopped")) == 3
    ex.stop("stopped", "Stopped by BanditPolicy.")
    events += drain(ex)
    assert events[-1].status is RunStatus.CANCELED
    wait_for(lambda: not survivors(pids, "stopped"), timeout=30)


# -- the driver killed with -9 -------------------------------------------------------------------


def _project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "t.py").write_text(textwrap.dedent(SPAWNER))
    (tmp_path / "sweep.yml").write_text(
        "trial:\n  code: src\n  command: python t.py --x ${{search_space.x}}\n"
        "  environment_variables: {HANG: '1'}\n"
        "search_space: {x: {type: choice, values: [1, 2]}}\n"
        "sampling_algorithm: grid\n"
        "objective: {primary_metric: m, goal: maximize}\n"
        "limits: {max_total_trials: 2, max_concurrent_trials: 2}\n"
    )
    return tmp_path


def _run_dirs(project: Path) -> list[Path]:
    runs = project / ".hypersweep" / "runs"
    return sorted(runs.iterdir()) if runs.is_dir() else []


def _start_and_kill(project: Path, kill_watchdog: bool) -> dict[str, list[int]]:
    """Start the sweep, wait until both trials have spawned everything, kill -9 the driver."""
    driver = subprocess.Popen(
        [sys.executable, "-m", "hypersweep", "run", "sweep.yml", "--quiet"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        spawned = wait_for(
            lambda: (
                (d := _run_dirs(project)) and len(d) == 2 and all(recorded_pids(x) for x in d) and d
            )
        )
        pids = {d.name: recorded_pids(d) for d in spawned}
        if kill_watchdog:  # what is left to `resume`: the driver's watchdog is gone too
            for pid in _children(driver.pid):
                if "_reaper.py" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(
                    errors="replace"
                ):
                    os.kill(pid, signal.SIGKILL)
    finally:
        driver.kill()
        driver.wait()
    return pids


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


@pytest.mark.slow
def test_nothing_outlives_a_driver_killed_with_sigkill(tmp_path) -> None:
    project = _project(tmp_path)
    pids = _start_and_kill(project, kill_watchdog=False)
    for run_id, run_pids in pids.items():  # ended by the watchdog, with no resume
        wait_for(
            lambda run_id=run_id, run_pids=run_pids: not survivors(run_pids, run_id), timeout=30
        )


@pytest.mark.slow
def test_resume_ends_what_a_killed_driver_left_even_without_group_leaders(tmp_path) -> None:
    project = _project(tmp_path)
    pids = _start_and_kill(project, kill_watchdog=True)
    time.sleep(0.5)
    left = {run_id: survivors(p, run_id) for run_id, p in pids.items()}
    assert all(len(s) == 3 for s in left.values()), (
        left
    )  # the watchdog was gone: everything survived the driver
    resume = subprocess.Popen(
        [sys.executable, "-m", "hypersweep", "resume", "latest", "--quiet"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for run_id, run_pids in pids.items():
            wait_for(
                lambda run_id=run_id, run_pids=run_pids: not survivors(run_pids, run_id), timeout=30
            )
        _, err = resume.communicate(timeout=60)
    finally:
        resume.kill()
    assert "2 interrupted" in " ".join(err.split())
