"""MLflow as a logging API of every trial, with the real mlflow package: scripts and callables that log
only through MLflow reach their hypersweep runs live, and MLflow's own tools read the same runs back."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hypersweep import (
    BanditPolicy,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    ScriptRunConfig,
    choice,
)
from hypersweep.mlflow import INSTALL_HINT, backend_store_uri

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

pytestmark = pytest.mark.integration

BY_HAND = """
import argparse, os, time
import mlflow
p = argparse.ArgumentParser()
p.add_argument("--quality", type=float)
a = p.parse_args()
open("pid", "w").write(str(os.getpid()))
mlflow.set_experiment("scratch")                  # a script's own experiment: its run is still the trial's
with mlflow.start_run():                          # the trial's run
    with mlflow.start_run(nested=True):           # a nested run stays in MLflow's record only
        mlflow.log_metric("accuracy", 99.0)
    mlflow.log_param("quality", a.quality)
    mlflow.log_params({"optimizer": "adam", "layers": 2})
    mlflow.set_tag("team", "blue")
    mlflow.set_tags({"stage": "dev"})
    mlflow.log_dict({"quality": a.quality}, "config.json")
    mlflow.log_text("hello", "notes/hello.txt")
    with open("weights.bin", "wb") as f:
        f.write(b"0123")
    mlflow.log_artifact("weights.bin", artifact_path="model")
for epoch in range(1, 16):   # outside any start_run: MLflow starts a run, which is the trial's run again
    mlflow.log_metric("accuracy", a.quality * (1 - 0.5 ** epoch), step=epoch)
    mlflow.log_metrics({"loss": 1 - a.quality, "epoch": epoch})
    time.sleep(0.15)
"""


def sequential_config(
    src: Path, script: str, metric: str, qualities: list[float], policy=None
) -> HyperDriveConfig:
    """One trial at a time, in the order given: the good ones set the bar before the bad ones run."""
    return HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script=script),
        hyperparameter_sampling=GridParameterSampling({"--quality": choice(*qualities)}),
        policy=policy,
        primary_metric_name=metric,
        primary_metric_goal="maximize",
        max_total_runs=len(qualities),
        max_concurrent_runs=1,
    )


def children_by_quality(sweep) -> dict[float, object]:
    hps = sweep.get_hyperparameters()
    return {json.loads(hps[c.id])["--quality"]: c for c in sweep.get_children()}


def mlflow_client(workspace) -> MlflowClient:
    return MlflowClient(tracking_uri=backend_store_uri(workspace.path))


def mlflow_run_of(client: MlflowClient, run_id: str):
    found = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string=f"tags.`hypersweep.run_id` = '{run_id}'",
    )
    own = [
        r for r in found if "mlflow.parentRunId" not in r.data.tags
    ]  # nested runs carry the tag too
    assert len(own) == 1, found
    return own[0]


def test_a_script_that_logs_only_with_mlflow_is_seen_live_by_the_policy(
    workspace, script_dir, monkeypatch
) -> None:
    src = script_dir("train.py", BY_HAND)
    policy = BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=2)
    sweep = Experiment(workspace, "mlflow-by-hand").submit(
        sequential_config(src, "train.py", "accuracy", [0.9, 0.2], policy)
    )
    sweep.wait_for_completion(raise_on_error=False)
    runs = children_by_quality(sweep)
    good, bad = runs[0.9], runs[0.2]
    assert good.get_status() == "Completed", good.get_details()
    metrics = good.get_metrics()
    assert metrics["accuracy"] == pytest.approx([0.9 * (1 - 0.5**e) for e in range(1, 16)])
    assert metrics["epoch"] == list(range(1, 16))
    details = bad.get_details()
    assert details["status"] == "Canceled" and details["canceledReason"].startswith("Bandit")
    assert 2 <= len(bad.get_metrics()["accuracy"]) < 15  # stopped while it ran: values arrived live
    assert sweep.get_best_run_by_primary_metric().id == good.id

    tags = good.get_tags()
    assert {
        k: tags[k] for k in ("params.quality", "params.optimizer", "params.layers", "team", "stage")
    } == {
        "params.quality": "0.9",
        "params.optimizer": "adam",
        "params.layers": "2",
        "team": "blue",
        "stage": "dev",
    }
    assert not any(k.startswith("mlflow.") and k != "mlflow.run_id" for k in tags)
    names = good.get_file_names()
    assert {"outputs/config.json", "outputs/notes/hello.txt", "outputs/model/weights.bin"} <= set(
        names
    )

    # MLflow's own tools read the same runs: one MLflow run per hypersweep run, named after it
    client = mlflow_client(workspace)
    record = mlflow_run_of(client, good.id)
    assert record.info.run_id == tags["mlflow.run_id"] and record.info.run_name == good.id
    assert record.info.status == "FINISHED"
    assert record.data.params == {"quality": "0.9", "optimizer": "adam", "layers": "2"}
    assert record.data.tags["team"] == "blue"
    history = client.get_metric_history(record.info.run_id, "accuracy")
    assert [m.value for m in history] == pytest.approx(metrics["accuracy"])
    assert [m.step for m in history] == list(range(1, 16))
    listed = {a.path for a in client.list_artifacts(record.info.run_id)}
    assert {"config.json", "notes", "model"} <= listed
    monkeypatch.setenv("MLFLOW_TRACKING_URI", backend_store_uri(workspace.path))
    frame = mlflow.search_runs(experiment_names=["mlflow-by-hand"])
    trial_runs = (
        frame[frame["tags.mlflow.parentRunId"].isna()]
        if "tags.mlflow.parentRunId" in frame
        else frame
    )
    assert set(trial_runs["tags.hypersweep.run_id"]) == {good.id, bad.id}
    every_experiment = [e.experiment_id for e in client.search_experiments()]
    nested = client.search_runs(
        every_experiment, f"tags.`mlflow.parentRunId` = '{record.info.run_id}'"
    )
    assert [r.data.metrics["accuracy"] for r in nested] == [99.0]
    assert mlflow_run_of(client, bad.id).info.status == "KILLED"  # the sweep stopped it


AUTOLOG = """
import argparse, time
import mlflow, mlflow.sklearn
import numpy as np
from sklearn.linear_model import Ridge
p = argparse.ArgumentParser()
p.add_argument("--quality", type=float)
a = p.parse_args()
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3))
y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=60)
mlflow.sklearn.autolog(log_models=False, log_datasets=False)
for epoch in range(1, 7):   # each fit: one autologged run, which is the trial's run; one interval
    alpha = 0.01 if a.quality > 0.5 else 200.0 * epoch
    Ridge(alpha=alpha).fit(X, y)
    time.sleep(0.3)
