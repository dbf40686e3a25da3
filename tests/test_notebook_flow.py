"""A HyperDrive notebook's cells, from ``Workspace.from_config()`` to ``register_model``, with only
hypersweep imports (Microsoft's scikit-learn iris notebook, its import lines changed): the workspace
details, the compute cluster, the environment, a single run, the sweep, the best run and its model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TRAIN_IRIS = """
import argparse, os
import joblib
import numpy as np
from sklearn import datasets, svm
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split

from hypersweep import Run

run = Run.get_context()
parser = argparse.ArgumentParser()
parser.add_argument("--kernel", type=str, default="linear")
parser.add_argument("--penalty", type=float, default=1.0)
args = parser.parse_args()
run.log("Kernel type", str(args.kernel))
run.log("Penalty", float(args.penalty))

iris = datasets.load_iris()
x_train, x_test, y_train, y_test = train_test_split(iris.data, iris.target, test_size=0.3, random_state=0)
model = svm.SVC(kernel=args.kernel, C=args.penalty).fit(x_train, y_train)
accuracy = model.score(x_test, y_test)
print("Accuracy of SVM classifier on test set: {:.2f}".format(accuracy))
run.log("Accuracy", float(accuracy))
cm = confusion_matrix(y_test, model.predict(x_test))
run.log_confusion_matrix("Confusion matrix", {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
                                              "data": {"class_labels": [str(c) for c in iris.target_names],
                                                       "matrix": cm.tolist()}})

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.plot([1, 2, 3], [accuracy, accuracy, accuracy])
run.log_image("Accuracy plot", plot=plt)

os.makedirs("outputs", exist_ok=True)
joblib.dump(model, "outputs/model.joblib")
"""

NOTEBOOK = """
# -- imports: the only lines changed from the Azure notebook
from hypersweep import (AmlCompute, BanditPolicy, ComputeTarget, ComputeTargetException, CondaDependencies,
                        Environment, Experiment, HyperDriveConfig, Model, PrimaryMetricGoal,
                        RandomParameterSampling, ScriptRunConfig, Workspace, choice)
import json

# -- workspace and experiment
ws = Workspace.from_config()
print("Workspace name: " + ws.name,
      "Azure region: " + ws.location,
      "Subscription id: " + ws.subscription_id,
      "Resource group: " + ws.resource_group, sep="\\n")
experiment = Experiment(workspace=ws, name="train_iris")

# -- the compute cluster
cluster_name = "hd-cluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print("Found existing compute target")
except ComputeTargetException:
    compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
compute_target.wait_for_completion(show_output=True)

# -- the environment: packages this Python has, so trials run here
sklearn_env = Environment("sklearn-env")
sklearn_env.python.conda_dependencies = CondaDependencies.create(pip_packages=["scikit-learn", "joblib"])
sklearn_env.register(ws)

# -- a single run first
src = ScriptRunConfig(source_directory="training", script="train_iris.py",
                      arguments=["--kernel", "linear", "--penalty", 1.0],
                      compute_target=compute_target, environment=sklearn_env)
run = experiment.submit(src)
run.wait_for_completion(show_output=True)
print("single", run.get_status(), run.get_metrics()["Accuracy"])
print("single files", run.get_file_names())
print("portal", run.get_portal_url())

# -- the sweep
param_sampling = RandomParameterSampling({
    "--kernel": choice("linear", "rbf", "poly", "sigmoid"),
    "--penalty": choice(0.5, 1, 1.5),
}, properties={"seed": 1})
early_termination_policy = BanditPolicy(evaluation_interval=2, slack_factor=0.1)
hyperdrive_config = HyperDriveConfig(run_config=src, hyperparameter_sampling=param_sampling,
                                     policy=early_termination_policy, primary_metric_name="Accuracy",
                                     primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                                     max_total_runs=2, max_concurrent_runs=2)
hyperdrive_run = experiment.submit(hyperdrive_config)
hyperdrive_run.wait_for_completion(show_output=True)
assert hyperdrive_run.get_status() == "Completed"

# -- the best run, its details, and the model
best_run = hyperdrive_run.get_best_run_by_primary_metric()
print(best_run.get_details()["runDefinition"]["arguments"])
print(best_run.get_file_names())
model = best_run.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib",
                                tags={"area": "iris", "type": "classification"},
                                properties={"Accuracy": best_run.get_metrics()["Accuracy"]})
print(model.name, model.id, model.version, sep="\\t")
print("RESULT " + json.dumps({"single": run.id, "sweep": hyperdrive_run.id, "best": best_run.id,
                              "model": [model.name, model.version, model.run_id]}))
"""


def test_the_iris_notebook_runs_from_from_config_to_register_model(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "train_iris.py").write_text(textwrap.dedent(TRAIN_IRIS))
    (tmp_path / "notebook.py").write_text(textwrap.dedent(NOTEBOOK))
    imports = [line for line in NOTEBOOK.splitlines() if line.startswith(("import ", "from "))]
    assert imports == [
        "from hypersweep import (AmlCompute, BanditPolicy, ComputeTarget, ComputeTargetException, "
        "CondaDependencies,",
        "import json",
    ]
    done = subprocess.run(
        [sys.executable, "notebook.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "Azure region: local" in out
    assert (
        "Found existing compute target" not in out
        and "runs its trials on this machine" in done.stderr
    )
    assert "Accuracy of SVM classifier on test set" in out  # the single run's output, streamed
    result = json.loads(out.split("RESULT ", 1)[1])
    assert result["model"] == ["sklearn-iris", 1, result["best"]]
    assert "outputs/images/Accuracy_plot.png" in out and "outputs/model.joblib" in out
    assert f"portal http://127.0.0.1:8765/runs/{result['single']}" in out
    # read back as any later cell (or another process) would
    from hypersweep import Model, Workspace

    ws = Workspace(tmp_path)
    model = Model(ws, "sklearn-iris")
    assert (
        model.tags == {"area": "iris", "type": "classification"}
        and float(model.properties["Accuracy"]) > 0.5
    )
    assert Path(model.download(str(tmp_path / "dl"))).stat().st_size > 0
    cli = subprocess.run(
        [sys.executable, "-m", "hypersweep", "ls"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result["single"] in cli.stdout and result["sweep"] in cli.stdout
