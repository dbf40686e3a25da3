"""Misbehaving training scripts are contained: each ends Failed or Canceled, logs kept, the sweep goes on."""

from __future__ import annotations

import json
import math
import time

import pytest

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    choice,
)

pytestmark = pytest.mark.integration

SCRIPT = """
import argparse, os, sys, time
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--mode"); a = p.parse_args()
run = Run.get_context()
print("starting", a.mode)
if a.mode == "crash":
    run.log("score", 0.99)
    raise RuntimeError("diverged")
if a.mode == "exit3":
    run.log("score", 0.98)
    sys.exit(3)
if a.mode == "hang":
    run.log("score", 0.97)
    time.sleep(120)
if a.mode == "spam":
    for _ in range(50000):
        print("x" * 100)
    run.log("score", 0.2)
if a.mode == "nan":
    run.log("score", float("nan"))
if a.mode == "nolog":
    run.log("other", 5)
if a.mode == "ok":
    run.log("score", 0.5)
"""

MODES = ["crash", "exit3", "hang", "spam", "nan", "nolog", "ok"]


def test_every_kind_of_misbehaviour_is_contained(workspace, script_dir) -> None:
    src = script_dir("bad.py", SCRIPT)
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="bad.py"),
        hyperparameter_sampling=RandomParameterSampling({"mode": choice(*MODES)}, {"seed": 0}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=len(MODES),
        max_concurrent_runs=len(MODES),
        trial_timeout=3,
    )
    start = time.monotonic()
    run = Experiment(workspace, "faults").submit(config)
    details = run.wait_for_completion()
    assert details["status"] == "Completed"
    assert time.monotonic() - start < 60
    by_mode = {json.loads(run.get_hyperparameters()[c.id])["mode"]: c for c in run.get_children()}
    status = {mode: c.get_details() for mode, c in by_mode.items()}
    assert (
        status["crash"]["status"] == "Failed" and "diverged" in status["crash"]["error"]["message"]
    )
    assert (
        status["exit3"]["status"] == "Failed"
        and "exited with code 3" in status["exit3"]["error"]["message"]
    )
    assert (
        status["hang"]["status"] == "Canceled"
        and "trial_timeout" in status["hang"]["canceledReason"]
    )
    for mode in ("spam", "nan", "nolog", "ok"):
        assert status[mode]["status"] == "Completed", mode
    for mode, child in by_mode.items():
        assert child.get_logs().startswith(f"starting {mode}\n"), mode  # every log is kept
    assert len(by_mode["spam"].get_logs()) > 5_000_000
    assert math.isnan(by_mode["nan"].get_metrics()["score"])
    # Best-run queries use the values that were logged, even by runs that failed afterwards, and
    # ignore runs without the metric or with only NaN.
    assert run.get_best_run_by_primary_metric().id == by_mode["crash"].id
    assert run.get_best_run_by_primary_metric(include_failed=False).id == by_mode["hang"].id
    assert (
        run.get_best_run_by_primary_metric(include_failed=False, include_canceled=False).id
        == by_mode["ok"].id
    )
    ranked = [
        e["run_id"] for e in run.get_children_sorted_by_primary_metric(discard_no_metric=True)
    ]
    assert by_mode["nan"].id not in ranked and by_mode["nolog"].id not in ranked


def test_a_metric_reaches_the_store_within_a_second(workspace, script_dir) -> None:
    src = script_dir(
        "slow.py",
        "import time\nfrom hypersweep import Run\nrun = Run.get_context()\nrun.log('score', 1)\ntime.sleep(4)\n",
    )
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="slow.py"),
        hyperparameter_sampling=RandomParameterSampling({"x": choice(1)}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=1,
    )
    run = Experiment(workspace, "latency").submit(config)
    store = workspace.store
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = store.connect().execute("SELECT time FROM metrics WHERE name = 'score'").fetchone()
        if row is not None:
            seen = time.time()
            break
        time.sleep(0.02)
    else:
        raise AssertionError("the metric never reached the store")
    assert seen - row[0] < 1.0
    assert run.get_children()[0].get_status() == "Running"  # while the script still runs
    run.wait_for_completion()
