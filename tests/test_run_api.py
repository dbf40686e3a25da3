"""The rest of Azure's ``Run``: images, logged tables, uploads, downloads, properties, tags, names,
failure, child runs and the portal URL, on the training side (inside a trial, offline) and on runs
read back from the workspace."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep import Experiment, InvalidConfigError, Run, ScriptRunConfig, Workspace

pytestmark = pytest.mark.integration

CM = {
    "schema_type": "confusion_matrix",
    "schema_version": "1.0.0",
    "data": {"class_labels": ["cat", "dog"], "matrix": [[5, 1], [2, 7]]},
}
RESIDUALS = {
    "schema_type": "residuals",
    "schema_version": "1.0.0",
    "data": {"bin_edges": [-1, 0, 1], "bin_counts": [3, 4]},
}


def write_png(path: Path, size: int = 4) -> Path:
    """A real (tiny) PNG, written without any imaging library."""
    raw = b"".join(b"\x00" + b"\x10\x80\xf0" * size for _ in range(size))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


TRAIN = """
import io, json, os, struct, zlib
from hypersweep import Run
run = Run.get_context()
os.makedirs("outputs", exist_ok=True)
raw = b"".join(b"\\x00" + b"\\xff\\x00\\x00" * 4 for _ in range(4))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open("red.png", "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
                            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
run.log_image("red square", path="red.png", description="a red square")
run.log_image("red square", path="red.png")
run.log_confusion_matrix("cm", json.dumps(CM))
run.log_residuals("res", RESIDUALS)
open("side.txt", "w").write("side")
run.upload_file("extra/side.txt", "side.txt")
run.upload_file("outputs/stream.bin", io.BytesIO(b"abc" * 1000))
open("outputs/model.txt", "w").write("weights")
run.upload_file("outputs/model.txt", "outputs/model.txt")  # already in the run: kept as it is
os.makedirs("folder/sub", exist_ok=True)
open("folder/a.txt", "w").write("a"); open("folder/sub/b.txt", "w").write("b")
run.upload_folder("outputs/folder", "folder")
run.tag("keep", "1"); run.tag("drop", "2"); run.remove_tags(["drop"])
run.add_properties({"dataset": "v1"})
run.add_properties({"dataset": "v1"})  # the same value again is fine
run.display_name = "first try"
print("props", run.get_properties(), "tags", run.get_tags(), "name", run.name)
print("url", run.get_portal_url())
print("metrics", sorted(run.get_metrics()))
""".replace("CM", json.dumps(CM)).replace("RESIDUALS", json.dumps(RESIDUALS))


@pytest.fixture
def finished(workspace, script_dir) -> Run:
    src = script_dir("train.py", TRAIN)
    run = Experiment(workspace, "api").submit(
        ScriptRunConfig(source_directory=src, script="train.py")
    )
    details = run.wait_for_completion()
    assert details["status"] == "Completed", run.get_logs("stderr")
    return run


def test_a_script_logs_images_tables_uploads_properties_and_tags(finished: Run) -> None:
    run = Workspace(finished.experiment.workspace.path).get_run(finished.id)
    out = run.get_logs()
    assert (
        "props {'dataset': 'v1', 'display_name': 'first try'} tags {'keep': '1'} name first try"
        in out
    )
    assert f"url http://127.0.0.1:8765/runs/{run.id}" in out
    assert "metrics ['cm', 'red square', 'res']" in out
    metrics = run.get_metrics()
    assert metrics["red square"] == [
        "outputs/images/red_square.png",
        "outputs/images/red_square_1.png",
    ]
    assert metrics["cm"] == CM and metrics["res"] == RESIDUALS
    names = run.get_file_names()
    for name in (
        "extra/side.txt",
        "outputs/stream.bin",
        "outputs/model.txt",
        "outputs/folder/a.txt",
        "outputs/folder/sub/b.txt",
        "outputs/images/red_square.png",
        "outputs/images/red_square_1.png",
    ):
        assert name in names, names
    assert run.get_tags() == {"keep": "1"}
    assert run.get_properties() == {"dataset": "v1", "display_name": "first try"}
    assert run.display_name == run.name == "first try"
    assert run.get_details()["properties"]["dataset"] == "v1"
    assert run.get_portal_url() == f"http://127.0.0.1:8765/runs/{run.id}"
    assert run.get_environment() is None


def test_downloads_follow_azures_prefix_and_paths_rules(finished: Run, tmp_path: Path) -> None:
    written = finished.download_files(prefix="outputs/folder", output_directory=str(tmp_path / "a"))
    assert sorted(Path(p).relative_to(tmp_path / "a").as_posix() for p in written) == [
        "outputs/folder/a.txt",
        "outputs/folder/sub/b.txt",
    ]
    written = finished.download_files(
        prefix="outputs/folder/", output_directory=str(tmp_path / "b"), append_prefix=False
    )
    assert sorted(Path(p).relative_to(tmp_path / "b").as_posix() for p in written) == [
        "a.txt",
        "sub/b.txt",
    ]
    written = finished.download_files(
        prefix="outputs/folder",
        output_directory=str(tmp_path / "c"),
        output_paths=["one.txt", "two.txt"],
    )
    assert [Path(p).read_text() for p in written] == ["a", "b"]
    with pytest.raises(InvalidConfigError, match="'output_paths' parameter of Run.download_files"):
        finished.download_files(prefix="outputs/folder", output_paths=["only-one"])
    assert (
        finished.download_file("extra/side.txt", str(tmp_path / "side.txt"))
        and (tmp_path / "side.txt").read_text() == "side"
    )
    logs = finished.get_all_logs(destination=str(tmp_path / "logs"))
    assert any(p.endswith("stdout.txt") for p in logs)
    details = finished.get_details_with_logs()
    assert "props" in details["logFiles"]["logs/stdout.txt"]


def test_a_run_read_back_logs_tags_and_uploads_to_the_store(finished: Run, tmp_path: Path) -> None:
    run = Workspace(finished.experiment.workspace.path).get_run(finished.id)
    run.log("after", 2.0)
    run.tag("reviewed", "yes")
    run.remove_tags(["keep"])
    run.upload_file("notes/review.txt", io.BytesIO(b"looks good"))
    run.log_image("later", path=str(write_png(tmp_path / "later.png")))
    again = Workspace(finished.experiment.workspace.path).get_run(finished.id)
    assert again.get_metrics()["after"] == 2.0 and again.get_tags() == {"reviewed": "yes"}
    assert (
        "notes/review.txt" in again.get_file_names()
        and "outputs/images/later.png" in again.get_file_names()
    )
    with pytest.raises(
        InvalidConfigError, match="'properties' parameter of Run.add_properties must not change"
    ):
        again.add_properties({"dataset": "v2"})
    assert again.get_properties()["dataset"] == "v1"  # unchanged
    again.display_name = "renamed"
    assert (
        Workspace(finished.experiment.workspace.path).get_run(finished.id).display_name == "renamed"
    )


def test_child_runs_and_fail_on_a_run_read_back(finished: Run) -> None:
    child = finished.child_run(name="fold-1")
    assert child.get_status() == "Running" and child.display_name == "fold-1"
    child.log("fold_acc", 0.8)
    child.complete()
    assert child.get_status() == "Completed" and child.get_metrics() == {"fold_acc": 0.8}
    assert child.get_properties()["azureml.parentRunId"] == finished.id
    assert Workspace(finished.experiment.workspace.path).get_run(child.id).parent == finished
    other = finished.child_run()
    other.fail(error_details="diverged")
    assert other.get_status() == "Failed" and other.get_details()["error"]["message"] == "diverged"
    assert finished.get_children() == [child, other]
    assert finished.get_children(status="Failed") == [other]
    finished.fail("found a leak afterwards")
    assert finished.get_status() == "Failed"


def test_a_callable_trial_makes_a_child_run_and_fails_itself(workspace) -> None:
    def train(cfg: dict) -> None:
        run = Run.get_context()
        child = run.child_run(name="inner")
        child.log("inner_metric", 1.0)
        child.complete()
        run.log("outer_metric", 2.0)
        run.fail(error_details="validation failed", error_code="UserError")

    run = Experiment(workspace, "kids").submit(train)
    details = run.wait_for_completion(raise_on_error=False)
    assert (
        details["status"] == "Failed"
        and details["error"]["message"] == "UserError: validation failed"
    )
    assert run.get_metrics() == {"outer_metric": 2.0}  # what it logged is kept
    [child] = run.get_children()
    assert child.get_status() == "Completed" and child.get_metrics() == {"inner_metric": 1.0}
    assert child.display_name == "inner" and child.parent == run


def test_a_callable_trial_logs_a_matplotlib_figure(workspace) -> None:
    pytest.importorskip("matplotlib")

    def train(cfg: dict) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        run = Run.get_context()
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], [3, 1, 2])
        run.log_image("loss curve", plot=fig)
        plt.close(fig)
        run.log_predictions(
            "pred",
            {
                "schema_type": "predictions",
                "schema_version": "1.0.0",
                "data": {
                    "bin_averages": [0.1],
                    "bin_errors": [0.0],
                    "bin_counts": [2],
                    "bin_edges": [0, 1],
                },
            },
        )

    run = Experiment(workspace, "fig").submit(train)
    assert run.wait_for_completion()["status"] == "Completed", run.get_details()
    path = run.get_metrics()["loss curve"]
    assert path == "outputs/images/loss_curve.png"
    local = Path(run.download_file(path, str(workspace.path.parent / "fig.png")))
    assert local.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run.get_metrics()["pred"]["data"]["bin_counts"] == [2]


def test_bad_input_names_the_parameter_and_loses_nothing(finished: Run, tmp_path: Path) -> None:
    run = Workspace(finished.experiment.workspace.path).get_run(finished.id)
    before = (run.get_metrics(), run.get_file_names())
    cases = [
        (lambda: run.log_image("x"), "'path' parameter of Run.log_image"),
        (
            lambda: run.log_image("x", path="a.png", plot=object()),
            "'path' parameter of Run.log_image",
        ),
        (lambda: run.log_image("x", path=str(tmp_path / "missing.png")), "an existing image file"),
        (lambda: run.log_image("x", plot=object()), "'plot' parameter of Run.log_image"),
        (
            lambda: run.log_confusion_matrix("cm", "not json"),
            "'value' parameter of Run.log_confusion_matrix",
        ),
        (
            lambda: run.log_accuracy_table("t", [1, 2]),
            "'value' parameter of Run.log_accuracy_table",
        ),
        (
            lambda: run.upload_file("../escape.txt", io.BytesIO(b"x")),
            "'name' parameter of Run.upload_file",
        ),
        (
            lambda: run.upload_file("/abs.txt", io.BytesIO(b"x")),
            "'name' parameter of Run.upload_file",
        ),
        (
            lambda: run.upload_file("ok.txt", str(tmp_path / "missing")),
            "'path_or_stream' parameter of Run.upload_file",
        ),
        (lambda: run.upload_files(["a"], []), "'names' parameter of Run.upload_files"),
        (
            lambda: run.upload_folder("dir", str(tmp_path / "nope")),
            "'path' parameter of Run.upload_folder",
        ),
        (lambda: run.remove_tags("keep"), "'tags' parameter of Run.remove_tags"),
    ]
    for call, message in cases:
        with pytest.raises(InvalidConfigError, match=message):
            call()
    assert (run.get_metrics(), run.get_file_names()) == before


def test_offline_the_new_calls_print_what_they_would_keep(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    from hypersweep.run import _OfflineRun

    run = _OfflineRun()
    run.log_image("img", path="whatever.png")
    run.log_confusion_matrix("cm", CM)
    run.upload_file("outputs/x.bin", "x.bin")
    run.add_properties({"a": "b"})
    run.remove_tags(["t"])
    assert run.register_model("m", "outputs/m.pkl") is None
    out = capsys.readouterr().out
    for text in (
        "Attempted to log image metric img",
        "Attempted to log confusion matrix metric cm",
        "Attempted to upload file outputs/x.bin",
        "Attempted to set property a to b",
        "Attempted to remove tag t",
        "Attempted to register model m",
    ):
        assert text in out
    assert not any(tmp_path.iterdir())  # nothing is written outside hypersweep


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["..", ".", "", "a", "b c", "outputs", "~", "\\", "x..y"]), max_size=6
    ),
    st.booleans(),
)
def test_an_accepted_file_name_never_leaves_the_run(parts: list[str], absolute: bool) -> None:
    from hypersweep.run import check_artifact_name

    name = ("/" if absolute else "") + "/".join(parts)
    root = Path("/run/dir")
    try:
        clean = check_artifact_name(name, "name", "Run.upload_file")
    except InvalidConfigError:
        return
    resolved = (root / clean).resolve()
    assert resolved.is_relative_to(root) and resolved != root and not absolute


def test_a_trial_that_cannot_reach_its_workspace_says_so_and_creates_nothing(
    tmp_path: Path,
) -> None:
    from hypersweep import HypersweepError
    from hypersweep.run import _LiveRun

    class Sink:
        def write(self, record: dict) -> None:
            pass

    (tmp_path / "run" / "outputs").mkdir(parents=True)
    (tmp_path / "run" / "outputs" / "m.pkl").write_bytes(b"m")
    elsewhere = tmp_path / "driver-workspace"  # as on another node of a cluster: not there
    run = _LiveRun("HD_x_0", Sink(), run_dir=tmp_path / "run", workspace=elsewhere, experiment="e")
    with pytest.raises(HypersweepError, match="cannot reach its workspace"):
        run.register_model("m", "outputs/m.pkl")
    with pytest.raises(HypersweepError, match="cannot reach its workspace"):
        run.child_run()
    assert not elsewhere.exists()  # no stray database was made
