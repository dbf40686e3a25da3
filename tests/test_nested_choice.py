"""Nested (conditional) choice: sampling (random, Sobol, grid, Bayesian), what scripts and callables receive,
what the records and tables show, and its bad input."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep import (
    BayesianParameterSampling,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    choice,
    loguniform,
    uniform,
)
from hypersweep.errors import InvalidConfigError
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.sampling.base import Observation
from hypersweep.space import SearchSpace, expression_from_data
from hypersweep.space_nested import NestedChoice, UnitView, flat_values


def model_space() -> dict:
    return {
        "model": choice(
            {"model": "svm", "C": loguniform(-3, 3)},
            {"model": "rf", "n_estimators": choice(50, 100)},
        ),
        "lr": uniform(0, 1),
    }


def is_branch(value: dict) -> bool:
    if value["model"] == "svm":
        return set(value) == {"model", "C"} and math.exp(-3) <= value["C"] <= math.exp(3)
    return set(value) == {"model", "n_estimators"} and value["n_estimators"] in (50, 100)


@pytest.mark.parametrize("rule", ["random", "sobol"])
def test_random_sampling_draws_one_branch_and_its_expressions(rule: str) -> None:
    sampler = RandomParameterSampling(model_space(), properties={"seed": 3, "rule": rule})
    configs = sampler.suggest(40, [], PrimaryMetricGoal.MAXIMIZE)
    assert all(is_branch(c["model"]) and 0 <= c["lr"] <= 1 for c in configs)
    assert {c["model"]["model"] for c in configs} == {"svm", "rf"}
    assert all(SearchSpace(model_space()).contains(c) for c in configs)


def test_grid_sampling_enumerates_every_branch_combination() -> None:
    grid = GridParameterSampling(
        {"m": choice({"a": 1, "b": choice(1, 2)}, {"a": 2}), "k": choice("x", "y")}
    )
    assert grid.max_configurations() == 6
    configs = grid.suggest(10, [], PrimaryMetricGoal.MAXIMIZE)
    assert [c["m"] for c in configs[::2]] == [{"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": 2}]
    with pytest.raises(InvalidConfigError, match="supports only choice"):
        GridParameterSampling(model_space())


def test_bayesian_sampling_models_only_the_active_branch() -> None:
    sampler = BayesianParameterSampling(
        model_space(), properties={"seed": 0, "n_initial_points": 5}
    )
    observations: list[Observation] = []
    for _ in range(14):
        (config,) = sampler.suggest(1, observations, PrimaryMetricGoal.MAXIMIZE)
        assert is_branch(config["model"]), config
        branch = config["model"]
        value = (1.0 if branch["model"] == "rf" else 0.0) + config[
            "lr"
        ]  # rf is better: the model should see it
        observations.append(Observation(config, value))
    later = [o.config["model"]["model"] for o in observations[8:]]
    assert later.count("rf") >= 4
    keys = {
        sampler._key(sampler._encode(o.config)) for o in observations
    }  # no configuration suggested twice
    assert len(keys) == len(observations)


def test_bayesian_encoding_fixes_inactive_dimensions() -> None:
    sampler = BayesianParameterSampling(model_space(), properties={"seed": 0})
    names = [c.name for c in sampler._columns]
    assert names == ["model", "model[0].C", "model[1].n_estimators", "lr"]
    row = sampler._encode({"model": {"model": "rf", "n_estimators": 100}, "lr": 0.5})
    assert (
        row is not None and row[0] == 1.0 and row[1] == 0.5
    )  # branch index 1 (categorical); C inactive
    assert sampler._decode(row) == {"model": {"model": "rf", "n_estimators": 100}, "lr": 0.5}
    finite = BayesianParameterSampling({"m": choice({"a": "x", "b": choice(1, 2)}, {"a": "y"})})
    assert finite.max_configurations() == 3


def test_serialised_form_rebuilds_the_same_nested_choice() -> None:
    space = SearchSpace(model_space())
    again = SearchSpace.from_data(json.loads(json.dumps(space.to_list())))
    assert again.to_list() == space.to_list()
    assert SearchSpace.from_data(space.to_dict())["model"] == space["model"]
    assert isinstance(again["model"], NestedChoice)


def test_flat_values_and_unit_view_round_trip() -> None:
    config = {"model": {"model": "svm", "C": 0.5}, "lr": 0.1}
    assert flat_values(config) == {"model": "svm", "C": 0.5, "lr": 0.1}
    view = UnitView(SearchSpace(model_space()))
    assert view.unflatten(view.flatten(config)) == config


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([{"model": "svm"}, {}], r"'values\[1\]' parameter of choice must be a non-empty branch"),
        (
            [{"C": 1.0}, {"C": "high"}],
            r"'values\[1\]\.C' parameter of choice must be of the same type as in "
            r"values\[0\] \(number\).*Got 'high' instead",
        ),
        (
            [{"k": "a"}, {"k": {"type": "uniform", "min_value": 0, "max_value": 1}}],
            r"same type as in values\[0\] \(str\)",
        ),
        ([{"a": 1}, 2], r"'values\[1\]' parameter of choice must be a mapping"),
        (
            [{"a": {"type": "uniform", "min_value": 1, "max_value": 0}}],
            r"'max_value' parameter of uniform",
        ),
        ([{"": 1}], r"keyed by non-empty names"),
        ([{"a": object()}], r"'values\[0\]\.a' parameter of choice must be a fixed value"),
    ],
)
def test_bad_nested_choices_are_errors_naming_the_field(values: list, message: str) -> None:
    with pytest.raises(InvalidConfigError, match=message):
        choice(values)
    if all(isinstance(v, dict) for v in values) and not any(
        isinstance(x, object) and type(x) is object for v in values for x in v.values()
    ):
        with pytest.raises(InvalidConfigError, match=r"search_space\.model"):
            expression_from_data({"type": "choice", "values": values}, where="search_space.model")


branch_values = st.one_of(
    st.integers(-5, 5),
    st.sampled_from(["a", "b"]),
    st.builds(lambda lo, w: uniform(lo, lo + w), st.floats(-5, 5), st.floats(0.1, 5)),
    st.builds(lambda vs: choice(vs), st.lists(st.integers(0, 9), min_size=1, max_size=3)),
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(["p", "q", "r"]), branch_values, min_size=1),
        min_size=1,
        max_size=3,
    ),
    st.integers(0, 2**16),
)
def test_fuzz_every_sampler_stays_inside_a_nested_space(branches: list, seed: int) -> None:
    try:
        nested = choice(branches)
    except InvalidConfigError:
        return  # e.g. one key with two types: refused, as tested above
    space = {"n": nested, "x": uniform(0, 1)}
    for sampler in (
        RandomParameterSampling(space, properties={"seed": seed}),
        RandomParameterSampling(space, properties={"seed": seed, "rule": "sobol"}),
    ):
        for config in sampler.suggest(5, [], PrimaryMetricGoal.MINIMIZE):
            assert SearchSpace(space).contains(config), config
    rng = np.random.default_rng(seed)
    for _ in range(5):
        value = nested.sample(rng)
        assert nested.contains(value)


# -- what trials receive ---------------------------------------------------------------------------

ECHO = """
import json, os, sys
from hypersweep import Run
Run.get_context().log("score", 1.0)
print(json.dumps(sys.argv[1:]))
"""


def run_sweep(ws: Workspace, config: HyperDriveConfig) -> list:
    sweep = Experiment(ws, "nested").submit(config)
    sweep.wait_for_completion()
    return sorted(sweep.get_children(), key=lambda r: r.number)


def test_a_v1_script_receives_the_branch_keys_as_flags(workspace: Workspace, script_dir) -> None:
    src = script_dir("echo.py", ECHO)
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="echo.py"),
        hyperparameter_sampling=RandomParameterSampling(model_space(), properties={"seed": 1}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=4,
        max_concurrent_runs=2,
    )
    for run in run_sweep(workspace, config):
        argv = json.loads(run.get_logs().strip().splitlines()[-1])
        hyper = run.get_details()["properties"]["hyperparameters"]
        branch = hyper["model"]
        assert is_branch(branch)
        assert set(hyper) == {"model", "lr"}  # no key of another branch
        pairs = dict(zip(argv[::2], argv[1::2], strict=True))
        assert pairs["--model"] == branch["model"] and "--lr" in pairs
        other = "--n_estimators" if branch["model"] == "svm" else "--C"
        assert other not in pairs


def test_a_callable_receives_the_branch_keys(workspace: Workspace) -> None:
    seen: list[dict] = []

    def train(cfg: dict) -> float:
        seen.append(dict(cfg))
        return 1.0

    config = HyperDriveConfig(
        run_config=train,
        hyperparameter_sampling=RandomParameterSampling(model_space(), properties={"seed": 2}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=6,
        max_concurrent_runs=2,
    )
    run_sweep(workspace, config)
    assert len(seen) == 6
    for cfg in seen:
        assert set(cfg) in ({"model", "C", "lr"}, {"model", "n_estimators", "lr"})


SWEEP = """
type: sweep
trial:
  code: src
  command: python echo.py --model ${{search_space.model}} --lr ${{search_space.lr}}
