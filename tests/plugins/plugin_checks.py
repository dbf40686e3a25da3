"""A sampler, a policy and an executor defined only in tests/plugins/ work everywhere the built-ins do.

Each is one module that subclasses hypersweep's base class and declares itself with class attributes;
nothing in the package lists it. They are used by their sweep file ``type`` (and ``compute``), as
objects in ``HyperDriveConfig``, from a stored sweep's JSON, and in real sweeps of real scripts.

``tests/test_plugins.py`` runs this file in a pytest process of its own: importing the plugins
registers them, and the other tests' messages must list only the built-in types.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
import yaml

from hypersweep import (
    Experiment,
    FunctionRunConfig,
    HyperDriveConfig,
    InvalidConfigError,
    RunStatus,
    ScriptRunConfig,
    choice,
    uniform,
)
from hypersweep._launch import policy_from_json, sampling_from_json
from hypersweep.executors import is_target, make_executor, target_forms
from hypersweep.policy import policy_from_data
from hypersweep.sampling.base import SAMPLERS
from hypersweep.sweepfile import load_sweep_file
from plugins.nice_executor import NiceExecutor
from plugins.patience_policy import PatiencePolicy
from plugins.stride_sampling import StrideParameterSampling

# Each logged score is one interval for the policy; the score stops improving after interval 3, so
# PatiencePolicy(patience=2) stops the run at interval 5. A run it never stops ends after about 60 s.
TRAIN = """
import argparse, os, time
from hypersweep import Run

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
parser.add_argument("--k")
args = parser.parse_args()
run = Run.get_context()
run.log("niceness", os.nice(0))
for epoch in range(300):
    run.log("score", min(epoch, 2) + args.x)
    time.sleep(0.2)
