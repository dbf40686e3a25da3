"""RobustAshaPolicy in real sweeps of callables: random and Bayesian sampling, concurrency, warm start."""

from __future__ import annotations

import json
import time

import pytest

from hypersweep import (
    BayesianParameterSampling,
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    RobustAshaPolicy,
    Run,
    choice,
    uniform,
)

QUALITIES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


def learner(cfg: dict) -> None:
    """A smooth saturating curve whose level is the configuration's quality."""
    run = Run.get_context()
    for epoch in range(1, 10):
        run.log("accuracy", cfg["q"] * (1 - 0.5**epoch))
        time.sleep(0.01)


def sweep(workspace, name: str, qualities: list[float] = QUALITIES, **kwargs) -> object:
    config = HyperDriveConfig(
        run_config=learner,
        hyperparameter_sampling=RandomParameterSampling({"q": choice(*qualities)}, {"seed": 0}),
        policy=RobustAshaPolicy(reduction_factor=3, min_interval=1, max_interval=9),
        primary_metric_name="accuracy",
        primary_metric_goal="maximize",
        max_total_runs=len(qualities),
        max_concurrent_runs=4,
        **kwargs,
    )
    run = Experiment(workspace, name).submit(config)
    run.wait_for_completion()
    return run


def test_stops_poor_runs_at_concurrency_4_and_keeps_the_best(workspace) -> None:
    run = sweep(workspace, "robust")
    by_q = {json.loads(run.get_hyperparameters()[c.id])["q"]: c for c in run.get_children()}
    assert sorted(by_q) == QUALITIES  # choice-only space: every value once
    assert by_q[0.9].get_status() == "Completed"
    canceled = [q for q, c in by_q.items() if c.get_status() == "Canceled"]
    assert canceled and 0.9 not in canceled
    for q in canceled:
        assert by_q[q].get_details()["canceledReason"].startswith("RobustASHA")
        logged = by_q[q].get_metrics()["accuracy"]  # one value comes back as a number
        assert not isinstance(logged, list) or len(logged) < 9
    assert run.get_best_run_by_primary_metric().id == by_q[0.9].id


def test_warm_start_runs_are_comparison_points(workspace) -> None:
    first = sweep(workspace, "first")
    # new configurations: a warm-started sweep never runs one its parent ran
    second = sweep(workspace, "second", qualities=[0.1001, 0.2001, 0.9001], resume_from=[first])
    statuses = {
        json.loads(second.get_hyperparameters()[c.id])["q"]: c.get_status()
        for c in second.get_children()
    }
    # With the first sweep's nine histories as priors, even the first runs of the second sweep
    # are ranked against a full population: the worst qualities stop at the first rung.
    assert statuses[0.9001] == "Completed"
    assert statuses[0.1001] == "Canceled" and statuses[0.2001] == "Canceled"


@pytest.mark.filterwarnings("ignore:Bayesian sampling works best")
def test_bayesian_sampling_accepts_it(workspace) -> None:
    def trial(cfg: dict) -> None:
        run = Run.get_context()
        for epoch in range(1, 10):
            run.log("score", cfg["x"] * (1 - 0.5**epoch))

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=BayesianParameterSampling({"x": uniform(0, 1)}),
        policy=RobustAshaPolicy(),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=8,
        max_concurrent_runs=2,
    )
    run = Experiment(workspace, "bayes").submit(config)
    run.wait_for_completion()
    statuses = [c.get_status() for c in run.get_children()]
    assert len(statuses) == 8
    assert set(statuses) <= {"Completed", "Canceled"}
