"""The logging API that training code calls."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep.run import Run, _FileSink, _LiveRun


def offline(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


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
    assert [(r["k"], r["n"]) for r in records] == [
        ("metric", "m"),
        ("metric", "m"),
        ("list", "l"),
        ("tag", "t"),
    ]
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


def test_values_that_cannot_be_stored_are_converted_or_refused_with_one_warning(tmp_path) -> None:
    from hypersweep.executors.base import parse_records
    from hypersweep.run import LoggedValueWarning

    path = tmp_path / "events.jsonl"
    run = _LiveRun("r1", _FileSink(str(path)))
    with pytest.warns(LoggedValueWarning) as caught:
        run.log("count", 2**1100)  # refused: nothing is written
        run.tag("file", "data_\udcff.csv")  # as os.listdir returns a non-UTF-8 name
        run.log("big", 2**70)
        run.log_row("row", path="a\udcffb", blob=b"\xff", nan=float("nan"))
        run.log_table("t", {"c": [1, 2**1100]})  # refused as a whole
        run.log_list("l", [1.0, float("inf")])  # nothing to convert: no warning
    messages = [str(w.message) for w in caught]
    assert len(messages) == 5
    assert (
        "run.log('count') was not logged" in messages[0] and "beyond the float range" in messages[0]
    )
    assert "data_\\xff.csv" in messages[1] and "run.log_table('t') was not logged" in messages[4]
    raw = path.read_bytes()
    raw.decode("utf-8")
    records = parse_records("r1", raw.splitlines())
    assert [(r.kind, r.name) for r in records] == [
        ("tag", "file"),
        ("metric", "big"),
        ("row", "row"),
        ("list", "l"),
    ]
    assert records[0].value == "data_\\xff.csv" and records[1].value == float(2**70)
    assert records[2].value["path"] == "a\\xffb" and records[2].value["blob"] == "\\xff"
    assert run.get_tags() == {"file": "data_\\xff.csv"} and "count" not in run.get_metrics()


def test_a_script_that_logs_a_bad_value_warns_on_stderr_and_goes_on() -> None:
    code = "from hypersweep import Run\nrun = Run.get_context()\nrun.log('count', 2**1100)\nprint('still here')\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (
        "still here" in proc.stdout
        and "LoggedValueWarning: run.log('count') was not logged" in proc.stderr
    )


values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats()
    | st.integers(-(2**1100), 2**1100)
    | st.text()
    | st.binary(max_size=8)
    | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(values, min_size=1, max_size=5), st.text(max_size=5))
def test_property_every_line_written_is_read_back(tmp_path_factory, items, name) -> None:
    from hypersweep.executors.base import parse_records
    from hypersweep.run import LoggedValueWarning

    path = tmp_path_factory.mktemp("ev") / "events.jsonl"
    run = _LiveRun("r1", _FileSink(str(path)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LoggedValueWarning)
        for value in items:
            run.log_row(name, v=value)
            run.tag(name, value)
    lines = path.read_bytes().splitlines()
    assert len(parse_records("r1", lines)) == len(lines) >= len(items)  # tags are never refused
