"""The logging API that training code calls."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hypersweep.run import Run, _FileSink, _LiveRun


def offline(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_offline_run_prints_what_it_would_log() -> None:
    out = offline(
        "from hypersweep import Run\n"
        "run = Run.get_context()\n"
        "run.log('accuracy', 0.5, step=3)\n"
        "run.log_list('curve', [1, 2])\n"
        "run.log_row('table', epoch=1, loss=0.1)\n"
        "run.tag('kind', 'test')\n"
        "print(run.id.startswith('OfflineRun_'), run.get_metrics())\n"
    )
    assert out.splitlines() == [
        "Attempted to log scalar metric accuracy:",
        "0.5",
        "Attempted to log list metric curve:",
        "[1, 2]",
        "Attempted to log row metric table:",
        "{'epoch': 1, 'loss': 0.1}",
        "Attempted to add tag kind with value test",
        "True {'accuracy': 0.5, 'curve': [1, 2], 'table': {'epoch': [1], 'loss': [0.1]}}",
    ]


def test_log_refuses_lists() -> None:
    run = Run.get_context()
    with pytest.raises(TypeError, match="log_list"):
        run.log("x", [1, 2])


def test_allow_offline_false_raises_outside_a_run() -> None:
    code = "from hypersweep import Run\ntry:\n    Run.get_context(allow_offline=False)\nexcept RuntimeError as e:\n    print('refused')"
    assert offline(code).strip() == "refused"


def test_live_run_writes_one_json_line_per_record(tmp_path) -> None:
    path = tmp_path / "events.jsonl"
    run = _LiveRun("r1", _FileSink(str(path)))
    run.log("m", 1)
    run.log("m", float("nan"))
    run.log_list("l", [3, 4])
    run.tag("t")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["k"], r["n"]) for r in records] == [("metric", "m"), ("metric", "m"), ("list", "l"), ("tag", "t")]
    assert records[1]["v"] != records[1]["v"]  # NaN survives the wire
    metrics = run.get_metrics()
    assert metrics["l"] == [3, 4] and metrics["m"][0] == 1 and run.get_tags() == {"t": ""}


def test_numpy_values_are_logged_as_numbers(tmp_path) -> None:
    np = pytest.importorskip("numpy")
    path = tmp_path / "events.jsonl"
    run = _LiveRun("r1", _FileSink(str(path)))
    run.log("m", np.float32(0.5))
    run.log("n", np.int64(3))
    assert [json.loads(line)["v"] for line in path.read_text().splitlines()] == [0.5, 3]