"""


def test_sklearn_autolog_reports_each_fit_as_an_interval(workspace, script_dir) -> None:
    src = script_dir("auto.py", AUTOLOG)
    policy = BanditPolicy(evaluation_interval=1, slack_factor=0.05, delay_evaluation=1)
    sweep = Experiment(workspace, "mlflow-autolog").submit(
        sequential_config(src, "auto.py", "training_r2_score", [0.9, 0.1], policy)
    )
    sweep.wait_for_completion(raise_on_error=False)
    runs = children_by_quality(sweep)
    good, bad = runs[0.9], runs[0.1]
    assert good.get_status() == "Completed", good.get_details()
    scores = good.get_metrics()["training_r2_score"]
    assert len(scores) == 6 and min(scores) > 0.9
    assert good.get_tags()["params.alpha"] == "0.01"
    details = bad.get_details()
    assert details["status"] == "Canceled" and details["canceledReason"].startswith("Bandit"), (
        details
    )
    values = bad.get_metrics()["training_r2_score"]
    assert len(values if isinstance(values, list) else [values]) < 6  # stopped while it ran
    client = mlflow_client(workspace)
    record = mlflow_run_of(client, good.id)
    assert record.data.metrics["training_r2_score"] == pytest.approx(scores[-1])
    assert mlflow_run_of(client, bad.id).info.status == "KILLED"  # stopped between two fits


def test_a_script_with_its_own_tracking_uri_keeps_it_and_is_warned(
    workspace, script_dir, tmp_path, monkeypatch
) -> None:
    own = tmp_path / "own-mlruns"
    src = script_dir(
        "own.py",
        f"""
        import mlflow
        mlflow.set_tracking_uri({own.as_uri()!r})
        with mlflow.start_run():
            mlflow.log_metric("accuracy", 0.5)
            mlflow.log_metric("accuracy", 0.6)
    """,
    )
    config = sequential_config(src, "own.py", "accuracy", [1.0])
    config.run_config.environment_variables["MLFLOW_ALLOW_FILE_STORE"] = (
        "true"  # a fast store of its own
    )
    sweep = Experiment(workspace, "mlflow-own").submit(config)
    sweep.wait_for_completion(raise_on_error=False)
    (child,) = sweep.get_children()
    assert child.get_status() == "Completed", child.get_details()
    assert "accuracy" not in child.get_metrics()
    stderr = child.get_logs("stderr")
    assert stderr.count("the sweep sees none of the values logged there") == 1
    assert own.as_uri() in child.get_tags()["hypersweep.warning"]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", own.as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    own_runs = mlflow.search_runs(search_all_experiments=True)
    assert list(own_runs["metrics.accuracy"]) == [0.6]
    assert list(own_runs["tags.hypersweep.run_id"]) == [child.id]  # still says which trial it was


def test_callables_log_with_mlflow_each_to_its_own_run(workspace) -> None:
    started = threading.Barrier(3, timeout=60)

    def trial(cfg):
        q = cfg["q"]
        started.wait()  # all three run at once
        if q == 1:
            mlflow.log_param("q", q)  # outside any start_run
            for i in range(5):
                mlflow.log_metric("score", q * 10 + i)
        else:
            with mlflow.start_run():
                mlflow.log_param("q", q)
                mlflow.set_tag("who", f"trial-{q}")
                mlflow.log_text(f"q={q}", "q.txt")
                for i in range(5):
                    mlflow.log_metric("score", q * 10 + i, step=i)

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=GridParameterSampling({"q": choice(1, 2, 3)}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=3,
        max_concurrent_runs=3,
    )
    sweep = Experiment(workspace, "mlflow-callables").submit(config)
    sweep.wait_for_completion(raise_on_error=False)
    client = mlflow_client(workspace)
    hps = sweep.get_hyperparameters()
    seen = set()
    for child in sweep.get_children():
        q = json.loads(hps[child.id])["q"]
        assert child.get_status() == "Completed", child.get_details()
        assert child.get_metrics()["score"] == [q * 10 + i for i in range(5)]
        assert child.get_tags()["params.q"] == str(q)
        record = mlflow_run_of(client, child.id)
        assert record.info.status == "FINISHED" and record.data.params == {"q": str(q)}
        seen.add(record.info.run_id)
        if q != 1:
            assert child.get_tags()["who"] == f"trial-{q}"
            assert "outputs/q.txt" in child.get_file_names()
    assert len(seen) == 3
    assert mlflow.active_run() is None  # nothing is left active in this thread


def test_a_callable_logging_with_mlflow_is_stopped_at_its_next_log(workspace) -> None:
    reached = {}

    def trial(cfg):
        with mlflow.start_run():
            for epoch in range(1, 21):
                reached[cfg["q"]] = epoch
                mlflow.log_metric("score", cfg["q"] * epoch)
                time.sleep(0.05)

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=GridParameterSampling({"q": choice(1.0, 0.1)}),
        policy=BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=2),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=2,
        max_concurrent_runs=1,
    )
    sweep = Experiment(workspace, "mlflow-callable-stop").submit(config)
    sweep.wait_for_completion(raise_on_error=False)
    by_q = {json.loads(sweep.get_hyperparameters()[c.id])["q"]: c for c in sweep.get_children()}
    assert by_q[1.0].get_status() == "Completed" and reached[1.0] == 20
    details = by_q[0.1].get_details()
    assert details["status"] == "Canceled" and details["canceledReason"].startswith("Bandit")
    assert reached[0.1] < 20
    record = mlflow_run_of(mlflow_client(workspace), by_q[0.1].id)
    assert record.info.status == "KILLED"
    assert mlflow.active_run() is None


def test_sklearn_autolog_in_callables_reports_each_fit(workspace) -> None:
    pytest.importorskip("sklearn")
    import mlflow.sklearn
    import numpy as np
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=60)

    fits = {}

    def trial(cfg):
        for n in range(
            20, 61, 10
        ):  # more data at each fit; the same params (an MLflow param never changes)
            fits[cfg["alpha"]] = n
            Ridge(alpha=cfg["alpha"]).fit(X[:n], y[:n])
            time.sleep(0.2)

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=GridParameterSampling({"alpha": choice(0.01, 500.0)}),
        policy=BanditPolicy(evaluation_interval=1, slack_factor=0.05, delay_evaluation=1),
        primary_metric_name="training_r2_score",
        primary_metric_goal="maximize",
        max_total_runs=2,
        max_concurrent_runs=1,
    )
    mlflow.sklearn.autolog(log_models=False, log_datasets=False, silent=True)
    try:
        sweep = Experiment(workspace, "mlflow-autolog-callables").submit(config)
        sweep.wait_for_completion(raise_on_error=False)
    finally:
        mlflow.sklearn.autolog(disable=True)
    by_alpha = {
        json.loads(sweep.get_hyperparameters()[c.id])["alpha"]: c for c in sweep.get_children()
    }
    good, bad = by_alpha[0.01], by_alpha[500.0]
    assert good.get_status() == "Completed", good.get_details()
    assert len(good.get_metrics()["training_r2_score"]) == 5 and fits[0.01] == 60
    assert good.get_tags()["params.alpha"] == "0.01"
    details = bad.get_details()
    assert details["status"] == "Canceled" and details["canceledReason"].startswith("Bandit"), (
        details
    )
    assert fits[500.0] < 60  # interrupted: autolog lets the stop through
    client = mlflow_client(workspace)
    assert mlflow_run_of(client, good.id).info.status == "FINISHED"
    assert mlflow_run_of(client, bad.id).info.status == "KILLED"
    assert mlflow.active_run() is None


def test_a_script_without_mlflow_installed_fails_with_the_hint(workspace, script_dir) -> None:
    src = script_dir(
        "nomlflow.py",
        """
        import sys
        sys.path = [p for p in sys.path if "-packages" not in p]   # as if mlflow were not installed
        import mlflow
    """,
    )
    sweep = Experiment(workspace, "no-mlflow").submit(
        sequential_config(src, "nomlflow.py", "accuracy", [1.0])
    )
    sweep.wait_for_completion(raise_on_error=False)
    (child,) = sweep.get_children()
    details = child.get_details()
    assert details["status"] == "Failed"
    assert "No module named 'mlflow'" in details["error"]["message"]
    assert details["error"]["message"].endswith(INSTALL_HINT)


def test_a_script_whose_python_lacks_hypersweep_fails_with_the_hint(workspace, script_dir) -> None:
    from hypersweep.mlflow import NOT_IN_TRIAL_PYTHON_HINT

    src = script_dir(
        "alone.py",
        """
        import importlib.metadata as md
        real = md.entry_points
        md.entry_points = lambda **kw: [e for e in real(**kw) if e.value.split(".")[0] != "hypersweep"]
        import mlflow                     # as if hypersweep were not installed beside it
        mlflow.log_metric("accuracy", 1.0)
    """,
    )
    sweep = Experiment(workspace, "mlflow-alone").submit(
        sequential_config(src, "alone.py", "accuracy", [1.0])
    )
    sweep.wait_for_completion(raise_on_error=False)
    (child,) = sweep.get_children()
    message = child.get_details()["error"]["message"]
    assert message.endswith(NOT_IN_TRIAL_PYTHON_HINT), message


def test_importing_hypersweep_does_not_import_mlflow() -> None:
    code = (
        "import sys\n"
        "from hypersweep import Run\n"
        "import hypersweep.executors.threads, hypersweep.executors.local, hypersweep._launch\n"
        "assert 'mlflow' not in sys.modules and 'sqlalchemy' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_mlflow_digits_example_is_a_sweep_file_of_today() -> None:
    from hypersweep.sweepfile import load_sweep_file

    examples = Path(__file__).resolve().parents[1] / "examples" / "digits"
    spec = load_sweep_file(examples / "sweep_mlflow.yml")
    assert spec.experiment_name == "digits-mlp-mlflow"
    assert spec.config.primary_metric_name == "accuracy"
    script = (examples / "train_mlflow.py").read_text()
    assert (
        "import mlflow" in script
        and "from hypersweep" not in script
        and "import hypersweep" not in script
    )


@pytest.mark.slow
def test_the_mlflow_digits_example_runs(workspace) -> None:
    pytest.importorskip("sklearn")
    from hypersweep.sweepfile import load_sweep_file

    spec = load_sweep_file(
        Path(__file__).resolve().parents[1] / "examples" / "digits" / "sweep_mlflow.yml"
    )
    spec.config.max_total_runs = 2
    sweep = Experiment(workspace, spec.experiment_name).submit(spec.config)
    sweep.wait_for_completion()
    best = sweep.get_best_run_by_primary_metric()
    assert best.get_status() == "Completed"  # with two runs, median stopping keeps the best one
    assert len(best.get_metrics()["accuracy"]) == 20 and max(best.get_metrics()["accuracy"]) > 0.8
    assert {"params.hidden", "params.learning_rate"} <= set(best.get_tags())
    assert "outputs/model/model.joblib" in best.get_file_names()


def test_a_stopped_scripts_runs_left_running_end_killed(tmp_path) -> None:
    # what the trial's SIGTERM handler could not write (the script held MLflow's database) the
    # executor writes once the process is gone; other trials' runs are left as they are
    from hypersweep.mlflow import RUN_ID_TAG, backend_store_uri, end_stopped_runs

    (tmp_path / ".hypersweep").mkdir()
    client = MlflowClient(tracking_uri=backend_store_uri(tmp_path))
    exp = client.create_experiment("e")
    mine = client.create_run(exp, tags={RUN_ID_TAG: "HD_x_1"})
    other = client.create_run(exp, tags={RUN_ID_TAG: "HD_x_2"})
    end_stopped_runs(tmp_path, "HD_x_1")
    assert client.get_run(mine.info.run_id).info.status == "KILLED"
    assert client.get_run(mine.info.run_id).info.end_time is not None
    assert client.get_run(other.info.run_id).info.status == "RUNNING"
    end_stopped_runs(tmp_path / "no-such-workspace", "HD_x_2")  # no database: nothing to do
