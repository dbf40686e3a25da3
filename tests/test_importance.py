"""Hyperparameter importance: the estimate (against Optuna's fANOVA), the encoding, the runs used, the cache."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hypersweep import (
    BanditPolicy,
    Experiment,
    HyperDriveConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    Run,
    choice,
    loguniform,
    uniform,
)
from hypersweep.importance import MIN_RUNS, compute_importances, sweep_importances, usable_runs

optuna = pytest.importorskip("optuna")


def _random_runs(
    coefs: list[float], n: int = 60, seed: int = 0
) -> list[tuple[dict[str, float], float]]:
    rng = np.random.default_rng(seed)
    xs = rng.random((n, len(coefs)))
    return [
        ({f"x{i + 1}": float(v) for i, v in enumerate(row)}, float(row @ np.array(coefs)))
        for row in xs
    ]


def _optuna_importances(runs: list[tuple[dict[str, float], float]]) -> dict[str, float]:
    from optuna.importance import FanovaImportanceEvaluator

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    dists = {name: optuna.distributions.FloatDistribution(0.0, 1.0) for name in runs[0][0]}
    for params, value in runs:
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=value))
    return optuna.importance.get_param_importances(
        study, evaluator=FanovaImportanceEvaluator(seed=0)
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_same_ranking_and_values_as_optunas_fanova_on_a_clear_problem(seed: int) -> None:
    runs = _random_runs([10.0, 3.0, 0.3], seed=seed)
    space = {name: uniform(0, 1) for name in runs[0][0]}
    ours = compute_importances(space, runs)
    theirs = _optuna_importances(runs)
    assert list(ours.importances) == list(theirs) == ["x1", "x2", "x3"]
    for name, share in theirs.items():  # the same estimator: the same numbers, to rounding
        assert ours.importances[name] == pytest.approx(float(share), rel=1e-9, abs=1e-12)
    assert sum(ours.importances.values()) == pytest.approx(1.0)
    assert ours.n_runs == 60 and ours.message is None


def test_the_same_order_as_optuna_where_the_smaller_effects_are_within_the_noise() -> None:
    # f = 10 x1 + x2 + 0.01 x3: x2 and x3 explain ~1% and ~0.0001%, under the forest's noise at 60 runs.
    runs = _random_runs([10.0, 1.0, 0.01], seed=1)
    ours = compute_importances({name: uniform(0, 1) for name in runs[0][0]}, runs)
    assert list(ours.importances) == list(_optuna_importances(runs))
    assert next(iter(ours.importances)) == "x1" and ours.importances["x1"] > 0.99


def test_a_log_scaled_parameter_is_measured_on_its_log_scale() -> None:
    # lr over exp(-7)..1, sampled log-uniformly; the metric steps up above lr = 0.5, which is ~10% of
    # the log range (variance 0.09) but half of the linear one (variance 0.25). b adds variance 0.16.
    rng = np.random.default_rng(3)
    runs = []
    for _ in range(300):
        lr, b = math.exp(rng.uniform(-7, 0)), float(rng.random())
        runs.append(({"lr": lr, "b": b}, float(lr > 0.5) + 1.386 * b))
    result = compute_importances({"lr": loguniform(-7, 0), "b": uniform(0, 1)}, runs)
    assert list(result.importances) == ["b", "lr"]
    assert result.importances["lr"] == pytest.approx(0.09 / 0.25, abs=0.1)


def test_a_categorical_parameter_counts_its_options_only() -> None:
    rng = np.random.default_rng(4)
    runs = []
    for _ in range(200):
        opt, x = ["a", "b", "c", "d"][int(rng.integers(4))], float(rng.random())
        runs.append(
            ({"opt": opt, "x": x, "unused": int(rng.integers(3))}, (opt == "c") * 1.0 + 0.5 * x)
        )
    result = compute_importances(
        {"opt": choice("a", "b", "c", "d"), "x": uniform(0, 1), "unused": choice(0, 1, 2)}, runs
    )
    assert list(result.importances) == ["opt", "x", "unused"]
    # the indicator of one option in four has variance 3/16; 0.5 x has 1/48: opt explains ~90%
    assert result.importances["opt"] == pytest.approx((3 / 16) / (3 / 16 + 1 / 48), abs=0.05)
    assert result.importances["unused"] < 0.02


def test_conditional_parameters_are_the_keys_of_the_branches_with_an_inactive_value() -> None:
    space = {
        "model": choice(
            {"kind": "svm", "C": loguniform(-3, 3)}, {"kind": "rf", "trees": choice(10, 100)}
        ),
        "lr": uniform(0, 1),
    }
    rng = np.random.default_rng(5)
    runs = []
    for _ in range(120):
        lr = float(rng.random())
        if rng.random() < 0.5:
            c = math.exp(rng.uniform(-3, 3))
            runs.append(({"kind": "svm", "C": c, "lr": lr}, math.log(c) + 0.1 * lr))
        else:
            runs.append(({"kind": "rf", "trees": int(rng.choice([10, 100])), "lr": lr}, 0.1 * lr))
    result = compute_importances(space, runs)
    assert set(result.importances) == {"kind", "C", "trees", "lr"}
    assert next(iter(result.importances)) == "C"
    assert result.importances["lr"] < result.importances["C"] / 10
    assert sum(result.importances.values()) == pytest.approx(1.0)


def test_fewer_than_three_runs_give_a_message_and_no_importances() -> None:
    result = compute_importances({"x": uniform(0, 1)}, [({"x": 0.1}, 1.0), ({"x": 0.9}, 2.0)])
    assert result.importances == {} and result.n_runs == 2
    assert f"at least {MIN_RUNS}" in (result.message or "") and "has 2" in (result.message or "")
    assert result.to_dict()["importances"] == []


def test_a_metric_that_never_varies_explains_nothing() -> None:
    runs = [({"x": x / 10, "y": 1 - x / 10}, 0.5) for x in range(10)]
    result = compute_importances({"x": uniform(0, 1), "y": uniform(0, 1)}, runs)
    assert result.importances == {"x": 0.0, "y": 0.0}
    assert "same value" in (result.message or "")


def test_the_runs_used_completed_and_canceled_by_their_best_value() -> None:
    rows = [
        {"status": "Completed", "hyperparameters": '{"x": 0.1}', "best_value": 1.0},
        {"status": "Canceled", "hyperparameters": '{"x": 0.2}', "best_value": 0.5},
        {"status": "Failed", "hyperparameters": '{"x": 0.3}', "best_value": 9.0},
        {"status": "Running", "hyperparameters": '{"x": 0.4}', "best_value": 2.0},
        {"status": "Completed", "hyperparameters": '{"x": 0.5}', "best_value": None},
        {"status": "Completed", "hyperparameters": '{"x": 0.6}', "best_value": math.inf},
    ]
    used, counts = usable_runs(rows)
    assert used == [({"x": 0.1}, 1.0), ({"x": 0.2}, 0.5)]
    assert counts == {"failed": 1, "unfinished": 1, "no_metric": 2}


def test_reproducible_and_cached_until_the_runs_change() -> None:
    from hypersweep import importance

    runs = _random_runs([1.0, 2.0], n=40, seed=7)
    space = {"x1": uniform(0, 1), "x2": uniform(0, 1)}
    importance._cache.clear()
    first = compute_importances(space, runs)
    importance._cache.clear()
    again = compute_importances(space, runs)
    assert again.importances == first.importances  # fixed seed: the same estimate
    cached = compute_importances(space, list(runs))
    assert cached.importances is again.importances  # the same data: the cached result
    changed = compute_importances(space, [*runs[:-1], (runs[-1][0], runs[-1][1] + 5.0)])
    assert changed.importances is not again.importances


def test_a_sweep_record_and_its_run_rows() -> None:
    sweep = {"config": '{"generator_config": {"parameter_space": {"--x": ["uniform", [0, 1]]}}}'}
    rows = [
        {"status": "Completed", "hyperparameters": f'{{"--x": {x / 10}}}', "best_value": x}
        for x in range(5)
    ]
    result = sweep_importances(sweep, rows)
    assert result.importances == {"--x": pytest.approx(1.0)} and result.n_runs == 5


@pytest.mark.integration
def test_get_parameter_importances_of_a_sweep_end_to_end(workspace) -> None:
    def trial(cfg):
        run = Run.get_context()
        if cfg["noise"] > 0.9:
            raise RuntimeError("a failed run is left out")
        for epoch in range(1, 5):
            run.log("score", epoch * (5 * cfg["lr"] + cfg["noise"] * 0.2 + (cfg["opt"] == "adam")))

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=RandomParameterSampling(
            {"lr": uniform(0, 1), "noise": uniform(0, 1), "opt": choice("sgd", "adam")}, {"seed": 3}
        ),
        policy=BanditPolicy(slack_factor=0.5, evaluation_interval=1, delay_evaluation=2),
        primary_metric_name="score",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=40,
        max_concurrent_runs=8,
    )
    run = Experiment(workspace, "importance").submit(config)
    run.wait_for_completion()
    statuses = [c.get_status() for c in run.get_children()]
    assert "Failed" in statuses
    importances = run.get_parameter_importances()
    assert list(importances)[0] == "lr"
    assert set(importances) == {"lr", "noise", "opt"}
    assert sum(importances.values()) == pytest.approx(1.0)


@pytest.mark.integration
def test_a_sweep_with_too_few_runs_warns_and_returns_nothing(workspace) -> None:
    def trial(cfg):
        Run.get_context().log("score", cfg["x"])

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, {"seed": 1}),
        primary_metric_name="score",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=2,
        max_concurrent_runs=2,
    )
    run = Experiment(workspace, "few").submit(config)
    run.wait_for_completion()
    with pytest.warns(UserWarning, match=r"at least 3 Completed or Canceled runs .* has 2"):
        assert run.get_parameter_importances() == {}


@pytest.mark.integration
def test_the_importance_command_prints_a_table_and_json(workspace) -> None:
    import json
    import subprocess
    import sys

    def trial(cfg):
        Run.get_context().log("score", 10 * cfg["a"] + cfg["b"])

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=RandomParameterSampling(
            {"--a": uniform(0, 1), "--b": uniform(0, 1)}, {"seed": 2}
        ),
        primary_metric_name="score",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=20,
        max_concurrent_runs=4,
    )
    run = Experiment(workspace, "cli").submit(config)
    run.wait_for_completion()
    command = [
        sys.executable,
        "-m",
        "hypersweep",
        "importance",
        run.id[:12],
        "-w",
        str(workspace.path),
    ]
    table = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    assert "from 20 runs" in table and table.index("--a") < table.index("--b") and "%" in table
    data = json.loads(
        subprocess.run(
            [*command, "--json"], capture_output=True, text=True, timeout=120, check=True
        ).stdout
    )
    assert data["sweep_id"] == run.id and data["n_runs"] == 20 and data["message"] is None
    assert [e["name"] for e in data["importances"]] == ["--a", "--b"]
    assert data["importances"][0]["importance"] == pytest.approx(
        run.get_parameter_importances()["--a"]
    )
    missing = subprocess.run(
        [*command[:4], "HD_nope", "-w", str(workspace.path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "HD_nope" in missing.stderr
