"""Early termination end to end: real script trials are stopped for real, and the reason is kept."""

from __future__ import annotations

import json
import time

import pytest

from conftest import pid_alive
from hypersweep import (
    BanditPolicy,
    Experiment,
    HyperDriveConfig,
    MedianStoppingPolicy,
    PrimaryMetricGoal,
    RandomParameterSampling,
    Run,
    ScriptRunConfig,
    TruncationSelectionPolicy,
    choice,
)

LEARNER = """
import argparse, os, time
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--quality", type=float)
p.add_argument("--lag", type=float, default=-1)
a = p.parse_args()
if a.lag < 0:  # by default, bad configurations start later: the good ones set the bar at each interval
    a.lag = 0.5 if a.quality < 0.5 else 0
os.makedirs("outputs", exist_ok=True)
open("outputs/pid", "w").write(str(os.getpid()))
time.sleep(a.lag)
run = Run.get_context()
for epoch in range(1, 21):
    run.log("accuracy", a.quality * (1 - 0.5 ** epoch))
    time.sleep(0.1)
"""


def script_config(workspace, script_dir, policy, qualities, goal="maximize", lags=None):
    src = script_dir("learner.py", LEARNER)
    space = {"quality": choice(*qualities)}
    if lags is not None:
        space["lag"] = choice(*lags)
    return HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="learner.py"),
        hyperparameter_sampling=RandomParameterSampling(space, {"seed": 0}),
        policy=policy,
        primary_metric_name="accuracy",
        primary_metric_goal=goal,
        max_total_runs=len(qualities) * (len(lags) if lags else 1),
        max_concurrent_runs=len(qualities) * (len(lags) if lags else 1),
    )


@pytest.mark.integration
def test_bandit_kills_bad_configurations_early(workspace, script_dir) -> None:
    config = script_config(
        workspace,
        script_dir,
        BanditPolicy(evaluation_interval=1, slack_factor=0.2, delay_evaluation=3),
        [0.9, 0.85, 0.3, 0.2],
    )
    run = Experiment(workspace, "bandit").submit(config)
    run.wait_for_completion()
    by_quality = {
        json.loads(run.get_hyperparameters()[c.id])["quality"]: c for c in run.get_children()
    }
    for quality in (0.3, 0.2):
        child = by_quality[quality]
        details = child.get_details()
        assert details["status"] == "Canceled"
        assert details["canceledReason"].startswith("Bandit")
        values = child.get_metrics()["accuracy"]
        assert 3 <= len(values) < 20  # stopped at or after the delay, well before the end
        pid = int(
            (
                child.experiment.workspace.path
                / ".hypersweep"
                / "runs"
                / child.id
                / "outputs"
                / "pid"
            ).read_text()
        )
        assert not pid_alive(pid)
    for quality in (0.9, 0.85):
        assert by_quality[quality].get_status() == "Completed"
        assert len(by_quality[quality].get_metrics()["accuracy"]) == 20
    assert run.get_best_run_by_primary_metric().id == by_quality[0.9].id


@pytest.mark.integration
def test_median_stopping_on_a_minimized_metric_stops_the_worst(workspace, script_dir) -> None:
    # "accuracy" here is an error to minimize: large qualities are bad. Late starters are judged
    # against the runs that already reached each interval.
    config = script_config(
        workspace,
        script_dir,
        MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=3),
        [0.1, 0.2, 0.9],
        goal="minimize",
        lags=[0, 0.6],
    )
    run = Experiment(workspace, "median").submit(config)
    run.wait_for_completion()
    statuses = {}
    for c in run.get_children():
        h = json.loads(run.get_hyperparameters()[c.id])
        statuses[(h["quality"], h["lag"])] = c.get_details()
    assert all(statuses[(0.1, lag)]["status"] == "Completed" for lag in (0, 0.6))
    late_bad = statuses[(0.9, 0.6)]
    assert late_bad["status"] == "Canceled" and "MedianStopping" in late_bad["canceledReason"]


