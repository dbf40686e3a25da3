"""The local model registry: ``run.register_model``, ``Model.register``, ``Model(...)``, ``Model.list``,
``download``; versions per name, allocated atomically; files kept in the workspace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep import (
    Experiment,
    InvalidConfigError,
    Model,
    NotFoundError,
    ScriptRunConfig,
    Workspace,
)

pytestmark = pytest.mark.integration

TRAIN = """
import os
from hypersweep import Run
run = Run.get_context()
os.makedirs("outputs/bundle/sub", exist_ok=True)
open("outputs/model.joblib", "w").write("weights-" + run.id)
open("outputs/bundle/a.txt", "w").write("a")
open("outputs/bundle/sub/b.txt", "w").write("b")
m = run.register_model("from-script", "outputs/model.joblib", tags={"where": "inside"})
print("registered", m.name, m.version)
"""


@pytest.fixture
def run(workspace, script_dir):
    src = script_dir("train.py", TRAIN)
    r = Experiment(workspace, "models").submit(
        ScriptRunConfig(source_directory=src, script="train.py")
    )
    assert r.wait_for_completion()["status"] == "Completed", r.get_logs("stderr")
    return r


def test_register_a_file_and_a_folder_of_a_run_and_read_them_back(
    workspace, run, tmp_path: Path
) -> None:
    inside = Model(workspace, "from-script")
    assert (inside.version, inside.run_id, inside.tags) == (1, run.id, {"where": "inside"})
    m1 = run.register_model(
        "clf",
        "outputs/model.joblib",
        tags={"stage": "dev"},
        properties={"acc": 0.9},
        description="first",
    )
    m2 = run.register_model("clf", "outputs/bundle", description="a folder")
    assert (m1.version, m2.version) == (1, 2) and m1.id == "clf:1"
    assert (m1.name, m1.run_id, m1.tags, m1.properties, m1.description) == (
        "clf",
        run.id,
        {"stage": "dev"},
        {"acc": "0.9"},
        "first",
    )
    assert m1.experiment_name == "models" and m1.created_time.tzinfo is not None
    latest = Model(workspace, "clf")
    assert (
        latest.version == 2
        and Model(workspace, "clf", version=1) == m1
        and Model(workspace, id="clf:1") == m1
    )
    # the files live in the workspace: they outlive the run's folder
    shutil.rmtree(workspace.state_dir / "runs" / run.id)
    path = Model(workspace, "clf", version=1).download(str(tmp_path / "d"))
    assert (
        Path(path) == tmp_path / "d" / "model.joblib"
        and Path(path).read_text() == f"weights-{run.id}"
    )
    folder = Path(latest.download(str(tmp_path / "d")))
    assert (folder / "a.txt").read_text() == "a" and (folder / "sub" / "b.txt").read_text() == "b"
    with pytest.raises(InvalidConfigError, match="'exist_ok' parameter of Model.download"):
        latest.download(str(tmp_path / "d"))
    assert Path(latest.download(str(tmp_path / "d"), exist_ok=True)).is_dir()
    assert (workspace.state_dir / "models" / "clf" / "2" / "bundle" / "sub" / "b.txt").is_file()


def test_model_register_a_local_path_and_list_with_filters(workspace, tmp_path: Path) -> None:
    f = tmp_path / "m.pkl"
    f.write_bytes(b"\x00\x01")
    a1 = Model.register(workspace, str(f), "alpha", tags={"team": "x"}, properties={"p": 1})
    a2 = Model.register(
        workspace=workspace, model_path=str(f), model_name="alpha", tags={"team": "y"}
    )
    b1 = Model.register(workspace, str(f), "beta.v2_x-1")
    assert [m.id for m in Model.list(workspace)] == ["alpha:1", "alpha:2", "beta.v2_x-1:1"]
    assert [m.id for m in Model.list(workspace, name="alpha")] == ["alpha:1", "alpha:2"]
    assert [m.id for m in Model.list(workspace, latest=True)] == ["alpha:2", "beta.v2_x-1:1"]
    assert Model.list(workspace, tags=[["team", "x"]]) == [a1]
    assert Model.list(workspace, tags=["team"]) == [a1, a2]
    assert Model.list(workspace, properties={"p": "1"}) == [a1]
    assert a1.run_id is None and b1.version == 1
    assert Model(workspace, "alpha", tags={"team": "x"}) == a1  # the latest that matches
    assert Workspace(workspace.path).models == {"alpha": a2, "beta.v2_x-1": b1}
    assert Model.get_model_path("alpha", _workspace=workspace).endswith("models/alpha/2/m.pkl")


def test_two_registrations_at_once_get_distinct_versions(workspace, tmp_path: Path) -> None:
    f = tmp_path / "m.bin"
    f.write_bytes(os.urandom(1024))
    workspace.store  # noqa: B018 - create the database before the racers
    versions: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def register() -> None:
        try:
            barrier.wait()
            versions.append(Model.register(Workspace(workspace.path), str(f), "raced").version)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(6)]
    for t in threads:
        t.start()
    code = "import sys; from hypersweep import Model, Workspace; Model.register(Workspace(sys.argv[1]), sys.argv[2], 'raced')"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(workspace.path), str(f)])
        for _ in range(3)
    ]
    for t in threads:
        t.join(60)
    assert all(p.wait(60) == 0 for p in procs) and not errors, errors
    assert sorted(m.version for m in Model.list(workspace, name="raced")) == list(range(1, 10))
    for v in range(1, 10):
        assert (
            workspace.state_dir / "models" / "raced" / str(v) / "m.bin"
        ).read_bytes() == f.read_bytes()
    assert not list((workspace.state_dir / "models" / "raced").glob(".staging-*"))


def test_bad_input_is_a_clear_error_and_nothing_recorded_is_lost(
    workspace, run, tmp_path: Path
) -> None:
    good = run.register_model("keep", "outputs/model.joblib")
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(
        InvalidConfigError,
        match=r"'model_path' parameter of Run.register_model .* Got "
        r"'outputs/nope.pkl', which the run does not have; its outputs are: "
        r"outputs/bundle/a.txt",
    ):
        run.register_model("keep", "outputs/nope.pkl")
    with pytest.raises(InvalidConfigError, match="'model_path' parameter of Run.register_model"):
        run.register_model("keep", "../../../etc/passwd")
    for bad in ("has space", "-starts-with-dash", "a/b", "x" * 256, "", "ünï"):
        with pytest.raises(
            InvalidConfigError, match="'model_name' parameter of Run.register_model must be 1-255"
        ):
            run.register_model(bad, "outputs/model.joblib")
        with pytest.raises(
            InvalidConfigError, match="'model_name' parameter of Model.register must be 1-255"
        ):
            Model.register(workspace, str(folder), bad)
    assert Model.register(workspace, str(folder), "x" * 255).version == 1  # the longest allowed
    # a folder holding the workspace itself: its state (the registry too) stays out of the copy
    whole = Model.register(workspace, str(tmp_path), "everything")
    assert not list(Path(whole.url).rglob(".hypersweep")) and (Path(whole.url) / "folder").is_dir()
    with pytest.raises(
        InvalidConfigError, match="'model_path' parameter of Model.register must be an existing"
    ):
        Model.register(workspace, str(tmp_path / "missing"), "keep")
    with pytest.raises(
        NotFoundError,
        match="'name' parameter of Model names no registered model: there is no "
        "model 'nope'.*Registered models: everything, from-script, keep",
    ):
        Model(workspace, "nope")
    with pytest.raises(NotFoundError, match="no model 'keep' version 7"):
        Model(workspace, "keep", version=7)
    assert [m.id for m in Model.list(workspace, name="keep")] == [
        good.id
    ]  # nothing recorded was lost
    assert Model(workspace, "keep").download(str(tmp_path / "out"))


def test_hypersweep_models_lists_them_as_a_table_and_as_json(workspace, run) -> None:
    run.register_model(
        "clf",
        "outputs/model.joblib",
        tags={"stage": "dev", "data": "[/mnt/data]"},
        description="baseline [bold]",
    )  # user text, not Rich markup

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "hypersweep",
                "models",
                "--workspace",
                str(workspace.path),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "200"},
        )

    table = cli()
    assert table.returncode == 0, table.stderr
    assert "clf" in table.stdout and run.id in table.stdout and "stage=dev" in table.stdout
    assert "baseline [bold]" in table.stdout and "data=[/mnt/data]" in table.stdout
    listed = json.loads(cli("--json").stdout)
    assert [(m["name"], m["version"], m["run_id"]) for m in listed] == [
        ("clf", 1, run.id),
        ("from-script", 1, run.id),
    ]
    assert json.loads(cli("--json", "--name", "clf").stdout)[0]["tags"] == {
        "stage": "dev",
        "data": "[/mnt/data]",
    }


_AZURE_NAME = __import__("re").compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ09._-/ é:\\"), max_size=260) | st.text(max_size=20))
def test_a_model_name_is_accepted_exactly_when_azure_allows_it(name: str) -> None:
    from hypersweep.model import check_model_name

    allowed = bool(_AZURE_NAME.fullmatch(name)) and name.isascii()
    if allowed:
        assert check_model_name(name, "Model.register") == name
    else:
        with pytest.raises(InvalidConfigError, match="'model_name' parameter of Model.register"):
            check_model_name(name, "Model.register")
