"""One driver per sweep: a held lock, a token every write checks, and a schema that grew a column."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hypersweep import Experiment, HyperDriveConfig, RandomParameterSampling, Run, uniform
from hypersweep.store import SCHEMA_VERSION, Store

TRAIN = """
import time
from hypersweep import Run
run = Run.get_context()
for i in range(40):
    run.log("score", i)
    time.sleep(0.05)
"""


def _wait(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def _project(tmp_path: Path, total: int = 8) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(textwrap.dedent(TRAIN))
    (tmp_path / "sweep.yml").write_text(
        "trial:\n  code: src\n  command: python train.py --x ${{search_space.x}}\n"
        "search_space: {x: {type: uniform, min_value: 0, max_value: 1}}\n"
        "sampling_algorithm: {type: random, seed: 1}\n"
        "objective: {primary_metric: score, goal: maximize}\n"
        f"limits: {{max_total_trials: {total}, max_concurrent_trials: 2}}\n"
    )
    return tmp_path


def _rows(project: Path, sql: str) -> list[tuple]:
    try:
        conn = sqlite3.connect(project / ".hypersweep" / "hypersweep.db")
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return []


def _hs(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hypersweep", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _bad_runs(project: Path) -> list[tuple]:
    """Runs that are Completed yet carry an error or a stop reason (what two drivers left behind)."""
    return _rows(
        project,
        "SELECT id, error, reason FROM runs WHERE status = 'Completed' AND (error IS NOT NULL OR reason IS NOT NULL)",
    )


def test_a_database_of_schema_1_is_migrated_when_opened(tmp_path) -> None:
    path = tmp_path / "ws" / "hypersweep.db"
    store = Store(path)
    store.create_sweep(
        "HD_old",
        "e",
        {
            "primary_metric": {"name": "m", "goal": "maximize"},
            "max_total_runs": 2,
            "max_concurrent_runs": 1,
        },
        {},
    )
    store.close()
    conn = sqlite3.connect(path)  # what hypersweep with schema 1 wrote: no driver_token column
    conn.execute("ALTER TABLE sweeps DROP COLUMN driver_token")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()

    store = Store(path)
    assert (
        store.sweep("HD_old")["driver_token"] is None and store.sweep("HD_old")["experiment"] == "e"
    )
    assert store.connect().execute(
        "SELECT value FROM meta WHERE key = 'schema_version'"
    ).fetchone()[0] == str(SCHEMA_VERSION)
    store.claim_driver("HD_old", "t1", 123)
    assert store.sweep("HD_old")["driver_token"] == "t1"
    store.close()
    Store(path).close()  # opening it again changes nothing


def test_a_driver_whose_sweep_was_taken_stops_and_writes_nothing_more(workspace) -> None:
    def trial(cfg):
        run = Run.get_context()
        for _ in range(3000):
            run.log("s", cfg["x"])
            time.sleep(0.01)

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}),
        primary_metric_name="s",
        primary_metric_goal="maximize",
        max_total_runs=2,
        max_concurrent_runs=2,
    )
    sweep = Experiment(workspace, "e").submit(config)
    other = Store(workspace.store.path)
    _wait(lambda: other.connect().execute("SELECT COUNT(*) FROM metrics").fetchone()[0] > 5)
    other.claim_driver(sweep.id, "someone-else", 4242)  # as if the lock had been bypassed
    assert sweep._controller.wait(60)
    assert "now driven by process 4242" in sweep._controller.lost
    before = other.connect().execute("SELECT COUNT(*) FROM metrics").fetchone()[0]
    row = other.sweep(sweep.id)
    assert (
        row["status"] == "Running" and row["driver_token"] == "someone-else"
    )  # its state is the new driver's
    time.sleep(0.5)
    assert other.connect().execute("SELECT COUNT(*) FROM metrics").fetchone()[0] == before
    other.close()


@pytest.mark.integration
@pytest.mark.slow
def test_a_paused_driver_keeps_its_sweep_and_resume_names_it(tmp_path) -> None:
    project = _project(tmp_path)
    driver = _hs("run", "sweep.yml", "--quiet", cwd=project)
    try:
        _wait(lambda: _rows(project, "SELECT id FROM runs WHERE status = 'Running'"))
        driver.send_signal(signal.SIGSTOP)
        time.sleep(12)  # longer than the heartbeat age at which resume used to take over
        resume = subprocess.run(
            [sys.executable, "-m", "hypersweep", "resume", "latest", "--quiet"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        driver.send_signal(signal.SIGCONT)
    assert resume.returncode == 2, resume.stderr
    assert f"driven by process {driver.pid}" in " ".join(resume.stderr.split())
    assert "Traceback" not in resume.stderr
    out, err = driver.communicate(timeout=120)
    assert driver.returncode == 0, err
    assert "Traceback" not in err and "IntegrityError" not in err
    assert _rows(project, "SELECT status FROM sweeps") == [("Completed",)]
    assert _bad_runs(project) == []
    assert {s for (s,) in _rows(project, "SELECT status FROM runs")} == {"Completed"}


@pytest.mark.integration
@pytest.mark.slow
def test_of_two_resumes_started_together_one_drives_and_the_other_names_it(tmp_path) -> None:
    project = _project(tmp_path, total=6)
    driver = _hs("run", "sweep.yml", "--quiet", cwd=project)
    _wait(lambda: len(_rows(project, "SELECT id FROM runs WHERE status = 'Running'")) == 2)
    driver.kill()
    driver.communicate()
    resumes = [_hs("resume", "latest", "--quiet", cwd=project) for _ in range(3)]
    results = [(p, *p.communicate(timeout=120)) for p in resumes]
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 2, 2], [(p.returncode, err) for p, _, err in results]
    ((winner, _, _),) = [r for r in results if r[0].returncode == 0]
    for _, _, lost in [r for r in results if r[0].returncode == 2]:
        assert f"driven by process {winner.pid}" in " ".join(lost.split())
    for _, _, err in results:
        assert "Traceback" not in err and "IntegrityError" not in err
    assert _rows(project, "SELECT status FROM sweeps") == [("Completed",)]
    assert _bad_runs(project) == []
    statuses = [s for (s,) in _rows(project, "SELECT status FROM runs")]
    assert (
        len(statuses) == 6 and statuses.count("Failed") == 2
    )  # the two interrupted runs, once each
    (lock,) = (project / ".hypersweep" / "locks").iterdir()
    assert lock.read_text() == ""  # released at the end


def test_resume_names_the_process_that_holds_the_sweep(workspace) -> None:
    from hypersweep._launch import resume_sweep, take_sweep
    from hypersweep.errors import SweepBusyError

    store = workspace.store
    store.create_sweep(
        "HD_held",
        "e",
        {
            "primary_metric": {"name": "m", "goal": "maximize"},
            "max_total_runs": 2,
            "max_concurrent_runs": 1,
        },
        {},
    )
    lease = take_sweep(store, workspace.path, "HD_held")
    try:
        with pytest.raises(
            SweepBusyError, match=f"still being driven by process {os.getpid()} on "
        ):
            resume_sweep(store, workspace.path, "HD_held")
        with pytest.raises(SweepBusyError):
            take_sweep(store, workspace.path, "HD_held")
    finally:
        lease.release()
    take_sweep(store, workspace.path, "HD_held").release()  # free again once released