search_space:
  lr: {type: uniform, min_value: 0, max_value: 1}
  model:
    type: choice
    values:
      - {model: svm, C: {type: loguniform, min_value: -3, max_value: 3}}
      - {model: rf, n_estimators: {type: choice, values: [50, 100]}}
sampling_algorithm: {type: SAMPLING, seed: 4}
objective: {primary_metric: score, goal: maximize}
limits: {max_total_trials: 4, max_concurrent_trials: 2}
"""


@pytest.mark.parametrize("sampling", ["random", "bayesian"])
def test_a_yaml_placeholder_receives_the_branch_as_one_json_argument(
    tmp_path: Path, sampling: str
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "echo.py").write_text(
        textwrap.dedent(ECHO) + "print(os.environ['AZUREML_SWEEP_model'])\n"
    )
    (tmp_path / "sweep.yml").write_text(textwrap.dedent(SWEEP).replace("SAMPLING", sampling))
    result = subprocess.run(
        [sys.executable, "-m", "hypersweep", "run", "sweep.yml", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    ws = Workspace(tmp_path)
    (row,) = ws.store.sweeps()
    for run in ws.store.runs(row["id"]):
        lines = (Path(run["run_dir"]) / "logs" / "stdout.txt").read_text().strip().splitlines()
        argv = json.loads(lines[-2])
        assert argv[0] == "--model" and argv[2] == "--lr"
        branch = json.loads(argv[1])
        assert json.loads(lines[-1]) == branch  # also as AZUREML_SWEEP_model, as Azure ML sets it
        assert is_branch(branch)
        assert run.hyperparameters["model"] == branch
    assert (
        "n_estimators" in result.stdout or " C " in result.stdout
    )  # the table shows the flattened values


def test_the_dashboard_table_gets_flattened_values(tmp_path: Path) -> None:
    from hypersweep.dashboard._sweeps import parameters

    config = {"generator_config": {"parameter_space": SearchSpace(model_space()).to_list()}}
    names = [p["name"] for p in parameters(config)]
    assert names == ["model", "C", "n_estimators", "lr"]
    by_name = {p["name"]: p for p in parameters(config)}
    assert by_name["model"]["values"] == ["svm", "rf"] and by_name["C"]["log"] is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert by_name["n_estimators"]["values"] == [50, 100]
