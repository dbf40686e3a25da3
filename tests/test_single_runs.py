"""Single runs: ``Experiment.submit(ScriptRunConfig)`` (or a callable) runs one run through the same
controller, executors and store as a sweep's, and everything shows it as a run of its experiment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hypersweep import (
    Experiment,
    FunctionRunConfig,
    HyperDriveRun,
    Run,
    RunFailedError,
    ScriptRun,
    ScriptRunConfig,
    Workspace,
)

pytestmark = pytest.mark.integration

TRAIN = """
import sys, time
from hypersweep import Run
run = Run.get_context()
print("args", sys.argv[1:], flush=True)
for i in range(3):
    run.log("loss", 1.0 / (i + 1))
    print("epoch", i, flush=True)
if "--sleep" in sys.argv:
    time.sleep(float(sys.argv[sys.argv.index("--sleep") + 1]))
if "--fail" in sys.argv:
    run.fail("the data was bad")
print("done", flush=True)
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hypersweep", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_script_run_streams_its_output_and_reads_back_as_a_run(
    workspace, script_dir, capsys
) -> None:
    src = script_dir("train.py", TRAIN)
    exp = Experiment(workspace, "single")
    run = exp.submit(
        ScriptRunConfig(source_directory=src, script="train.py", arguments=["--lr", 0.1]),
        tags={"stage": "baseline"},
    )
    assert isinstance(run, ScriptRun) and run.get_status() in ("Queued", "Running", "Completed")
    details = run.wait_for_completion(show_output=True)
    out = capsys.readouterr().out
    assert "args ['--lr', '0.1']" in out and "epoch 2" in out and out.rstrip().endswith("done")
    assert details["status"] == run.get_status() == "Completed"
    assert run.get_metrics() == {"loss": [1.0, 0.5, 1.0 / 3]}
    assert details["runDefinition"]["arguments"] == ["--lr", "0.1"]
    assert details["properties"]["parent"] is None and run.parent is None
    assert run.get_tags() == {"stage": "baseline"}
    # read back from the workspace, by the run id or the id of its record: the same run
    again = Workspace(workspace.path).get_run(run.id)
    assert (
        isinstance(again, ScriptRun) and again == run and again.get_metrics() == run.get_metrics()
    )
    assert Workspace(workspace.path).get_run(run.id.rsplit("_", 1)[0]) == run
    assert exp.get_runs() == [run] and not isinstance(exp.get_runs()[0], HyperDriveRun)


def test_a_callable_run_config_is_one_run(workspace) -> None:
    seen = []

    def train(cfg: dict) -> None:
        seen.append(cfg)
        Run.get_context().log("score", 0.75)

    for config in (train, FunctionRunConfig(train)):
        run = Experiment(workspace, "fn").submit(config)
        assert run.wait_for_completion()["status"] == "Completed"
        assert run.get_metrics() == {"score": 0.75}
    assert seen == [{}, {}]


def test_cancel_stops_a_single_run_and_fail_marks_it_failed(workspace, script_dir) -> None:
    src = script_dir("train.py", TRAIN)
    exp = Experiment(workspace, "single")
    slow = exp.submit(
        ScriptRunConfig(source_directory=src, script="train.py", arguments=["--sleep", 60])
    )
    wait_until(lambda: slow.get_status() == "Running")
    assert slow.cancel()
    details = slow.wait_for_completion()
    assert details["status"] == "Canceled" and "Canceled by the user" in details["canceledReason"]
    assert not slow.cancel()
    failed = exp.submit(
        ScriptRunConfig(source_directory=src, script="train.py", arguments=["--fail"])
    )
    with pytest.raises(RunFailedError, match="the data was bad"):
        failed.wait_for_completion()
    assert (
        failed.get_status() == "Failed" and failed.get_metrics()["loss"][0] == 1.0
    )  # nothing logged is lost


