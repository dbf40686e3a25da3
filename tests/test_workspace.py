"""``Workspace`` as notebooks use it, and the compute-cluster cell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from hypersweep import (
    AmlCompute,
    ComputeTarget,
    ComputeTargetException,
    CondaDependencies,
    Environment,
    RayCompute,
    ScriptRunConfig,
    Workspace,
)
from hypersweep.errors import InvalidConfigError


def test_from_config_reads_azure_config_and_never_needs_it(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("HYPERSWEEP_WORKSPACE", raising=False)
    project = tmp_path / "project"
    notebooks = project / "notebooks"
    notebooks.mkdir(parents=True)
    monkeypatch.chdir(notebooks)
    (project / "config.json").write_text(
        "{not an Azure config"
    )  # an unrelated config.json is passed over
    ws = Workspace.from_config()  # no Azure config.json anywhere: the current folder, local names
    assert ws.path == notebooks.resolve()
    assert (ws.name, ws.location, ws.resource_group, ws.subscription_id) == (
        "notebooks",
        "local",
        "local",
        "local",
    )
    (project / ".azureml").mkdir()
    (project / ".azureml" / "config.json").write_text(
        json.dumps({"subscription_id": "sub-1", "resource_group": "rg-1", "workspace_name": "ws-1"})
    )
    ws = Workspace.from_config()  # found in a parent, as Azure looks
    assert (ws.name, ws.resource_group, ws.subscription_id, ws.location) == (
        "ws-1",
        "rg-1",
        "sub-1",
        "local",
    )
    assert ws.path == notebooks.resolve()  # records still go where they always went
    details = ws.get_details()
    assert (
        details["name"] == "ws-1"
        and details["location"] == "local"
        and details["resourceGroup"] == "rg-1"
    )
    # a config file named directly; the workspace is the project folder it belongs to
    direct = Workspace.from_config(path=str(project / ".azureml" / "config.json"))
    assert direct.name == "ws-1" and direct.path == project.resolve()
    # write_config writes what from_config reads
    written = Workspace("s", "g", "n").write_config(path=tmp_path / "other")
    assert json.loads(Path(written).read_text()) == {
        "subscription_id": "s",
        "resource_group": "g",
        "workspace_name": "n",
    }
    assert Workspace.from_config(path=tmp_path / "other").name == "n"
    bad = tmp_path / "bad" / "config.json"
    bad.parent.mkdir()
    bad.write_text("{not json")
    with pytest.raises(InvalidConfigError, match="'path' parameter of Workspace.from_config"):
        Workspace.from_config(path=str(bad))


def test_azure_positional_signature_and_path_form(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HYPERSWEEP_WORKSPACE", str(tmp_path / "home"))
    ws = Workspace("sub", "rg", "name")
    assert (ws.subscription_id, ws.resource_group, ws.name) == ("sub", "rg", "name")
    assert ws.path == (tmp_path / "home").resolve()
    assert Workspace(tmp_path / "x").path == (tmp_path / "x").resolve()
    assert Workspace(tmp_path / "x").name == "x"
    assert Workspace(path=str(tmp_path / "y")).path == (tmp_path / "y").resolve()
    got = Workspace.get("named", subscription_id="s", resource_group="g")
    assert (got.name, got.subscription_id, got.path) == (
        "named",
        "s",
        (tmp_path / "home").resolve(),
    )


def test_compute_cluster_cell_gives_a_local_target_with_one_warning(workspace, capsys) -> None:
    with pytest.raises(ComputeTargetException, match="not found"):
        ComputeTarget(workspace=workspace, name="hd-cluster")
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    with pytest.warns(UserWarning, match="runs its trials on this machine") as record:
        target = ComputeTarget.create(workspace, "hd-cluster", config)
    assert len(record) == 1 and "STANDARD_D2_V2" in str(record[0].message)
    target.wait_for_completion(show_output=True, min_node_count=None, timeout_in_minutes=20)
    assert "Succeeded" in capsys.readouterr().out
    assert target.get_status().serialize()["provisioningState"] == "Succeeded"
    assert target.hypersweep_target == "local"
    with pytest.warns(UserWarning, match="runs its trials on this machine") as record:
        again = ComputeTarget(workspace=workspace, name="hd-cluster")  # a later session finds it
    assert len(record) == 1 and again.type == "AmlCompute"
    src_dir = workspace.path / "src"
    src_dir.mkdir(parents=True)
    (src_dir / "t.py").write_text("")
    assert (
        ScriptRunConfig(
            source_directory=src_dir, script="t.py", compute_target=again
        ).compute_target
        == "local"
    )
    # a name can stand for a Ray cluster
    ray = ComputeTarget.create(
        workspace, "ray-cluster", RayCompute(address="ray://127.0.0.1:10001")
    )
    assert ray.type == "Ray" and ray.hypersweep_target == "ray://127.0.0.1:10001"
    assert (
        ScriptRunConfig(source_directory=src_dir, script="t.py", compute_target=ray).compute_target
        == "ray://127.0.0.1:10001"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        targets = workspace.compute_targets
    assert sorted(targets) == ["hd-cluster", "local", "ray-cluster"]
    assert {name: (t.type, t.provisioning_state) for name, t in targets.items()}["local"] == (
        "Local",
        "Succeeded",
    )
    with pytest.raises(InvalidConfigError, match="'address' parameter of RayCompute"):
        RayCompute(address="http://x")


def test_workspace_environments_and_experiments(workspace) -> None:
    env = Environment("e1")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["numpy"])
    env.register(workspace)
    assert list(workspace.environments) == ["e1"]
    assert workspace.experiments == {}


NOTEBOOK = """
import json, os, shutil
from hypersweep import (AmlCompute, ComputeTarget, ComputeTargetException, Environment, Experiment,
                        HyperDriveConfig, PrimaryMetricGoal, RandomParameterSampling, ScriptRunConfig,
                        Workspace, choice)

