"""Samplers, policies and executors declare themselves once; every lookup reads the declarations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hypersweep import (
    BayesianParameterSampling,
    FunctionRunConfig,
    GridParameterSampling,
    InvalidConfigError,
    RandomParameterSampling,
    choice,
    uniform,
)
from hypersweep._registry import Registry, kwargs_from_data
from hypersweep.executors import (
    LocalProcessExecutor,
    RayExecutor,
    ThreadExecutor,
    executor_classes,
    is_target,
    make_executor,
    target_forms,
)
from hypersweep.policy import (
    AshaPolicy,
    BanditPolicy,
    EarlyTerminationPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    RobustAshaPolicy,
    TruncationSelectionPolicy,
    policy_from_data,
)
from hypersweep.policy.base import POLICIES
from hypersweep.sampling.base import SAMPLERS
from hypersweep.sweepfile import _sampling

SPACE = {"x": uniform(0, 1), "k": choice("a", "b")}


def test_built_in_declarations() -> None:
    assert {"random", "grid", "bayesian"} <= set(SAMPLERS.types())
    assert (
        SAMPLERS.by_type("Bayesian") is BayesianParameterSampling
        and SAMPLERS.by_name("GRID") is GridParameterSampling
    )
    assert POLICIES.types()[:7] == [
        "bandit",
        "median_stopping",
        "truncation_selection",
        "asha",
        "robust_asha",
        "none",
        "default",
    ]
    assert (
        POLICIES.by_type("default") is NoTerminationPolicy
        and POLICIES.by_name("Bandit") is BanditPolicy
    )
    # the only sampler that models the observations, so the only one that warns and needs the same space
    assert [cls for cls in SAMPLERS if cls.uses_observations] == [BayesianParameterSampling]
    assert all(cls.supports_early_termination for cls in SAMPLERS)
    assert RandomParameterSampling({"x": uniform(0, 1)}).sampling_title == "Random"
    assert executor_classes()[:3] == [LocalProcessExecutor, RayExecutor, ThreadExecutor]
    assert target_forms()[:3] == ["local", "ray", "ray://HOST:PORT"]


@pytest.mark.parametrize(
    ("target", "served"),
    [
        ("local", True),
        ("ray", True),
        ("ray://head", True),
        ("ray://10.0.0.1:10001", True),
        ("ray://h/x", False),
        ("ray://", False),
        ("ray://h:port", False),
        ("cpu-cluster", False),
        ("", False),
        (None, False),
    ],
)
def test_compute_targets_are_matched_by_their_declared_forms(target, served) -> None:
    assert is_target(target) is served


def test_make_executor_picks_by_target_and_trial_kind() -> None:
    assert isinstance(make_executor("local", 2, callable_trials=True), ThreadExecutor)
    assert isinstance(make_executor("local", 2, callable_trials=False), LocalProcessExecutor)
    with pytest.raises(
        InvalidConfigError,
        match=r"No executor runs script trials on the compute target 'nowhere://h'; "
        r"the targets are 'local', 'ray', 'ray://HOST:PORT'",
    ):
        make_executor("nowhere://h", 2, callable_trials=False)


def test_an_address_no_executor_runs_is_refused_by_the_run_configuration() -> None:
    # refused before anything is recorded, naming the forms the executors declare
    with pytest.raises(
        InvalidConfigError,
        match=r"compute_target.*an address an executor runs \('local', 'ray', "
        r"'ray://HOST:PORT'.*Got 'nowhere://h:1'",
    ):
        FunctionRunConfig(lambda cfg: 1.0, compute_target="nowhere://h:1")
    with pytest.raises(InvalidConfigError, match="compute_target"):
        FunctionRunConfig(lambda cfg: 1.0, compute_target="no//where")
    assert (
        FunctionRunConfig(lambda cfg: 1.0, compute_target="ray://h:1").compute_target == "ray://h:1"
    )


def test_sampler_keys_in_the_sweep_file_come_from_property_names() -> None:
    bayes = _sampling({"type": "bayesian", "seed": 1, "n_initial_points": 3}, SPACE)
    assert isinstance(bayes, BayesianParameterSampling) and bayes.n_initial_points == 3
    with pytest.raises(
        InvalidConfigError, match=r"sampling_algorithm\.rule applies only to type random\."
    ):
        _sampling({"type": "grid", "rule": "sobol"}, {"k": choice(1, 2)})
    with pytest.raises(
        InvalidConfigError,
        match=r"sampling_algorithm\.n_initial_points applies only to type bayesian\.",
    ):
        _sampling({"type": "random", "n_initial_points": 3}, SPACE)
    with pytest.raises(
        InvalidConfigError,
        match=r"sampling_algorithm\.sed is not a known key\. Did you mean 'seed'\?",
    ):
        _sampling({"type": "random", "sed": 3}, SPACE)
    with pytest.raises(
        InvalidConfigError,
        match=r"sampling_algorithm\.type must be one of .*bayesian.*grid.*random",
    ):
        _sampling({"type": "halton"}, SPACE)


def test_policy_keys_come_from_the_constructor() -> None:
    data = {"truncation_percentage": 20, "exclude_finished_jobs": True}
    assert (
        kwargs_from_data(TruncationSelectionPolicy, data, where="early_termination", kind="t")
        == data
    )
    with pytest.raises(
        InvalidConfigError,
        match=r"^early_termination\.truncation_percentage is required for type t\.$",
    ):
        kwargs_from_data(TruncationSelectionPolicy, {}, where="early_termination", kind="t")
    with pytest.raises(
        InvalidConfigError,
        match=r"allowed: truncation_percentage, evaluation_interval, "
        r"delay_evaluation, exclude_finished_jobs\.$",
    ):
        kwargs_from_data(TruncationSelectionPolicy, {"x": 1}, where="early_termination", kind="t")
    with pytest.raises(
        InvalidConfigError,
        match=r"allowed: evaluation_interval, delay_evaluation, truncation_percentage",
    ):
        kwargs_from_data(
            TruncationSelectionPolicy,
            {"x": 1},
            where="early_termination",
            kind="t",
            first=("evaluation_interval", "delay_evaluation"),
        )


def test_a_name_or_type_is_declared_once() -> None:
    registry: Registry[type] = Registry("thing")

    class A:
        pass

    class B:
        pass

    again = type("A", (), {"__module__": A.__module__, "__qualname__": A.__qualname__})
    registry.add(A, "A", ["a"])
    registry.add(
        again, "A", ["a"]
    )  # the same class defined again (its module imported twice) replaces it
    assert (
        registry.by_type(" A ") is again
        and registry.by_name("A") is again
        and registry.by_type(3) is None
    )
    assert registry.types() == ["a"] and list(registry) == [again]
    with pytest.raises(TypeError, match=r"B declares the thing 'a', which .*A already has"):
        registry.add(B, "B", ["a"])
    with pytest.raises(
        TypeError,
        match=r"declares the early-termination policy 'Bandit', which .*BanditPolicy already has",
    ):

        class Bandit2(EarlyTerminationPolicy):
            policy_name = "Bandit"

    assert POLICIES.by_name("Bandit") is BanditPolicy


def test_a_broken_installed_plugin_warns_and_the_rest_works(tmp_path: Path) -> None:
    info = tmp_path / "broken_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[hypersweep.plugins]\nbroken = no_such_module_anywhere\n"
    )
    code = (
        "from hypersweep.policy import policy_from_data\n"
        "try:\n    policy_from_data({'type': 'nope'})\nexcept ValueError as exc:\n    print(exc)\n"
        "print(policy_from_data({'type': 'bandit', 'slack_factor': 0.1}))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            p for p in (os.environ.get("PYTHONPATH"), str(tmp_path)) if p
        ),
    }
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (
        "The hypersweep plugin 'broken' (no_such_module_anywhere) could not be imported"
        in done.stderr
    )
    assert "must be one of bandit" in done.stdout and "BanditPolicy(" in done.stdout


@pytest.mark.parametrize(
    "policy",
    [
        BanditPolicy(slack_amount=0.2, delay_evaluation=3),
        MedianStoppingPolicy(2, 5),
        TruncationSelectionPolicy(30),
        AshaPolicy(4, 2, 40, compare="best"),
        RobustAshaPolicy(3, 1, noise_factor=0.25),
        NoTerminationPolicy(),
    ],
)
def test_a_policy_is_written_as_its_sweep_file_mapping_and_read_back(
    policy: EarlyTerminationPolicy,
) -> None:
    data = policy.to_data()
    assert data["type"] == policy.yaml_type
    assert policy_from_data(yaml.safe_load(yaml.safe_dump(data))) == policy


def test_a_v2_sweep_job_takes_any_of_hypersweeps_policies(tmp_path: Path) -> None:
    from hypersweep.sweepfile import sweep_from_data
    from hypersweep.v2 import command
    from hypersweep.v2.sweep import Uniform

    (tmp_path / "train.py").write_text("pass\n")
    job = command(
        code=str(tmp_path), command="python train.py --lr ${{inputs.lr}}", inputs={"lr": 0.1}
    )
    sweep_job = job(lr=Uniform(min_value=0.01, max_value=0.9)).sweep(
        sampling_algorithm="random",
        primary_metric="accuracy",
        goal="Maximize",
        early_termination_policy=AshaPolicy(reduction_factor=4),
    )
    data = sweep_job._to_data(base=tmp_path)
    assert data["early_termination"]["type"] == "asha"
    assert sweep_from_data(data, tmp_path / "sweep.yml").config.policy == AshaPolicy(
        reduction_factor=4
    )


def test_stored_forms_are_looked_up_by_name() -> None:
    from hypersweep._launch import policy_from_json, sampling_from_json

    sampler = GridParameterSampling({"k": choice(1, 2)})
    assert sampling_from_json(sampler.to_json()) == sampler
    assert policy_from_json({"name": "Default"}) is None and policy_from_json({}) is None
    assert policy_from_json(BanditPolicy(slack_factor=0.2).to_json()) == BanditPolicy(
        slack_factor=0.2
    )
    with pytest.raises(
        InvalidConfigError, match=r"Unknown sampling method 'Halton' in the stored sweep\."
    ):
        sampling_from_json({"name": "Halton", "parameter_space": {}, "properties": {}})
    with pytest.raises(
        InvalidConfigError,
        match=r"Unknown early-termination policy 'Patience' in the stored sweep\.",
    ):
        policy_from_json({"name": "Patience", "properties": {}})


def test_a_stored_class_no_process_can_import_is_refused_saying_where_to_define_it() -> None:
    from hypersweep._launch import policy_from_json
    from hypersweep.sampling.base import sampling_from_json

    with pytest.raises(
        InvalidConfigError, match=r"define it in a module that this process can import"
    ):
        policy_from_json({"name": "__main__.MyPolicy"})
    with pytest.raises(
        InvalidConfigError, match=r"no_such_package\.Sampler: define it in a module"
    ):
        sampling_from_json({"name": "no_such_package.Sampler", "parameter_space": []})
    with pytest.raises(
        InvalidConfigError, match=r"Unknown early-termination policy 'Nope' in the stored sweep\.$"
    ):
        policy_from_json({"name": "Nope"})