def test_ls_show_and_logs_show_a_single_run_as_a_run(workspace, script_dir) -> None:
    src = script_dir("train.py", TRAIN)
    run = Experiment(workspace, "single").submit(
        ScriptRunConfig(source_directory=src, script="train.py"), tags={"data": "[/mnt/data]"}
    )  # user text, not Rich markup
    run.wait_for_completion()
    listing = cli("ls", "--workspace", str(workspace.path), cwd=workspace.path.parent)
    assert listing.returncode == 0, listing.stderr
    assert (
        "Single runs in" in listing.stdout
        and run.id in listing.stdout
        and "Sweeps in" not in listing.stdout
    )
    for ref in ("latest", run.id):
        shown = cli("show", ref, "--workspace", str(workspace.path), cwd=workspace.path.parent)
        assert shown.returncode == 0, shown.stderr
        assert (
            f"{run.id} (Completed) run of experiment single" in shown.stdout
            and "loss" in shown.stdout
        )
        assert "tags: data=[/mnt/data]" in shown.stdout
    logs = cli("logs", run.id, "--workspace", str(workspace.path), cwd=workspace.path.parent)
    assert logs.returncode == 0 and "epoch 2" in logs.stdout


def test_a_database_of_the_previous_schema_gains_the_kind_column_on_open(tmp_path: Path) -> None:
    import sqlite3

    from hypersweep.store import _SCHEMA, DB_NAME, STATE_DIR, Store

    db = tmp_path / "ws" / STATE_DIR / DB_NAME
    db.parent.mkdir(parents=True)
    old = _SCHEMA.replace(",\n    kind TEXT NOT NULL DEFAULT 'sweep'", "")
    old = old[
        : old.index("CREATE TABLE IF NOT EXISTS properties")
    ]  # no properties, no models either
    conn = sqlite3.connect(db)
    conn.executescript(old)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO experiments VALUES ('e', 0)")
    conn.execute(
        "INSERT INTO sweeps (id, experiment, status, created, primary_metric, goal, max_total_runs,"
        " max_concurrent_runs, config) VALUES ('HD_old', 'e', 'Completed', 0, 'm', 'maximize', 1, 1, '{}')"
    )
    conn.commit()
    assert "kind" not in {r[1] for r in conn.execute("PRAGMA table_info(sweeps)")}
    conn.close()
    store = Store(db)
    assert store.sweep("HD_old")["kind"] == "sweep"  # what was recorded is kept, as a sweep
    assert store.models() == [] and store.properties("HD_old_0") == {}
    store.close()
    assert Store(db).sweep("HD_old")["status"] == "Completed"  # opening again changes nothing


def test_experiment_submit_names_what_it_accepts(workspace, script_dir) -> None:
    with pytest.raises(
        ValueError,
        match="'config' parameter of Experiment.submit must be a HyperDriveConfig, a "
        "ScriptRunConfig or a callable. Got dict",
    ):
        Experiment(workspace, "x").submit({"script": "train.py"})
    src = script_dir("train.py", TRAIN)
    placeholder = ScriptRunConfig(
        source_directory=src, command="python train.py --lr ${{search_space.lr}}"
    )
    with pytest.raises(
        ValueError, match=r"refers to \$\{\{search_space.lr\}\}, which the search space does not"
    ):
        Experiment(workspace, "x").submit(placeholder)
    assert not workspace.store.sweeps()  # nothing was recorded


def test_the_report_of_a_single_run_is_the_run(workspace, script_dir, tmp_path: Path) -> None:
    run = Experiment(workspace, "single").submit(
        ScriptRunConfig(source_directory=script_dir("train.py", TRAIN), script="train.py")
    )
    run.wait_for_completion()
    made = cli(
        "report",
        "latest",
        "--html",
        str(tmp_path / "r.html"),
        "--workspace",
        str(workspace.path),
        cwd=workspace.path.parent,
    )
    assert made.returncode == 0, made.stderr
    assert f"the report of {run.id}" in made.stdout
    text = (tmp_path / "r.html").read_text()
    assert "HS.RunView" in text and f"{run.id} · hypersweep report" in text
