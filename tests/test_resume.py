"""Warm start, resumed child runs, and sweeps that survive the death of their driving process."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import pid_alive
from hypersweep import (
    BanditPolicy,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    InvalidConfigError,
    RandomParameterSampling,
    Run,
    ScriptRunConfig,
    Workspace,
    choice,
    uniform,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits"

SLOW = """
import argparse, os, time
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a = p.parse_args()
run = Run.get_context()
os.makedirs("outputs", exist_ok=True)
open("outputs/pid", "w").write(str(os.getpid()))
for i in range(15):
    run.log("value", a.x + i)
    time.sleep(0.1)
"""


def _db(project: Path) -> sqlite3.Connection:
    return sqlite3.connect(project / ".hypersweep" / "hypersweep.db")


def _wait(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.mark.integration
@pytest.mark.slow
def test_a_sweep_survives_sigkill_of_its_driver(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "slow.py").write_text(textwrap.dedent(SLOW))
    (tmp_path / "sweep.yml").write_text(
        "trial:\n  code: src\n  command: python slow.py --x ${{search_space.x}}\n"
        "search_space: {x: {type: uniform, min_value: 0, max_value: 1}}\n"
        "sampling_algorithm: {type: random, seed: 11}\n"
        "objective: {primary_metric: value, goal: maximize}\n"
        "limits: {max_total_trials: 8, max_concurrent_trials: 2}\n"
    )
    cmd = [sys.executable, "-m", "hypersweep"]
    driver = subprocess.Popen(
        [*cmd, "run", "sweep.yml", "--quiet"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def mid_sweep():
        try:
            rows = _db(tmp_path).execute("SELECT status, pid FROM runs").fetchall()
        except sqlite3.OperationalError:
            return None
        done = sum(s == "Completed" for s, _ in rows)
        running = [pid for s, pid in rows if s == "Running" and pid]
        return running if done >= 2 and len(running) == 2 else None

    in_flight = _wait(mid_sweep)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    # The crash leaves no orphans: trials die with their driver.
    _wait(lambda: not any(pid_alive(p) for p in in_flight), timeout=10)

    done = subprocess.run(
        [*cmd, "resume", "latest", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2 interrupted" in " ".join(done.stderr.split())

    db = _db(tmp_path)
    assert db.execute("SELECT status FROM sweeps").fetchone()[0] == "Completed"
    rows = db.execute(
        "SELECT id, status, error, run_dir, hyperparameters, pid FROM runs ORDER BY number"
    ).fetchall()
    assert len(rows) == 8  # the total never exceeds max_total_runs
    interrupted = [r for r in rows if r[1] == "Failed"]
    assert len(interrupted) == 2 and all("Interrupted" in r[2] for r in interrupted)
    assert sum(r[1] == "Completed" for r in rows) == 6
    # No value logged before the kill is missing: each run's events file is the ground truth.
    for run_id, _, _, run_dir, _, pid in rows:
        logged = [
            json.loads(line)["v"]
            for line in (Path(run_dir) / "logs" / "events.jsonl").read_text().splitlines()
        ]
        stored = [
            v
            for (v,) in db.execute(
                "SELECT value FROM metrics WHERE run_id = ? ORDER BY step", (run_id,)
            )
        ]
        assert stored == logged, run_id
        assert not pid_alive(pid)
    # The seeded sampler continued where it stopped: the same 8 configurations as an uninterrupted sweep.
    sampler = RandomParameterSampling({"x": uniform(0, 1)}, {"seed": 11})
    assert [json.loads(r[4]) for r in rows] == [sampler.configuration(k) for k in range(8)]

    again = subprocess.run(
        [*cmd, "resume", "latest"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 2 and "already ended" in again.stderr


def test_resume_refuses_a_sweep_whose_driver_is_alive(workspace) -> None:
    def trial(cfg):
        run = Run.get_context()
        for _ in range(500):
            run.log("s", 1)
            time.sleep(0.01)

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}),
        primary_metric_name="s",
        primary_metric_goal="maximize",
        max_total_runs=2,
    )
    run = Experiment(workspace, "e").submit(config)
    time.sleep(2.5)  # a heartbeat has been written
    with pytest.raises(InvalidConfigError, match="still being driven by process"):
        Workspace(workspace.path).get_run(run.id).resume()
    run.cancel()
    run.wait_for_completion()


def _callable_sweep(workspace, values, name="parent", **kw):
    def trial(cfg):
        run = Run.get_context()
        for i in range(1, 11):
            run.log("acc", cfg["q"] * i / 10)
            time.sleep(0.005)

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=GridParameterSampling({"q": choice(*values)}),
        primary_metric_name=kw.pop("metric", "acc"),
        primary_metric_goal="maximize",
        max_total_runs=len(values),
        max_concurrent_runs=1,
        **kw,
    )
    run = Experiment(workspace, name).submit(config)
    run.wait_for_completion()
    return run


def test_warm_start_runs_take_part_in_early_termination(workspace) -> None:
    parent = _callable_sweep(workspace, [0.95, 0.9])
    child = _callable_sweep(
        workspace,
        [0.5, 0.45],
        name="child",
        resume_from=[parent],
        policy=BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=3),
    )
    # Alone, a sweep of two mediocre runs run one after the other would keep its first run; the
    # warm-start sweep's better runs set the bar instead.
    details = [c.get_details() for c in child.get_children()]
    assert all(
        d["status"] == "Canceled" and d["canceledReason"].startswith("Bandit") for d in details
    )
    best = child.get_best_run_by_primary_metric()
    assert best.id.startswith(parent.id)
    own_best = child.get_best_run_by_primary_metric(include_resume_from_runs=False)
    assert own_best.id.startswith(child.id)


def test_warm_start_is_checked(workspace) -> None:
    parent = _callable_sweep(workspace, [0.5])
    other_metric = _callable_sweep(workspace, [0.5], name="other", metric="loss")

    def make(**kw):
        base = dict(
            run_config=lambda cfg: 0,
            hyperparameter_sampling=RandomParameterSampling({"q": uniform(0, 1)}),
            primary_metric_name="acc",
            primary_metric_goal="maximize",
            max_total_runs=5,
        )
        base.update(kw)
        return Experiment(workspace, "e").submit(HyperDriveConfig(**base))

    with pytest.raises(InvalidConfigError, match="primary metric must be the same"):
        make(resume_from=[other_metric])
    with pytest.raises(InvalidConfigError, match="at most 5"):
        HyperDriveConfig(
            run_config=lambda c: 0,
            hyperparameter_sampling=RandomParameterSampling({"q": uniform(0, 1)}),
            primary_metric_name="acc",
            primary_metric_goal="maximize",
            max_total_runs=5,
            resume_from=[f"HD_{i}" for i in range(6)],
        )
    with pytest.raises(InvalidConfigError, match="without duplicate"):
        make(resume_from=[parent, parent.id])
    with pytest.raises(InvalidConfigError, match="not a sweep of this workspace"):
        make(resume_from=["HD_missing"])
    with pytest.raises(InvalidConfigError, match="must not exceed 1000"):
        make(resume_from=[parent], max_total_runs=1000)


@pytest.mark.integration
def test_a_resumed_child_run_continues_from_its_checkpoint(workspace) -> None:
    pytest.importorskip("sklearn")

    def sweep(epochs, **kw):
        config = HyperDriveConfig(
            run_config=ScriptRunConfig(
                source_directory=EXAMPLE, script="train.py", arguments=["--epochs", epochs]
            ),
            hyperparameter_sampling=GridParameterSampling({"--hidden": choice(16)}),
            primary_metric_name="accuracy",
            primary_metric_goal="maximize",
            max_total_runs=1,
            **kw,
        )
        run = Experiment(workspace, "digits").submit(config)
        run.wait_for_completion()
        return run

    first = sweep(3)
    original = first.get_children()[0]
    assert original.get_metrics()["epoch"] == [1, 2, 3]
    second = sweep(5, resume_child_runs=[original])
    resumed = second.get_children()[0]
    details = resumed.get_details()
    assert details["status"] == "Completed"
    assert resumed.get_metrics()["epoch"] == [4, 5]  # continued where the checkpoint left off
    assert details["runDefinition"]["arguments"][-4:] == [
        "--hidden",
        "16",
        "--resume-from",
        str(Path(original.get_details()["logFiles"]["logs/stdout.txt"]).parents[1] / "outputs"),
    ]
    assert details["properties"]["origin"]["resumed_from"] == original.id
    assert [c.origin for c in second.get_children()] == [details["properties"]["origin"]]
    assert original.origin is None
    assert "resumed from" in resumed.get_logs()


def test_a_warm_started_bayesian_sweep_starts_better_than_a_cold_one(workspace) -> None:
    from hypersweep import BayesianParameterSampling

    def objective(cfg):
        return -((cfg["x"] - 0.7) ** 2 + (cfg["y"] - 0.2) ** 2)

    def sweep(n, seed, parents=()):
        sampling = BayesianParameterSampling(
            {"x": uniform(0, 1), "y": uniform(0, 1)}, {"seed": seed}
        )
        with pytest.warns(UserWarning, match="20 x the number of hyperparameters"):
            config = HyperDriveConfig(
                run_config=objective,
                hyperparameter_sampling=sampling,
                primary_metric_name="score",
                primary_metric_goal="maximize",
                max_total_runs=n,
                max_concurrent_runs=1,
                resume_from=list(parents),
            )
        run = Experiment(workspace, "bayes").submit(config)
        run.wait_for_completion()
        return run

    def best(run):
        return run.get_children_sorted_by_primary_metric(top=1, discard_no_metric=True)[0][
            "best_primary_metric"
        ]

    parent = sweep(25, seed=1)
    warm, cold = sweep(4, seed=2, parents=[parent]), sweep(4, seed=2)
    assert best(warm) > best(cold)
    assert best(warm) > -1e-3  # the prior runs located the optimum already
    with pytest.raises(InvalidConfigError, match="search space must be the same"):
        Experiment(workspace, "bayes").submit(
            HyperDriveConfig(
                run_config=objective,
                hyperparameter_sampling=BayesianParameterSampling(
                    {"x": uniform(0, 2), "y": uniform(0, 1)}
                ),
                primary_metric_name="score",
                primary_metric_goal="maximize",
                max_total_runs=40,
                resume_from=[parent],
            )
        )
