"""The SDK v2 Python API (hypersweep.v2): the flow from MLClient to the best trial, the job operations,
dumping a sweep job to YAML and back, the notebook flow, and the bad input of every new class."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from hypersweep import Workspace
from hypersweep.errors import InvalidConfigError
from hypersweep.sweepfile import load_sweep_file
from hypersweep.v2 import DefaultAzureCredential, Input, MLClient, Output, command, dump_yaml
from hypersweep.v2.sweep import (
    BanditPolicy,
    BayesianSamplingAlgorithm,
    Choice,
    GridSamplingAlgorithm,
    LogNormal,
    LogUniform,
    MedianStoppingPolicy,
    Normal,
    QLogNormal,
    QLogUniform,
    QNormal,
    QUniform,
    Randint,
    RandomSamplingAlgorithm,
    TruncationSelectionPolicy,
    Uniform,
)

HERE = Path(__file__).parent
DATA = HERE.parent / "data" / "azureml_v2"

TRAIN = """
import argparse, os, time
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--data"); p.add_argument("--lr", type=float); p.add_argument("--kind"); p.add_argument("--out")
p.add_argument("--sleep", type=float, default=0)
a = p.parse_args()
run = Run.get_context()
text = open(a.data).read()
for step in range(3):
    run.log("accuracy", a.lr * (step + 1) + (0.5 if a.kind == "b" else 0))
    time.sleep(a.sleep)
open(os.path.join(a.out, "model.txt"), "w").write(text + a.kind)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(textwrap.dedent(TRAIN))
    (tmp_path / "data.txt").write_text("rows")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def make_job(sleep: float = 0.0) -> object:
    job = command(
        code="./src",
        command="python train.py --data ${{inputs.data}} --lr ${{inputs.lr}} --kind ${{inputs.kind}} "
        f"--out ${{{{outputs.model}}}} --sleep {sleep}",
        inputs={"data": Input(type="uri_file", path="./data.txt"), "lr": 0.1, "kind": "a"},
        outputs={"model": Output(type="uri_folder")},
        environment="azureml:AzureML-sklearn-1.5@latest",
        compute="azureml:cpu-cluster",
        experiment_name="v2-flow",
    )
    return job(lr=Uniform(min_value=0.1, max_value=0.9), kind=Choice(values=["a", "b"]))


def quiet_submit(client: MLClient, job: object) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return client.create_or_update(job)


def test_the_v2_flow_from_mlclient_to_the_best_trial(project: Path) -> None:
    client = MLClient(
        DefaultAzureCredential(), "<SUBSCRIPTION_ID>", "<RESOURCE_GROUP>", "<WORKSPACE>"
    )
    sweep_job = make_job().sweep(
        compute="azureml:cpu-cluster",
        sampling_algorithm=RandomSamplingAlgorithm(seed=3),
        primary_metric="accuracy",
        goal="Maximize",
    )
    sweep_job.set_limits(
        max_total_trials=4, max_concurrent_trials=2, timeout=600, trial_timeout=120
    )
    sweep_job.early_termination = BanditPolicy(
        slack_factor=0.5, evaluation_interval=1, delay_evaluation=10
    )
    returned = quiet_submit(client, sweep_job)
    assert returned.name.startswith("HD_")
    assert returned.studio_url == f"http://127.0.0.1:8765/sweeps/{returned.name}"
    client.jobs.stream(returned.name)
    assert returned.status == "Completed"
    best_id = returned.properties["best_child_run_id"]
    ws = Workspace(project)
    sweep = ws.get_run(returned.name)  # a job's name is a hypersweep run id
    assert sweep.get_best_run_by_primary_metric().id == best_id
    children = client.jobs.list(parent_job_name=returned.name)
    assert len(children) == 4 and all(c.parent_job_name == returned.name for c in children)
    got = client.jobs.get(best_id)
    assert got.status == "Completed" and got.studio_url.endswith(f"/runs/{best_id}")
    assert client.jobs.get(returned.name).properties["best_child_run_id"] == best_id
    assert Path(returned.outputs["model"].path, "model.txt").read_text().startswith("rows")
    client.jobs.download(returned.name, download_path="dl", output_name="model")
    assert (project / "dl" / "named-outputs" / "model" / "model.txt").is_file()
    client.jobs.download(best_id, download_path="all", all=True)
    assert (project / "all" / "artifacts" / "logs" / "stdout.txt").is_file()
    with pytest.raises(
        InvalidConfigError, match="'output_name' parameter of ml_client.jobs.download"
    ):
        client.jobs.download(best_id, download_path="x", output_name="nope")


def test_begin_cancel_stops_a_running_sweep(project: Path) -> None:
    client = MLClient.from_config(DefaultAzureCredential())
    sweep_job = make_job(sleep=20).sweep(primary_metric="accuracy", goal="maximize")
    sweep_job.set_limits(max_total_trials=2, max_concurrent_trials=2)
    returned = quiet_submit(client, sweep_job)
    poller = client.jobs.begin_cancel(returned.name)
    poller.result()
    assert poller.done() and returned.status == "Canceled"