def test_truncation_stops_callables_at_their_next_log(workspace) -> None:
    reached = {}
    # Long enough (300 logs, about 3 s) that the controller's decision reaches a stopped trial
    # before its last log even on a loaded machine; a decision that arrives after a trial's last
    # log cannot interrupt it.
    epochs = 300

    def trial(cfg):
        run = Run.get_context()
        for epoch in range(1, epochs + 1):
            reached[cfg["q"]] = epoch
            run.log("score", cfg["q"] * epoch)
            time.sleep(0.01)

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=RandomParameterSampling({"q": choice(1, 2, 3, 4)}, {"seed": 1}),
        policy=TruncationSelectionPolicy(
            truncation_percentage=50, evaluation_interval=2, delay_evaluation=4
        ),
        primary_metric_name="score",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=4,
        max_concurrent_runs=4,
    )
    run = Experiment(workspace, "trunc").submit(config)
    run.wait_for_completion()
    by_q = {json.loads(run.get_hyperparameters()[c.id])["q"]: c for c in run.get_children()}
    assert by_q[4].get_status() == "Completed" and reached[4] == epochs
    stopped = [q for q, c in by_q.items() if c.get_status() == "Canceled"]
    assert stopped and 4 not in stopped
    for q in stopped:
        assert reached[q] < epochs
        assert "TruncationSelection" in by_q[q].get_details()["canceledReason"]
        # what the run logged before it was stopped is kept, up to the interval that stopped it
        assert (
            len(by_q[q].get_metrics()["score"]) == reached[q] - 1
        )  # its last log raised TrialStopped


def test_bayesian_sampling_with_a_policy_is_allowed_only_if_supported(workspace) -> None:
    from hypersweep import BayesianParameterSampling, InvalidConfigError, uniform

    sampling = BayesianParameterSampling({"x": uniform(0, 1)})
    make = lambda: HyperDriveConfig(  # noqa: E731
        run_config=lambda cfg: cfg["x"],
        hyperparameter_sampling=sampling,
        policy=BanditPolicy(slack_factor=0.1),
        primary_metric_name="s",
        primary_metric_goal="maximize",
        max_total_runs=20,
    )
    if getattr(sampling, "supports_early_termination", False):
        assert make().policy is not None
    else:
        with pytest.raises(InvalidConfigError, match="policy=None"):
            make()


@pytest.mark.integration
@pytest.mark.parametrize(
    "policy_yaml",
    [
        "{type: bandit, slack_amount: 0.2, evaluation_interval: 1, delay_evaluation: 3}",
        "{type: truncation_selection, truncation_percentage: 50, evaluation_interval: 1, delay_evaluation: 3}",
        "{type: asha}",
    ],
)
def test_policies_from_a_sweep_file_and_the_reason_in_the_cli(
    workspace, script_dir, policy_yaml
) -> None:
    import subprocess
    import sys

    src = script_dir("learner.py", LEARNER)
    sweep = src.parent / "sweep.yml"
    sweep.write_text(
        "trial:\n  code: src\n  command: python learner.py --quality ${{search_space.quality}}\n"
        "search_space: {quality: {type: choice, values: [0.9, 0.85, 0.8, 0.2]}}\n"
        "sampling_algorithm: grid\n"
        "objective: {primary_metric: accuracy, goal: maximize}\n"
        "limits: {max_total_trials: 4, max_concurrent_trials: 4}\n"
        f"early_termination: {policy_yaml}\n"
    )
    cmd = [sys.executable, "-m", "hypersweep"]
    done = subprocess.run(
        [*cmd, "run", str(sweep), "-w", str(workspace.path), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    shown = subprocess.run(
        [*cmd, "show", "latest", "-w", str(workspace.path)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
        timeout=60,
    )
    rows = [line for line in shown.stdout.splitlines() if "0.2 " in line or " 0.2" in line]
    assert any("Canceled" in line for line in rows), shown.stdout
    assert (
        "Bandit" in shown.stdout
        or "TruncationSelection" in shown.stdout
        or "ASHA" in shown.stdout.upper()
    )
