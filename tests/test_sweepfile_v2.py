"""Azure ML v2 sweep-job YAML as published: --set, --compute, cluster names, inputs (local, https, cloud),
outputs, the accepted v2 keys and their warnings, pipeline jobs, and files in the published layout."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hypersweep import Workspace
from hypersweep.errors import InvalidConfigError
from hypersweep.sweepfile import apply_overrides, load_sweep_file

DATA = Path(__file__).parent / "data" / "azureml_v2"

TRAIN = """
import argparse, json, os
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--data"); p.add_argument("--x", type=float); p.add_argument("--model-dir")
a = p.parse_args()
run = Run.get_context()
assert os.path.isdir(a.model_dir), "the output folder exists before the run starts"
with open(os.path.join(a.model_dir, "model.txt"), "w") as f:
    f.write(open(a.data).read())
run.log("score", a.x)
"""

BASE = """
type: sweep
experiment_name: v2-test
trial:
  code: src
  command: python train.py --data ${{inputs.data}} --x ${{search_space.x}} --model-dir ${{outputs.model}}
inputs:
  data: {type: uri_file, path: data.txt}
outputs:
  model: {type: uri_folder}
search_space:
  x: {type: uniform, min_value: 0, max_value: 1}
sampling_algorithm: {type: random, seed: 1}
objective: {primary_metric: score, goal: maximize}
limits: {max_total_trials: 2, max_concurrent_trials: 2}
"""


def hypersweep(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hypersweep", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(textwrap.dedent(TRAIN))
    (tmp_path / "data.txt").write_text("hello")
    (tmp_path / "sweep.yml").write_text(textwrap.dedent(BASE))
    return tmp_path


def load(path: Path, **kwargs: object) -> object:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = load_sweep_file(path, **kwargs)  # type: ignore[arg-type]
    return spec, [str(w.message) for w in caught]


def edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    path.write_text(yaml.safe_dump(data))


# -- --set -----------------------------------------------------------------------------------------


def test_set_overrides_fields_before_validation() -> None:
    data = {
        "limits": {"max_total_trials": 20},
        "inputs": {"csv": {"path": "wasbs://x/y.csv"}},
        "search_space": {"k": {"type": "choice", "values": ["a", "b"]}},
    }
    out = apply_overrides(
        data,
        [
            "inputs.csv.path=./iris.csv",
            "limits.max_total_trials=6",
            "limits.timeout=1.5",
            "search_space.k.values.1=c",
            "limits.new_key=true",
            "description=Note: a colon",
            "tags={a: 1}",
        ],
    )
    assert out["description"] == "Note: a colon" and out["tags"] == {"a": 1}
    assert out["inputs"]["csv"]["path"] == "./iris.csv"
    assert out["limits"] == {"max_total_trials": 6, "timeout": 1.5, "new_key": True}
    assert out["search_space"]["k"]["values"] == ["a", "c"]
    assert data["limits"]["max_total_trials"] == 20  # the parsed file itself is not changed


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("limits.max_total_trials", "KEY.PATH=VALUE"),
        ("=3", "dotted path"),
        ("limits..x=3", "dotted path"),
        ("limits.max_total_trials=", "a value after '='"),
        ("limits.max_total_trials=[1, 2", "valid YAML"),
        ("inputs.iris.path=./x", "inputs.iris does not exist; the keys at inputs are: csv"),
        ("nope.x=1", "the keys at the top level are: limits, inputs"),
        ("limits.max_total_trials.x=1", "is not a mapping"),
        ("inputs.csv.path.deeper=1", "is not a mapping"),
    ],
)
def test_set_rejects_malformed_or_missing_paths(item: str, message: str) -> None:
    data = {"limits": {"max_total_trials": 20}, "inputs": {"csv": {"path": "a"}}}
    with pytest.raises(InvalidConfigError, match="'--set' parameter of hypersweep run") as info:
        apply_overrides(data, [item])
    assert message in str(info.value)
    assert repr(item) in str(info.value)  # the value received


def test_run_with_set_and_a_missing_path_exits_2_and_writes_nothing(project: Path) -> None:
    result = hypersweep("run", "sweep.yml", "-q", "--set", "inputs.dat.path=./x", cwd=project)
    assert result.returncode == 2, result.stderr
    assert "the keys at inputs are: data" in result.stderr
    assert not (project / ".hypersweep").exists()


def test_run_with_set_and_compute_flags(project: Path) -> None:
    edit(project / "sweep.yml", compute="azureml:cpu-cluster")
    result = hypersweep(
        "run",
        "sweep.yml",
        "-q",
        "--set",
        "limits.max_total_trials=1",
        "--set",
        "sampling_algorithm.seed=5",
        "--compute",
        "local",
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "azureml:cpu-cluster" not in result.stderr
    )  # --compute chose the target: no warning about the file's
    ws = Workspace(project)
    (sweep,) = ws.store.sweeps()
    assert (
        sweep["max_total_runs"] == 1 and sweep.config["generator_config"]["properties"]["seed"] == 5
    )
    bad = hypersweep("run", "sweep.yml", "-q", "--compute", "cpu-cluster", cwd=project)
    assert bad.returncode == 2
    assert (
        "The '--compute' parameter of hypersweep run must be 'local', 'ray' or 'ray://HOST:PORT'"
        in bad.stderr
    )


# -- compute and the accepted v2 keys --------------------------------------------------------------


def test_an_azure_ml_cluster_runs_locally_with_one_warning(project: Path) -> None:
    edit(project / "sweep.yml", compute="azureml:cpu-cluster")
    spec, messages = load(project / "sweep.yml")
    assert spec.config.run_config.compute_target == "local"  # type: ignore[attr-defined]
    assert len([m for m in messages if m.startswith("compute:")]) == 1
    assert "azureml:cpu-cluster" in messages[0] and "--compute" in messages[0]
    edit(project / "sweep.yml", compute=3)
    with pytest.raises(
        InvalidConfigError, match="'compute' parameter of the sweep file.*Got 3 instead"
    ):
        load_sweep_file(project / "sweep.yml")


def test_accepted_v2_keys_warn_once_each_saying_what_happens_locally(project: Path) -> None:
    edit(
        project / "sweep.yml",
        trial__environment="azureml:AzureML-sklearn-1.5@latest",
        trial__distribution={"type": "pytorch", "process_count_per_instance": 2},
        trial__resources={
            "instance_type": "Standard_DS3_v2",
            "instance_count": 2,
            "shm_size": "2g",
        },
        identity={"type": "user_identity"},
        queue_settings={"job_tier": "spot"},
        services={"my_jupyter": {"type": "jupyter_lab"}},
        properties={"owner": "me"},
        description="A sweep.",
        display_name="my-sweep",
        sampling_algorithm={"type": "random", "seed": 1, "logbase": "e"},
        inputs={"data": {"type": "uri_file", "path": "data.txt", "mode": "ro_mount"}},
    )
    spec, messages = load(project / "sweep.yml")
    expected = {
        "trial.environment": "with this Python",
        "trial.distribution": "one process",
        "trial.resources.instance_type": "this machine",
        "trial.resources.instance_count": "one process",
        "trial.resources.shm_size": "shared memory",
        "identity:": "as you",
        "queue_settings:": "no job queue",
        "services:": "no services",
        "properties:": "tags",
        "description:": "tag",
        "display_name:": "tag",
        "sampling_algorithm.logbase": "base e",
        "inputs.data.mode": "read in place",
    }
    for key, what in expected.items():
        matching = [m for m in messages if m.startswith(key)]
        assert len(matching) == 1, (key, messages)
        assert what in matching[0]
    assert len(messages) == len(expected)
    assert spec.tags == {"owner": "me", "description": "A sweep.", "display_name": "my-sweep"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"trial__environmnt": "x"},
            "trial.environmnt is not a known key. Did you mean 'environment'",
        ),
        ({"queue_setings": {}}, "queue_setings is not a known key. Did you mean 'queue_settings'"),
        ({"trial__resources": {"instance_typ": "x"}}, "Did you mean 'instance_type'"),
        (
            {"trial__resources": {"instance_count": 0}},
            "'instance_count' parameter of trial.resources must be a "
            "positive integer. Got 0 instead",
        ),
        ({"trial__resources": {"shm_size": 2}}, "'shm_size' parameter of trial.resources"),
        ({"trial__distribution": "pytorch"}, "'distribution' parameter of trial must be a mapping"),
        (
            {"identity": "me"},
            "'identity' parameter of the sweep file must be a mapping. Got 'me' instead",
        ),
        (
            {"sampling_algorithm": {"type": "random", "logbase": -1}},
            "'logbase' parameter of sampling_algorithm",
        ),
        ({"inputs": {"data": {"path": "data.txt", "typ": "uri_file"}}}, "Did you mean 'type'"),
        (
            {"inputs": {"data": {"path": "data.txt", "type": "blob"}}},
            "'type' parameter of inputs.data must be one of",
        ),
        (
            {"inputs": {"data": {"path": "missing.txt"}}},
            "'path' parameter of inputs.data must be an existing file",
        ),
        (
            {"outputs": {"model": {"type": "folder"}}},
            "'type' parameter of outputs.model must be one of",
        ),
        ({"outputs": {"other": None}}, "'command' parameter of ScriptRunConfig|outputs"),
    ],
)
def test_bad_v2_keys_and_values_are_errors_naming_the_field(
    project: Path, changes: dict, message: str
) -> None:
    edit(project / "sweep.yml", **changes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InvalidConfigError) as info:
            load_sweep_file(project / "sweep.yml")
    import re

    assert re.search(message, str(info.value)), str(info.value)


def test_a_pipeline_job_says_that_the_sweep_step_can_be_run(project: Path) -> None:
    (project / "pipeline.yml").write_text("type: pipeline\njobs:\n  sweep_step: {type: sweep}\n")
    result = hypersweep("run", "pipeline.yml", cwd=project)
    assert result.returncode == 2
    assert "pipeline jobs" in result.stderr and "sweep step's own YAML" in result.stderr


# -- inputs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "azureml:iris@latest",
        "wasbs://datasets@account.blob.core.windows.net/iris.csv",
        "abfss://data@account.dfs.core.windows.net/iris.csv",
        "azureml://datastores/workspaceblobstore/paths/data/iris.csv",
    ],
)
def test_cloud_inputs_are_refused_before_anything_runs(project: Path, path: str) -> None:
    edit(project / "sweep.yml", inputs={"data": {"type": "uri_file", "path": path}})
    result = hypersweep("run", "sweep.yml", "-q", cwd=project)
    assert result.returncode == 2
    text = " ".join(result.stderr.split())
    assert "inputs.data" in text and path in text
    assert "--set inputs.data.path=./" in text
    assert not (project / ".hypersweep").exists()


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[str, Path, http.server.ThreadingHTTPServer]]:
    root = tmp_path / "served"
    root.mkdir()
    handler = lambda *a, **k: _Files(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root, server
    finally:
        server.shutdown()
        server.server_close()


def test_an_https_input_is_downloaded_once_then_read_offline(
    project: Path, http_dir: tuple
) -> None:
    url, root, server = http_dir
    (root / "iris.csv").write_text("served data")
    edit(project / "sweep.yml", inputs={"data": {"type": "uri_file", "path": f"{url}/iris.csv"}})
    first = hypersweep("run", "sweep.yml", "-q", "--set", "limits.max_total_trials=1", cwd=project)
    assert first.returncode == 0, first.stderr
    cached = list((project / ".hypersweep" / "cache" / "inputs").rglob("iris.csv"))
    assert len(cached) == 1 and cached[0].read_text() == "served data"
    server.shutdown()  # offline from now on
    server.server_close()
    second = hypersweep("run", "sweep.yml", "-q", "--set", "limits.max_total_trials=1", cwd=project)
    assert second.returncode == 0, second.stderr
    ws = Workspace(project)
    for sweep in ws.store.sweeps():
        (row,) = ws.store.runs(sweep["id"])
        assert (
            Path(row["run_dir"]) / "outputs" / "model" / "model.txt"
        ).read_text() == "served data"


def test_an_input_url_that_answers_404_is_a_clear_error_and_writes_nothing(
    project: Path, http_dir: tuple
) -> None:
    url, _, _ = http_dir
    edit(project / "sweep.yml", inputs={"data": {"type": "uri_file", "path": f"{url}/missing.csv"}})
    result = hypersweep("run", "sweep.yml", "-q", cwd=project)
    assert result.returncode == 2
    text = " ".join(result.stderr.split())
    assert "inputs.data.path" in text and "HTTP 404" in text and "nothing was downloaded" in text
    assert not (project / ".hypersweep").exists()


# -- outputs ---------------------------------------------------------------------------------------


def test_outputs_are_folders_made_before_each_run_and_listed(project: Path) -> None:
    result = hypersweep("run", "sweep.yml", "-q", cwd=project)
    assert result.returncode == 0, result.stderr
    ws = Workspace(project)
    (sweep,) = ws.store.sweeps()
    for row in ws.store.runs(sweep["id"]):
        assert row["status"] == "Completed", row["error"]
        assert "outputs/model/model.txt" in ws.get_run(row["id"]).get_file_names()
        assert "--model-dir outputs/model" in " ".join(
            ws.get_run(row["id"]).get_details()["runDefinition"]["arguments"]
        )


# -- files in the layout Azure ML publishes ---------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["hello-sweep.yml", "sklearn-iris-sweep.yml", "lightgbm-iris-sweep.yml"]
)
def test_published_layout_files_validate(tmp_path: Path, name: str) -> None:
    spec, messages = load(
        DATA / name,
        sets=["inputs.iris_csv.path=" + str(DATA / "README.md")] if "iris" in name else [],
        workspace=tmp_path,
    )
    assert spec.config.run_config.compute_target == "local"  # type: ignore[attr-defined]
    assert any(m.startswith("trial.environment") for m in messages)
    if "iris" in name:
        assert any(m.startswith("compute:") for m in messages)


def test_published_layout_sklearn_iris_runs_with_a_local_csv(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from conftest import write_iris_csv

    write_iris_csv(tmp_path / "iris.csv")
    result = hypersweep(
        "run",
        str(DATA / "sklearn-iris-sweep.yml"),
        "-q",
        "-w",
        str(tmp_path / "ws"),
        "--set",
        f"inputs.iris_csv.path={tmp_path / 'iris.csv'}",
        "--set",
        "limits.max_total_trials=2",
        "--set",
        "limits.max_concurrent_trials=2",
        cwd=tmp_path,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    ws = Workspace(tmp_path / "ws")
    (sweep,) = ws.store.sweeps()
    rows = ws.store.runs(sweep["id"])
    assert [r["status"] for r in rows] == ["Completed", "Completed"]
    assert all(r["best_value"] is not None for r in rows)


NESTED_TRAIN = """
import argparse, json, os
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--data"); p.add_argument("--model", type=json.loads); p.add_argument("--model-dir")
a = p.parse_args()
assert os.path.isdir(a.model_dir)
with open(os.path.join(a.model_dir, "model.json"), "w") as f:
    json.dump(a.model, f)