def test_a_command_job_runs_as_one_trial(project: Path) -> None:
    client = MLClient(workspace_path=project / "ws")
    job = command(
        code="./src",
        command="python train.py --data ${{inputs.data}} --lr ${{inputs.lr}} "
        "--kind ${{inputs.kind}} --out ${{outputs.model}}",
        inputs={"data": Input(type="uri_file", path="./data.txt"), "lr": 0.3, "kind": "b"},
        outputs={"model": Output()},
    )
    returned = quiet_submit(client, job)
    client.jobs.stream(returned.name)
    (trial,) = client.jobs.list(parent_job_name=returned.name)
    assert trial.status == "Completed"
    details = Workspace(project / "ws").get_run(trial.name).get_details()
    assert details["properties"]["hyperparameters"] == {"lr": 0.3, "kind": "b"}


def test_a_sweep_job_dumps_to_a_yaml_that_hypersweep_run_accepts_and_round_trips(
    project: Path,
) -> None:
    sweep_job = make_job().sweep(
        sampling_algorithm=RandomSamplingAlgorithm(seed=1, rule="sobol"),
        primary_metric="accuracy",
        goal="Maximize",
        early_termination_policy=MedianStoppingPolicy(delay_evaluation=2),
    )
    sweep_job.set_limits(max_total_trials=2, max_concurrent_trials=2)
    (project / "jobs").mkdir()
    sweep_job.dump(project / "jobs" / "sweep.yml")
    dump_yaml(sweep_job, project / "again.yml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_file = load_sweep_file(project / "jobs" / "sweep.yml").config.describe()
        from_other = load_sweep_file(project / "again.yml").config.describe()
        from hypersweep.sweepfile import sweep_from_data

        direct = sweep_from_data(sweep_job._to_data(), project / "x.yml").config.describe()
    assert from_file == from_other == direct  # one description, whichever way it was written
    text = (project / "jobs" / "sweep.yml").read_text()
    assert "${{search_space.lr}}" in text and "code: ../src" in text and "path: ../data.txt" in text
    result = subprocess.run(
        [sys.executable, "-m", "hypersweep", "run", "jobs/sweep.yml", "-q"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    assert "Best run" in result.stdout


def test_nested_choice_in_v2(project: Path) -> None:
    (project / "src" / "echo.py").write_text(
        "import json, sys\nfrom hypersweep import Run\n"
        "json.loads(sys.argv[2]); Run.get_context().log('s', 1)\n"
    )
    job = command(
        code="./src", command="python echo.py --model ${{inputs.model}}", inputs={"model": "x"}
    )
    sweep_job = job(
        model=Choice(
            [{"model": "svm", "C": LogUniform(-3, 3)}, {"model": "rf", "n": Choice([50, 100])}]
        )
    ).sweep(primary_metric="s", goal="maximize")
    sweep_job.set_limits(max_total_trials=3)
    client = MLClient(workspace_path=project)
    returned = quiet_submit(client, sweep_job)
    client.jobs.stream(returned.name)
    assert returned.status == "Completed"


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def iris_url(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("sklearn")
    from conftest import write_iris_csv

    root = tmp_path / "served"
    root.mkdir()
    write_iris_csv(root / "iris.csv")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a, **k: _Files(*a, directory=str(root), **k)
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/iris.csv"
    finally:
        server.shutdown()
        server.server_close()


def test_the_sdk_v2_notebook_flow_runs(tmp_path: Path, iris_url: str) -> None:
    folder = tmp_path / "notebook"
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, str(HERE / "v2_notebook_flow.py"), iris_url, str(DATA / "src")],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1].split()
    assert last[0] == "best" and last[2].startswith(last[1]) and last[3] == "Completed"
    ws = Workspace(folder)
    assert [row["status"] for row in ws.store.sweeps()] == ["Completed"] * 3


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Choice(values=[]), "'values' parameter of Choice must be a non-empty list"),
        (lambda: Choice(values="abc"), "'values' parameter of Choice"),
        (
            lambda: Choice(values=[{"a": 1}, {}]),
            r"'values\[1\]' parameter of choice must be a non-empty branch",
        ),
        (lambda: Uniform(min_value=1, max_value=0), "'max_value' parameter of Uniform"),
        (lambda: Uniform(min_value="a", max_value=1), "'min_value' parameter of Uniform"),
        (lambda: LogUniform(min_value=None, max_value=1), "'min_value' parameter of LogUniform"),
        (lambda: QUniform(min_value=0, max_value=1, q=0), "'q' parameter of QUniform"),
        (lambda: QLogUniform(min_value=0, max_value=1, q=-1), "'q' parameter of QLogUniform"),
        (lambda: Normal(mu=0, sigma=-1), "'sigma' parameter of Normal"),
        (lambda: LogNormal(mu="x", sigma=1), "'mu' parameter of LogNormal"),
        (lambda: QNormal(mu=0, sigma=1, q=None), "'q' parameter of QNormal"),
        (lambda: QLogNormal(mu=0, sigma=1, q="1"), "'q' parameter of QLogNormal"),
        (lambda: Randint(upper=0), "'upper' parameter of Randint"),
        (lambda: BanditPolicy(), "'slack_factor' parameter of BanditPolicy"),
        (
            lambda: BanditPolicy(slack_factor=0.1, slack_amount=1),
            "'slack_factor' parameter of BanditPolicy",
        ),
        (
            lambda: BanditPolicy(slack_factor=0.1, delay_evaluation=-1),
            "'delay_evaluation' parameter of BanditPolicy",
        ),
        (
            lambda: MedianStoppingPolicy(evaluation_interval=-1),
            "'evaluation_interval' parameter of Median",
        ),
        (
            lambda: TruncationSelectionPolicy(truncation_percentage=0),
            "'truncation_percentage' parameter of Trunc",
        ),
        (
            lambda: TruncationSelectionPolicy(truncation_percentage=10, exclude_finished_jobs="y"),
            "'exclude_finished_jobs' parameter",
        ),
        (
            lambda: RandomSamplingAlgorithm(rule="halton"),
            "'rule' parameter of RandomSamplingAlgorithm",
        ),
        (lambda: RandomSamplingAlgorithm(seed=-1), "'seed' parameter of RandomSamplingAlgorithm"),
        (
            lambda: RandomSamplingAlgorithm(logbase=0),
            "'logbase' parameter of RandomSamplingAlgorithm",
        ),
        (lambda: Input(type="blob"), "'type' parameter of Input must be one of"),
        (lambda: Output(type="uri_fil"), "'type' parameter of Output must be one of"),
        (lambda: command(command=""), "'command' parameter of command"),
        (lambda: command(command="python t.py", inputs=[1]), "'inputs' parameter of command"),
        (
            lambda: command(command="python t.py", outputs={"m": "folder"}),
            "'outputs' parameter of command",
        ),
        (lambda: command(command="python t.py", comptue="x"), "'comptue' parameter of command"),
        (
            lambda: command(command="python t.py --a ${{inputs.a}}", inputs={"a": 1})(
                b=Uniform(0, 1)
            ),
            "'b' parameter of the command job must be one of its inputs",
        ),
        (
            lambda: command(command="python t.py --a ${{inputs.a}}")(a=Uniform(0, 1)).sweep(
                goal="best", primary_metric="m"
            ),
            "'goal' parameter of Objective",
        ),
        (
            lambda: command(command="python t.py --a ${{inputs.a}}")(a=Uniform(0, 1)).sweep(
                goal="max", primary_metric="m"
            ),
            "'goal' parameter of Objective",
        ),
        (
            lambda: command(command="python t.py --a ${{inputs.a}}")(a=Uniform(0, 1)).sweep(
                goal="maximize", primary_metric=""
            ),
            "'primary_metric' parameter of Objective",
        ),
        (
            lambda: command(command="python t.py --a ${{inputs.a}}")(a=Uniform(0, 1)).sweep(
                goal="maximize", primary_metric="m", max_total_trials=0
            ),
            "'max_total_trials' parameter of SweepJob",
        ),
        (
            lambda: command(command="python t.py --a ${{inputs.a}}")(a=Uniform(0, 1)).sweep(
                goal="maximize", primary_metric="m", timeout=-5
            ),
            "'timeout' parameter of SweepJob.set_limits",
        ),
        (lambda: MLClient(subscription_id=5), "'subscription_id' parameter of MLClient"),
    ],
)
def test_bad_input_to_the_v2_classes_names_the_parameter(make: object, message: str) -> None:
    import re

    with pytest.raises(InvalidConfigError) as info:
        make()  # type: ignore[operator]
    assert re.search(message, str(info.value)), str(info.value)
    assert "Got " in str(info.value)