"""

SPACE = {"x": uniform(0, 1), "k": choice("a", "b")}


def _expected_niceness() -> int:
    return min(os.nice(0) + NiceExecutor.niceness, 19)


def _check_sweep(sweep, sampler: StrideParameterSampling) -> None:
    """Every run used the plugin executor (niceness), was sampled by the plugin sampler, stopped by the policy."""
    children = sweep.get_children()
    assert sweep.get_status() == "Completed"
    assert len(children) == 3
    wanted = [json.dumps(sampler.configuration(k), sort_keys=True) for k in range(3)]
    got = sorted(
        json.dumps(json.loads(h), sort_keys=True) for h in sweep.get_hyperparameters().values()
    )
    assert got == sorted(wanted)
    for child in children:
        assert child.get_status() == RunStatus.CANCELED.value
        assert "Patience: no improvement for 2 intervals" in child.get_details()["canceledReason"]
        assert child.get_metrics()["niceness"] == _expected_niceness()
        assert len(child.get_metrics()["score"]) < 50  # stopped, not run to the end
    details = sweep.get_details()["properties"]
    # the stored sweep names the plugins; rebuilt from it, they are equal to the ones submitted
    assert json.loads(details["generator_config"])["name"] == "Stride"
    assert sampling_from_json(json.loads(details["generator_config"])) == sampler
    assert policy_from_json(json.loads(details["policy_config"])) == PatiencePolicy(2)
    assert sweep.get_details()["runDefinition"]["target"] == "nice"


@pytest.mark.integration
def test_plugins_by_their_sweep_file_type(workspace, script_dir, tmp_path: Path) -> None:
    src = script_dir("train.py", TRAIN)
    sweep_file = tmp_path / "sweep.yml"
    sweep_file.write_text(
        textwrap.dedent(f"""
        type: sweep
        experiment_name: plugins
        trial:
          code: {src}
          command: python train.py --x ${{{{search_space.x}}}} --k ${{{{search_space.k}}}}
        search_space:
          x: {{type: uniform, min_value: 0, max_value: 1}}
          k: {{type: choice, values: [a, b]}}
        sampling_algorithm: {{type: stride, seed: 4, stride: 3}}
        early_termination: {{type: patience, patience: 2}}
        objective: {{primary_metric: score, goal: maximize}}
        limits: {{max_total_trials: 3, max_concurrent_trials: 3}}
        compute: nice
    """)
    )
    spec = load_sweep_file(sweep_file)
    assert isinstance(spec.config.hyperparameter_sampling, StrideParameterSampling)
    assert spec.config.policy == PatiencePolicy(2)
    sweep = Experiment(workspace, spec.experiment_name).submit(spec.config)
    sweep.wait_for_completion()
    _check_sweep(sweep, StrideParameterSampling(SPACE, properties={"seed": 4, "stride": 3}))


@pytest.mark.integration
def test_plugins_as_objects_in_hyperdrive_config(workspace, script_dir) -> None:
    src = script_dir("train.py", TRAIN)
    sampler = StrideParameterSampling(SPACE, properties={"seed": 9, "stride": 2})
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="train.py", compute_target="nice"),
        hyperparameter_sampling=sampler,
        policy=PatiencePolicy(patience=2),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=3,
        max_concurrent_runs=3,
    )
    sweep = Experiment(workspace, "plugins").submit(config)
    sweep.wait_for_completion()
    _check_sweep(sweep, sampler)


def test_plugin_forms_round_trip() -> None:
    sampler = StrideParameterSampling(SPACE, properties={"seed": 1, "stride": 5})
    assert sampling_from_json(json.loads(json.dumps(sampler.to_json()))) == sampler
    policy = PatiencePolicy(4, min_delta=0.5)
    assert policy.to_json() == {"name": "Patience", "properties": {"patience": 4, "min_delta": 0.5}}
    assert policy_from_json(json.loads(json.dumps(policy.to_json()))) == policy
    assert policy_from_data({"type": "Patience", "patience": 4, "min_delta": 0.5}) == policy
    assert (
        StrideParameterSampling.SAMPLING_NAME == "Stride"
        and PatiencePolicy.POLICY_NAME == "Patience"
    )


def test_plugin_sweep_file_keys_come_from_the_declarations() -> None:
    # the policy's keys are its constructor's; the sampler's its property_names
    with pytest.raises(
        InvalidConfigError,
        match=r"early_termination\.patient is not a known key for type patience; "
        r"allowed: patience, min_delta\.",
    ):
        policy_from_data({"type": "patience", "patient": 2})
    with pytest.raises(
        InvalidConfigError,
        match=r"'type' parameter of early_termination must be one of bandit, "
        r"median_stopping, truncation_selection, asha, robust_asha, none, default, patience\.",
    ):
        policy_from_data({"type": "hyperband"})
    from hypersweep.sweepfile import _sampling

    assert _sampling({"type": "stride", "stride": 2}, SPACE).stride == 2  # type: ignore[attr-defined]
    with pytest.raises(
        InvalidConfigError, match=r"sampling_algorithm\.stride applies only to type stride\."
    ):
        _sampling({"type": "random", "stride": 2}, SPACE)
    with pytest.raises(
        InvalidConfigError, match=r"sampling_algorithm\.type must be one of .*stride"
    ):
        _sampling({"type": "halton"}, SPACE)
    assert "stride" in SAMPLERS.types()


def test_plugin_executor_by_its_compute_target(tmp_path: Path) -> None:
    assert is_target("nice") and "nice" in target_forms()
    assert isinstance(make_executor("nice", 2, callable_trials=False), NiceExecutor)
    # it runs scripts only: a callable on it is refused, naming the targets there are
    with pytest.raises(
        InvalidConfigError, match=r"No executor runs callable trials on the compute target 'nice'"
    ):
        make_executor("nice", 2, callable_trials=True)
    with pytest.raises(
        InvalidConfigError, match=r"the targets are 'local', 'ray', 'ray://HOST:PORT', .*'nice'"
    ):
        make_executor("nowhere://x", 2, callable_trials=False)
    assert FunctionRunConfig(lambda cfg: 1.0, compute_target="nice").compute_target == "nice"
    sweep_file = tmp_path / "s.yml"
    sweep_file.write_text(
        yaml.safe_dump(
            {
                "type": "sweep",
                "trial": {"code": str(tmp_path), "command": "python -c pass ${{search_space.x}}"},
                "search_space": {"x": {"type": "choice", "values": [1]}},
                "sampling_algorithm": "grid",
                "objective": {"primary_metric": "m", "goal": "maximize"},
                "compute": "nice",
            }
        )
    )
    assert load_sweep_file(sweep_file).config.run_config.compute_target == "nice"  # type: ignore[union-attr]