Run.get_context().log("score", a.model.get("C", 0.5) + len(open(a.data).read()))
"""

NESTED = """
$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
compute: azureml:cpu-cluster
trial:
  code: src
  command: python nested.py --data ${{inputs.data}} --model ${{search_space.model}} --model-dir ${{outputs.model}}
  environment: azureml:AzureML-sklearn-1.5@latest
inputs:
  data: {type: uri_file, path: URL}
outputs:
  model: {type: uri_folder}
search_space:
  model:
    type: choice
    values:
      - {kind: svm, C: {type: uniform, min_value: 0, max_value: 1}}
      - {kind: rf, trees: {type: choice, values: [10, 20]}}
sampling_algorithm: {type: random, seed: 2}
objective: {primary_metric: score, goal: maximize}
limits: {max_total_trials: 4, max_concurrent_trials: 2}
"""


def test_a_published_style_job_with_cluster_environment_https_input_output_and_nested_choice_runs(
    project: Path, http_dir: tuple
) -> None:
    url, root, _ = http_dir
    (root / "d.txt").write_text("abc")
    (project / "src" / "nested.py").write_text(textwrap.dedent(NESTED_TRAIN))
    (project / "nested.yml").write_text(textwrap.dedent(NESTED).replace("URL", f"{url}/d.txt"))
    result = hypersweep("run", "nested.yml", "-q", cwd=project)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stderr.split())
    assert "compute: 'azureml:cpu-cluster'" in text and "trial.environment" in text
    ws = Workspace(project)
    (sweep,) = ws.store.sweeps()
    rows = ws.store.runs(sweep["id"])
    assert [r["status"] for r in rows] == ["Completed"] * 4
    for row in rows:
        branch = row.hyperparameters["model"]
        assert set(branch) in ({"kind", "C"}, {"kind", "trees"})
        assert (
            json.loads((Path(row["run_dir"]) / "outputs" / "model" / "model.json").read_text())
            == branch
        )
    assert ws.get_run(sweep["id"]).get_best_run_by_primary_metric() is not None


def test_a_nested_choice_with_an_empty_branch_exits_2_and_writes_nothing(project: Path) -> None:
    (project / "src" / "nested.py").write_text(textwrap.dedent(NESTED_TRAIN))
    text = (
        textwrap.dedent(NESTED)
        .replace("URL", "data.txt")
        .replace("{kind: rf, trees: {type: choice, values: [10, 20]}}", "{}")
    )
    (project / "nested.yml").write_text(text)
    result = hypersweep("run", "nested.yml", "-q", cwd=project)
    assert result.returncode == 2
    assert "search_space['model']" in result.stderr and "non-empty branch" in " ".join(
        result.stderr.split()
    )
    assert not (project / ".hypersweep").exists()


def test_compute_flag_chooses_the_target_over_the_file(project: Path) -> None:
    edit(project / "sweep.yml", compute="azureml:cpu-cluster")
    for flag, target in (
        ("local", "local"),
        ("ray", "ray"),
        ("ray://10.0.0.1:10001", "ray://10.0.0.1:10001"),
    ):
        spec, messages = load(project / "sweep.yml", compute=flag)
        assert spec.config.run_config.compute_target == target  # type: ignore[attr-defined]
        assert not any(m.startswith("compute:") for m in messages)
    for bad in ("ray://", "azureml:cpu-cluster", ""):
        with pytest.raises(InvalidConfigError, match="'--compute' parameter of hypersweep run"):
            load_sweep_file(project / "sweep.yml", compute=bad)


def test_published_layout_hello_sweep_runs(tmp_path: Path) -> None:
    result = hypersweep(
        "run", str(DATA / "hello-sweep.yml"), "-q", "-w", str(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    ws = Workspace(tmp_path)
    (sweep,) = ws.store.sweeps()
    assert sweep["experiment"] == "hello-sweep-local" and sweep["status"] == "Completed"
    assert [r["status"] for r in ws.store.runs(sweep["id"])] == ["Completed"] * 3


@pytest.mark.parametrize(
    "size, gpus",
    [
        ("Standard_NC6", 1),
        ("Standard_NC24", 4),
        ("Standard_ND40rs_v2", 8),
        ("Standard_NC6s_v3", 1),
        ("standard_nc4as_t4_v3", 1),
        ("NC12", 2),
    ],
)
def test_instance_type_of_a_gpu_size_asks_for_its_gpus(project: Path, size: str, gpus: int) -> None:
    edit(project / "sweep.yml", trial__resources={"instance_type": size})
    spec, messages = load(project / "sweep.yml")
    assert spec.config.run_config.resources == {"num_gpus": gpus}  # type: ignore[attr-defined]
    [message] = [m for m in messages if m.startswith("trial.resources.instance_type")]
    assert f"num_gpus: {gpus}" in message and "this machine" in message


def test_trial_resources_num_gpus_and_an_explicit_count_wins(project: Path) -> None:
    edit(
        project / "sweep.yml", trial__resources={"num_gpus": 0.5, "instance_type": "Standard_NC24"}
    )
    spec, messages = load(project / "sweep.yml")
    assert spec.config.run_config.resources == {"num_gpus": 0.5}  # type: ignore[attr-defined]
    assert any("is not used" in m and "num_gpus (0.5)" in m for m in messages)


@pytest.mark.parametrize(
    "value, rule", [(-1, "a number >= 0"), ("a", "a finite number"), (1.5, "a share of one GPU")]
)
def test_trial_resources_bad_num_gpus(project: Path, value: object, rule: str) -> None:
    edit(project / "sweep.yml", trial__resources={"num_gpus": value})
    with pytest.raises(InvalidConfigError) as err:
        load_sweep_file(project / "sweep.yml")
    assert str(err.value).startswith(f"trial.resources.num_gpus must be {rule}")