def test_bad_jobs_given_to_the_client(project: Path) -> None:
    client = MLClient(workspace_path=project)
    with pytest.raises(InvalidConfigError, match="'job' parameter of MLClient.create_or_update"):
        client.create_or_update("job.yml")
    bad_policy = make_job().sweep(primary_metric="accuracy", goal="maximize")
    bad_policy.early_termination = "median"
    with pytest.raises(InvalidConfigError, match="'early_termination' parameter of SweepJob"):
        client.create_or_update(bad_policy)
    cloud = command(
        code="./src",
        command="python train.py --data ${{inputs.data}} --lr ${{inputs.lr}}",
        inputs={"data": Input(type="uri_file", path="wasbs://c@a.blob.core.windows.net/iris.csv")},
    )
    with pytest.raises(InvalidConfigError, match=r"inputs.data.*Input\(path='./iris.csv'\)"):
        client.create_or_update(cloud(lr=Uniform(0, 1)).sweep(primary_metric="a", goal="maximize"))
    assert not (project / ".hypersweep").exists()
    for algorithm in (
        GridSamplingAlgorithm(),
        "grid",
    ):  # a grid needs choices; the uniform lr refuses it
        job = make_job().sweep(
            primary_metric="accuracy", goal="maximize", sampling_algorithm=algorithm
        )
        with pytest.raises(InvalidConfigError, match="supports only choice"):
            quiet_submit(client, job)
    assert "bayesian" in repr(BayesianSamplingAlgorithm())
