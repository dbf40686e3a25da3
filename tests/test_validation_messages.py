"""Every public constructor names what is wrong in the same four parts.

Each case feeds one parameter of a public constructor an invalid value and expects
``The '<parameter>' parameter of <Owner> must be <rule>. Got <value> instead.``: the parameter as the
user wrote it, its owner, the rule, and the value received.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from hypersweep import (
    AshaPolicy,
    BanditPolicy,
    BayesianParameterSampling,
    FunctionRunConfig,
    GridParameterSampling,
    HyperDriveConfig,
    InvalidConfigError,
    MedianStoppingPolicy,
    RandomParameterSampling,
    ScriptRunConfig,
    TruncationSelectionPolicy,
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)

HERE = Path(__file__).parent


def train(cfg):
    return 0.0


def hd(**overrides):
    kwargs = dict(
        run_config=train,
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}),
        primary_metric_name="acc",
        primary_metric_goal="maximize",
        max_total_runs=10,
    )
    kwargs.update(overrides)
    return HyperDriveConfig(**kwargs)


def src(**overrides):
    kwargs = dict(source_directory=HERE, script="conftest.py")
    kwargs.update(overrides)
    return ScriptRunConfig(**kwargs)


CASES = [
    # (owner, parameter, make)
    ("choice", "values", lambda: choice({1, 2})),
    ("choice", "values", lambda: choice(object())),
    ("choice", "values", lambda: choice(math.nan)),
    ("randint", "upper", lambda: randint(0)),
    ("randint", "upper", lambda: randint(2.5)),
    ("uniform", "min_value", lambda: uniform("a", 1)),
    ("uniform", "max_value", lambda: uniform(0, math.inf)),
    ("uniform", "max_value", lambda: uniform(-1e308, 1e308)),
    ("quniform", "q", lambda: quniform(0, 1, 0)),
    ("quniform", "q", lambda: quniform(0, 1, 1e-17)),
    ("loguniform", "max_value", lambda: loguniform(1e6, 1e7)),
    ("qloguniform", "q", lambda: qloguniform(0, 1, -1)),
    ("normal", "sigma", lambda: normal(0, -1)),
    ("normal", "mu", lambda: normal(math.nan, 1)),
    ("qnormal", "q", lambda: qnormal(0, 1, math.nan)),
    ("lognormal", "mu", lambda: lognormal(1000, 1)),
    ("qlognormal", "sigma", lambda: qlognormal(0, 100, 1)),
    ("RandomParameterSampling", "parameter_space", lambda: RandomParameterSampling({})),
    ("GridParameterSampling", "parameter_space", lambda: GridParameterSampling([1])),
    ("BayesianParameterSampling", "parameter_space", lambda: BayesianParameterSampling(None)),
    ("ScriptRunConfig", "source_directory", lambda: src(source_directory=3)),
    ("ScriptRunConfig", "source_directory", lambda: src(source_directory=HERE / "missing")),
    ("ScriptRunConfig", "script", lambda: src(script="missing.py")),
    ("ScriptRunConfig", "script", lambda: src(script=3)),
    ("ScriptRunConfig", "arguments", lambda: src(arguments="--x 1")),
    ("ScriptRunConfig", "arguments", lambda: src(arguments=["--x", {1}])),
    (
        "ScriptRunConfig",
        "command",
        lambda: src(script=None, command="python train.py --name 'unbalanced"),
    ),
    ("ScriptRunConfig", "command", lambda: src(script=None, command=[])),
    ("ScriptRunConfig", "command", lambda: src(script=None, command="   ")),
    ("ScriptRunConfig", "command", lambda: src(script=None, command={"python": 1})),
    ("ScriptRunConfig", "compute_target", lambda: src(compute_target=3)),
    ("ScriptRunConfig", "resources", lambda: src(resources=[1])),
    ("ScriptRunConfig", "environment_variables", lambda: src(environment_variables=["A=1"])),
    ("ScriptRunConfig", "environment_variables", lambda: src(environment_variables={"A=B": "1"})),
    ("ScriptRunConfig", "inputs", lambda: src(inputs=[1])),
    ("ScriptRunConfig", "max_run_duration_seconds", lambda: src(max_run_duration_seconds=-5)),
    ("ScriptRunConfig", "max_run_duration_seconds", lambda: src(max_run_duration_seconds="1h")),
    ("FunctionRunConfig", "compute_target", lambda: FunctionRunConfig(train, compute_target=3)),
    (
        "FunctionRunConfig",
        "resources['num_cpus']",
        lambda: FunctionRunConfig(train, resources={"num_cpus": -1}),
    ),
    ("HyperDriveConfig", "run_config", lambda: hd(run_config=3)),
    ("HyperDriveConfig", "hyperparameter_sampling", lambda: hd(hyperparameter_sampling={"x": 1})),
    ("HyperDriveConfig", "primary_metric_name", lambda: hd(primary_metric_name="")),
    ("HyperDriveConfig", "primary_metric_goal", lambda: hd(primary_metric_goal=None)),
    ("HyperDriveConfig", "max_total_runs", lambda: hd(max_total_runs=0)),
    ("HyperDriveConfig", "max_total_runs", lambda: hd(max_total_runs=10**400)),
    ("HyperDriveConfig", "max_duration_minutes", lambda: hd(max_duration_minutes=-(10**400))),
    ("HyperDriveConfig", "max_concurrent_runs", lambda: hd(max_concurrent_runs=101)),
    ("HyperDriveConfig", "max_duration_minutes", lambda: hd(max_duration_minutes=-1)),
    ("HyperDriveConfig", "policy", lambda: hd(policy="bandit")),
    ("HyperDriveConfig", "trial_timeout", lambda: hd(trial_timeout=0)),
    ("HyperDriveConfig", "custom_run_id", lambda: hd(custom_run_id="a b")),
    ("HyperDriveConfig", "resume_from", lambda: hd(resume_from=[3])),
    ("BanditPolicy", "slack_factor", lambda: BanditPolicy(slack_factor=-0.1)),
    (
        "MedianStoppingPolicy",
        "evaluation_interval",
        lambda: MedianStoppingPolicy(evaluation_interval=2.5),
    ),
    (
        "TruncationSelectionPolicy",
        "truncation_percentage",
        lambda: TruncationSelectionPolicy(truncation_percentage=150),
    ),
    ("AshaPolicy", "reduction_factor", lambda: AshaPolicy(reduction_factor=1)),
]


@pytest.mark.parametrize(
    ("owner", "param", "make"), CASES, ids=[f"{o}.{p}-{i}" for i, (o, p, _) in enumerate(CASES)]
)
def test_every_invalid_parameter_gets_the_four_part_message(owner, param, make) -> None:
    with pytest.raises(InvalidConfigError) as info:
        make()
    text = str(info.value)
    pattern = rf"The {re.escape(repr(param))} parameter of {re.escape(owner)} must be .+\. Got .+ instead\."
    assert re.search(pattern, text, re.S), text


def test_numpy_values_are_accepted_where_numbers_are() -> None:
    config = hd(
        max_total_runs=np.int64(10),
        max_concurrent_runs=np.int32(2),
        max_duration_minutes=np.float64(5),
        hyperparameter_sampling=RandomParameterSampling({"x": choice(np.arange(3))}),
    )
    assert config.max_total_runs == 10 and config.max_concurrent_runs == 2
    script = src(
        arguments=["--lr", np.float64(0.1), "--n", np.int64(3)],
        max_run_duration_seconds=np.float32(2),
    )
    assert script.arguments == ["--lr", "0.1", "--n", "3"]
