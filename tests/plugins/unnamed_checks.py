"""A sampler and policies that declare no name (tests/plugins/unnamed.py) work as named ones do.

``tests/test_plugins.py`` runs this file in a pytest process of its own, as ``plugin_checks.py``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from hypersweep import (
    Experiment,
    FunctionRunConfig,
    HyperDriveConfig,
    RandomParameterSampling,
    RunStatus,
    Workspace,
    uniform,
)
from hypersweep._launch import policy_from_json, sampling_from_json
from plugins.unnamed import BrokenPolicy, CountingSampling, EveryThirdPolicy, StopAtTwoPolicy

SPACE = {"x": uniform(0, 1)}


EPOCHS = 30


def train(config: dict) -> None:
    """Logs EPOCHS values, 0.1 s apart: a run stopped at its second runs far from its end."""
    import time

    from hypersweep import Run

    run = Run.get_context()
    for epoch in range(EPOCHS):
        run.log("score", config["x"] * epoch)
        time.sleep(0.1)


def _sweep(workspace: Path, sampling, policy) -> object:
    config = HyperDriveConfig(
        run_config=FunctionRunConfig(train),
        hyperparameter_sampling=sampling,
        policy=policy,
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=2,
        max_concurrent_runs=1,
    )
    sweep = Experiment(Workspace(workspace), "unnamed").submit(config)
    sweep.wait_for_completion()
    return sweep


def test_unnamed_classes_are_stored_under_their_import_path() -> None:
    policy = EveryThirdPolicy(every=4)
    assert policy.to_json() == {
        "name": "plugins.unnamed.EveryThirdPolicy",
        "properties": {"every": 4, "delay_evaluation": 0},
    }
    assert policy_from_json(json.loads(json.dumps(policy.to_json()))) == policy
    assert StopAtTwoPolicy().to_json() == {"name": "plugins.unnamed.StopAtTwoPolicy"}
    sampler = CountingSampling(SPACE, properties={"seed": 3})
    assert sampler.to_json()["name"] == "plugins.unnamed.CountingSampling"
    assert sampling_from_json(json.loads(json.dumps(sampler.to_json()))) == sampler


def test_a_stored_import_path_is_imported_by_a_process_that_never_named_it() -> None:
    code = (
        "from hypersweep._launch import policy_from_json\n"
        "p = policy_from_json({'name': 'plugins.unnamed.EveryThirdPolicy', 'properties': {'every': 5}})\n"
        "print(type(p).__name__, p.every)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["EveryThirdPolicy", "5"]


def test_a_sweep_with_an_unnamed_sampler_and_a_bool_policy(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path, CountingSampling(SPACE, properties={"seed": 1}), StopAtTwoPolicy())
    assert sweep.get_status() == "Completed"
    children = sweep.get_children()
    assert sorted(json.loads(h)["x"] for h in sweep.get_hyperparameters().values()) == [0.1, 0.2]
    for child in children:
        assert child.get_status() == RunStatus.CANCELED.value
        assert "StopAtTwoPolicy" in child.get_details()["canceledReason"]
        assert len(child.get_metrics()["score"]) < EPOCHS


def test_a_policy_that_raises_stops_nothing_and_loses_no_value(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="hypersweep"):
        sweep = _sweep(tmp_path, RandomParameterSampling(SPACE), BrokenPolicy())
    assert sweep.get_status() == "Completed"
    for child in sweep.get_children():
        assert child.get_status() == RunStatus.COMPLETED.value
        assert len(child.get_metrics()["score"]) == EPOCHS
    said = [r.getMessage() for r in caplog.records if "BrokenPolicy" in r.getMessage()]
    assert len(said) == 1 and "ZeroDivisionError: a bug in the policy" in said[0], said
