"""One logged value never fails a sweep: it is converted or refused for that record alone.

Script and callable trials log values that cannot be stored as they are (integers beyond the float
range, lone surrogates, bytes, nested containers) next to healthy runs; a script also writes garbage
lines into its own events file. The sweep completes, every healthy value is stored, and each bad
run ends normally with the converted value stored or the warning in its stderr.
"""

from __future__ import annotations

import json
import math
import time

import pytest

from hypersweep import (
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    Run,
    ScriptRunConfig,
    choice,
)
from hypersweep._wire import Kind, Record
from hypersweep.run import LoggedValueWarning

SCRIPT = r"""
import os, sys, time
from hypersweep import Run
mode = sys.argv[2]
run = Run.get_context()
run.log("score", 0.5)
if mode == "bigint":
    run.log("count", 2 ** 1100)
elif mode == "surrogate":
    run.tag("file", "data_\udcff.csv")
    run.log("name", "x\udcff")
elif mode == "nested":
    run.log_row("row", path="a\udcffb", blob=b"\xff\xfe", big=2 ** 70, nan=float("nan"), inf=float("inf"))
    run.log_table("table", {"c": [1, 2 ** 1100]})
    run.log_list("curve", [float("nan"), float("inf"), 2 ** 70])
elif mode == "garbage":
    fd = os.open(os.environ["HYPERSWEEP_EVENTS"], os.O_WRONLY | os.O_APPEND)
    for line in (b"\xff\xfe not json", b"[" * 100000, b'{"k": "metric", "n": "x", "v": ' + b"9" * 400 + b', "t": 1}',
                 b'{"k": "metric", "n": "x", "v": 1, "t": NaN}', b'{"k": "row", "n": "r", "v": 5, "t": 1}',
                 b'{"k": "tag", "n": "f\\udcff", "v": "\\ud800", "t": 1}'):
        os.write(fd, line + b"\n")
for i in range(5):
    run.log("score", 0.5 + i / 100)
    time.sleep(0.02)
"""

MODES = ["ok", "bigint", "surrogate", "nested", "garbage", "ok2"]


def metric_rows(workspace, run_id):
    return workspace.store.metrics(run_id)


@pytest.mark.integration
def test_script_trials_with_bad_values_leave_the_sweep_and_their_neighbours_whole(
    workspace, script_dir
) -> None:
    src = script_dir("train.py", SCRIPT)
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="train.py"),
        hyperparameter_sampling=GridParameterSampling({"mode": choice(*MODES)}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=len(MODES),
        max_concurrent_runs=len(MODES),
    )
    run = Experiment(workspace, "values").submit(config)
    assert run.wait_for_completion()["status"] == "Completed"
    by_mode = {json.loads(run.get_hyperparameters()[c.id])["mode"]: c for c in run.get_children()}
    for mode, child in by_mode.items():
        assert child.get_status() == "Completed", (mode, child.get_details())
        assert child.get_metrics()["score"] == [0.5, 0.5, 0.51, 0.52, 0.53, 0.54], (
            mode
        )  # nothing lost
    assert "count" not in by_mode["bigint"].get_metrics()
    assert "run.log('count') was not logged" in by_mode["bigint"].get_logs("stderr")
    assert by_mode["surrogate"].get_tags() == {"file": "data_\\xff.csv"}
    assert by_mode["surrogate"].get_metrics()["name"] == "x\\xff"
    assert "LoggedValueWarning" in by_mode["surrogate"].get_logs("stderr")
    nested = by_mode["nested"].get_metrics()
    assert nested["row"]["path"] == ["a\\xffb"] and nested["row"]["blob"] == ["\\xff\\xfe"]
    assert nested["row"]["big"] == [float(2**70)] and math.isnan(nested["row"]["nan"][0])
    assert "table" not in nested and "run.log_table('table') was not logged" in by_mode[
        "nested"
    ].get_logs("stderr")
    assert math.isnan(nested["curve"][0]) and nested["curve"][1:] == [math.inf, float(2**70)]
    assert by_mode["garbage"].get_tags() == {
        "f\\xff": "\\ud800"
    }  # the one well-formed hand-written line
    assert (
        "x" not in by_mode["garbage"].get_metrics() and "r" not in by_mode["garbage"].get_metrics()
    )
    for child in by_mode.values():  # what the store holds can be written as UTF-8 JSON
        json.dumps(child.get_metrics(), ensure_ascii=False, allow_nan=True).encode("utf-8")