ws = Workspace.from_config()
print('Workspace name: ' + ws.name, 'Azure region: ' + ws.location,
      'Subscription id: ' + ws.subscription_id, 'Resource group: ' + ws.resource_group, sep='\\n')
cluster_name = "hd-cluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print('Found existing compute target')
except ComputeTargetException:
    print('Creating a new compute target...')
    compute_config = AmlCompute.provisioning_configuration(vm_size='STANDARD_D2_V2', max_nodes=4)
    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
compute_target.wait_for_completion(show_output=True, min_node_count=None, timeout_in_minutes=20)
print(compute_target.get_status().serialize())
for name, ct in ws.compute_targets.items():
    print(name, ct.type, ct.provisioning_state)
project_folder = './sklearn-iris'
os.makedirs(project_folder, exist_ok=True)
shutil.copy('train_iris.py', project_folder)
experiment = Experiment(ws, name='train_iris')
sklearn_env = Environment.get(ws, name='azureml-sklearn-1.5')
src = ScriptRunConfig(source_directory=project_folder, script='train_iris.py',
                      arguments=['--kernel', 'linear', '--penalty', 1.0],
                      compute_target=compute_target, environment=sklearn_env)
param_sampling = RandomParameterSampling({"--kernel": choice('linear', 'rbf'), "--penalty": choice(0.5, 1, 1.5)})
print(json.dumps(param_sampling.space))
hyperdrive_config = HyperDriveConfig(run_config=src, hyperparameter_sampling=param_sampling,
                                     primary_metric_name='Accuracy', primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                                     max_total_runs=4, max_concurrent_runs=2)
hyperdrive_run = experiment.submit(hyperdrive_config)
hyperdrive_run.wait_for_completion(show_output=False)
assert hyperdrive_run.get_status() == "Completed"
best_run = hyperdrive_run.get_best_run_by_primary_metric()
print("BEST", best_run.get_details()['runDefinition']['arguments'])
"""

TRAIN_IRIS = """
import argparse
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--kernel"); p.add_argument("--penalty", type=float)
a = p.parse_args()
Run.get_context().log("Accuracy", a.penalty / 2 + (a.kernel == "rbf"))
"""


def test_the_sklearn_notebook_cells_around_the_sweep_run(tmp_path) -> None:
    folder = tmp_path / "nb"
    (folder / ".azureml").mkdir(parents=True)
    (folder / ".azureml" / "config.json").write_text(
        json.dumps(
            {"subscription_id": "0000", "resource_group": "my-rg", "workspace_name": "my-ws"}
        )
    )
    (folder / "notebook.py").write_text(textwrap.dedent(NOTEBOOK))
    (folder / "train_iris.py").write_text(textwrap.dedent(TRAIN_IRIS))
    env = {k: v for k, v in os.environ.items() if k != "HYPERSWEEP_WORKSPACE"}
    for attempt in (
        "Creating a new compute target",
        "Found existing compute target",
    ):  # run it twice, as people do
        proc = subprocess.run(
            [sys.executable, "-W", "default", "notebook.py"],
            cwd=folder,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout
        assert (
            "Workspace name: my-ws" in out
            and "Azure region: local" in out
            and "Resource group: my-rg" in out
        )
        assert attempt in out and "Succeeded" in out
        assert "hd-cluster AmlCompute Succeeded" in out and "local Local Succeeded" in out
        assert '"--kernel": ["choice", [["linear", "rbf"]]]' in out
        assert "BEST" in out
        assert proc.stderr.count("runs its trials on this machine") == 1
        assert proc.stderr.count("curated environment") == 1


def test_a_compute_target_name_is_resolved_in_the_workspace_at_submission(
    workspace, script_dir
) -> None:
    from hypersweep import Experiment, HyperDriveConfig, RandomParameterSampling, choice

    src = script_dir("train.py", "from hypersweep import Run\nRun.get_context().log('m', 1.0)\n")

    def config():
        return HyperDriveConfig(
            run_config=ScriptRunConfig(
                source_directory=src, script="train.py", compute_target="cpu-cluster"
            ),
            hyperparameter_sampling=RandomParameterSampling({"x": choice(1, 2)}),
            primary_metric_name="m",
            primary_metric_goal="maximize",
            max_total_runs=1,
        )

    with pytest.raises(ComputeTargetException, match="'cpu-cluster' not found"):
        Experiment(workspace, "named").submit(config())
    (failed,) = workspace.store.sweeps("named")
    assert failed["status"] == "Failed" and "cpu-cluster" in failed["error"]
    with pytest.warns(UserWarning, match="runs its trials on this machine"):
        ComputeTarget.create(
            workspace,
            "cpu-cluster",
            AmlCompute.provisioning_configuration(vm_size="X", max_nodes=2),
        )
    with pytest.warns(UserWarning, match="runs its trials on this machine") as record:
        run = Experiment(workspace, "named").submit(config())
    assert len(record) == 1
    run.wait_for_completion()
    assert run.get_status() == "Completed" and run.get_details()["target"] == "cpu-cluster"
    with pytest.raises(InvalidConfigError, match="'compute_target' parameter of ScriptRunConfig"):
        ScriptRunConfig(source_directory=src, script="train.py", compute_target="no spaces allowed")
