"""Script sweeps end to end: real subprocesses, a real SQLite workspace, the results API."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    NotFoundError,
    PrimaryMetricGoal,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    choice,
)

pytestmark = pytest.mark.integration

TRAIN = """
import argparse, os, time
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--kernel"); p.add_argument("--penalty", type=float); p.add_argument("--mode", default="ok")
a = p.parse_args()
run = Run.get_context()
run.log("Kernel type", a.kernel)
if a.mode == "hang":
    time.sleep(60)
for i in range(3):
    run.log("Accuracy", a.penalty / 2 + i * 0.01)
run.log_row("table", epoch=1, loss=0.5)
run.log_list("curve", [1, 2, 3])
run.tag("kernel", a.kernel)
os.makedirs("outputs", exist_ok=True)
open("outputs/model.txt", "w").write(f"{a.kernel}-{a.penalty}")
print("trained", a.kernel, a.penalty)
"""


def test_a_script_sweep_end_to_end(workspace, script_dir) -> None:
    src = script_dir("train_iris.py", TRAIN)
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(
            source_directory=src,
            script="train_iris.py",
            arguments=["--kernel", "linear", "--penalty", 1.0],
        ),
        hyperparameter_sampling=RandomParameterSampling(
            {
                "--kernel": choice("linear", "rbf", "poly", "sigmoid"),
                "--penalty": choice(0.5, 1, 1.5),
            },
            {"seed": 2},
        ),
        primary_metric_name="Accuracy",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=12,
        max_concurrent_runs=4,
    )
    with pytest.warns(UserWarning, match="override"):
        run = Experiment(workspace, "iris").submit(config)
        # The source is snapshotted at submission: editing it now changes no run.
        (src / "train_iris.py").write_text("raise SystemExit(5)\n")
        details = run.wait_for_completion()
    assert details["status"] == "Completed"
    children = run.get_children()
    assert len(children) == 12 and all(c.get_status() == "Completed" for c in children)
    combos = {tuple(json.loads(v).values()) for v in run.get_hyperparameters().values()}
    assert len(combos) == 12  # a finite random space does not repeat before it is exhausted

    best = run.get_best_run_by_primary_metric()
    hyper = json.loads(run.get_hyperparameters()[best.id])
    assert hyper["--penalty"] == 1.5
    d = best.get_details()
    assert d["runDefinition"]["arguments"] == d["runDefinition"]["Arguments"]
    assert d["runDefinition"]["arguments"][-4:] == [
        "--kernel",
        hyper["--kernel"],
        "--penalty",
        "1.5",
    ]
    assert d["status"] == "Completed" and d["startTimeUtc"].endswith("Z") and "endTimeUtc" in d
    metrics = best.get_metrics()
    assert metrics["Accuracy"] == pytest.approx([0.75, 0.76, 0.77])
    assert metrics["Kernel type"] == hyper["--kernel"]
    assert metrics["table"] == {"epoch": [1], "loss": [0.5]}
    assert metrics["curve"] == [1, 2, 3]
    assert best.get_tags() == {"kernel": hyper["--kernel"]}
    assert run.get_metrics()[best.id] == metrics
    assert (
        "outputs/model.txt" in best.get_file_names() and "logs/stdout.txt" in best.get_file_names()
    )
    target = best.download_file("outputs/model.txt", output_file_path=str(workspace.path / "m.txt"))
    assert Path(target).read_text() == f"{hyper['--kernel']}-1.5"
    assert best.get_logs() == f"trained {hyper['--kernel']} 1.5\n"

    # Reading back from a fresh Workspace object (another process would see the same).
    again = Workspace(workspace.path).get_run(run.id)
    assert again.get_best_run_by_primary_metric().id == best.id
    assert Workspace(workspace.path).get_run(best.id).get_metrics() == metrics


@pytest.mark.parametrize(
    "name", ["../../../etc/passwd", "/etc/passwd", "outputs/../../x", "train_iris.py"]
)
def test_download_cannot_leave_the_run_folder(workspace, script_dir, name) -> None:
    src = script_dir("train_iris.py", TRAIN)
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(
            source_directory=src, script="train_iris.py", arguments=["--kernel", "rbf"]
        ),
        hyperparameter_sampling=RandomParameterSampling({"--penalty": choice(1)}),
        primary_metric_name="Accuracy",
        primary_metric_goal="maximize",
        max_total_runs=1,
    )
    run = Experiment(workspace, "e").submit(config)
    run.wait_for_completion()
    child = run.get_children()[0]
    with pytest.raises(NotFoundError):
        child.download_file(name, output_file_path=str(workspace.path / "out"))


def test_a_hanging_script_is_canceled_at_its_timeout_and_the_sweep_goes_on(
    workspace, script_dir
) -> None:
    src = script_dir("train_iris.py", TRAIN)
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(
            source_directory=src,
            script="train_iris.py",
            arguments=["--kernel", "rbf", "--penalty", 1],
        ),
        hyperparameter_sampling=RandomParameterSampling({"--mode": choice("ok", "hang")}),
        primary_metric_name="Accuracy",
        primary_metric_goal="maximize",
        max_total_runs=2,
        trial_timeout=2,
    )
    start = time.monotonic()
    run = Experiment(workspace, "e").submit(config)
    run.wait_for_completion()
    assert time.monotonic() - start < 20
    by_mode = {json.loads(run.get_hyperparameters()[c.id])["--mode"]: c for c in run.get_children()}
    hung = by_mode["hang"].get_details()
    assert hung["status"] == "Canceled" and "trial_timeout" in hung["canceledReason"]
    assert by_mode["hang"].get_metrics()["Kernel type"] == "rbf"  # what it logged before is kept
    assert by_mode["ok"].get_status() == "Completed"
    assert run.get_best_run_by_primary_metric().id == by_mode["ok"].id