def trial(cfg):
    mode = cfg["mode"]
    if mode == "bigreturn":
        return 2**1100  # logged as the primary metric, refused: the run still completes
    run = Run.get_context()
    run.log("score", 0.5)
    if mode == "bigint":
        run.log("count", 2**1100)
    if mode == "surrogate":
        run.tag("file", "data_\udcff.csv")
        run.log_row("row", path="a\udcffb", blob=b"\xff", big=2**70)
    if mode == "raw":  # past Run's own checks, as a foreign sink could send: the store converts
        run._sink.write(Record(Kind.METRIC, "raw\udcff", 2**1100, math.nan))
        run._sink.write(Record(Kind.TAG, "t\udcff", "v\udcff", 1.0))
    for i in range(3):
        run.log("score", 0.6 + i / 10)
    return None


def test_callable_trials_with_bad_values_leave_the_sweep_and_their_neighbours_whole(
    workspace,
) -> None:
    modes = ["ok", "bigint", "bigreturn", "surrogate", "raw", "ok2"]
    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=GridParameterSampling({"mode": choice(*modes)}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=len(modes),
        max_concurrent_runs=len(modes),
    )
    with pytest.warns(LoggedValueWarning) as caught:
        run = Experiment(workspace, "values").submit(config)
        assert run.wait_for_completion()["status"] == "Completed"
    messages = " ".join(str(w.message) for w in caught)
    assert "run.log('count') was not logged" in messages and "data_\\xff.csv" in messages
    by_mode = {json.loads(run.get_hyperparameters()[c.id])["mode"]: c for c in run.get_children()}
    for mode, child in by_mode.items():
        assert child.get_status() == "Completed", (mode, child.get_details())
        if mode != "bigreturn":
            assert child.get_metrics()["score"] == pytest.approx([0.5, 0.6, 0.7, 0.8]), mode
    assert (
        by_mode["bigreturn"].get_metrics() == {} and "run.log('score') was not logged" in messages
    )
    assert by_mode["surrogate"].get_tags() == {"file": "data_\\xff.csv"}
    assert by_mode["surrogate"].get_metrics()["row"] == {
        "path": ["a\\xffb"],
        "blob": ["\\xff"],
        "big": [float(2**70)],
    }
    assert by_mode["raw"].get_metrics()["raw\\xff"] == math.inf
    assert by_mode["raw"].get_tags() == {"t\\xff": "v\\xff"}


def test_a_callable_that_prints_and_raises_text_with_lone_surrogates_fails_alone(workspace) -> None:
    def failing(cfg):
        run = Run.get_context()
        run.log("score", cfg["x"])
        if cfg["x"] == 1:
            print("listing data_\udcff.csv")
            raise ValueError("cannot read data_\udcff.csv")

    config = HyperDriveConfig(
        run_config=failing,
        hyperparameter_sampling=GridParameterSampling({"x": choice(1, 2)}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=2,
    )
    run = Experiment(workspace, "values").submit(config)
    deadline = time.monotonic() + 60
    while (
        run.get_status() not in ("Completed", "Failed", "Canceled") and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert run.get_status() == "Completed"  # it used to hang: the failed run never ended
    run.wait_for_completion()
    bad, good = sorted(run.get_children(), key=lambda c: c.get_metrics()["score"])
    assert (
        bad.get_status() == "Failed"
        and bad.get_details()["error"]["message"] == "ValueError: cannot read data_\\xff.csv"
    )
    assert bad.get_logs() == "listing data_\\udcff.csv\n" and "Traceback" in bad.get_logs("stderr")
    assert good.get_status() == "Completed" and good.get_metrics() == {"score": 2}
