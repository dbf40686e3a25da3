"""The subprocess executor against real processes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from conftest import pid_alive
from hypersweep.executors.base import Logged, RunEnded, RunStarted, TrialSpec
from hypersweep.executors.local import LocalProcessExecutor
from hypersweep.run import ENV_EVENTS, ENV_RUN_ID
from hypersweep.status import RunStatus

pytestmark = pytest.mark.integration


def spec_for(tmp_path: Path, code: str, run_id: str = "r0") -> TrialSpec:
    run_dir = tmp_path / run_id
    run_dir.mkdir()
    (run_dir / "t.py").write_text(code)
    spec = TrialSpec(run_id, run_dir, {}, argv=[sys.executable, "t.py"])
    spec.env = {ENV_RUN_ID: run_id, ENV_EVENTS: str(spec.events_path)}
    return spec


def drain(ex: LocalProcessExecutor, timeout: float = 30.0) -> list:
    events, deadline = [], time.monotonic() + timeout
    while ex.active() and time.monotonic() < deadline:
        events += ex.poll(0.05)
    assert not ex.active(), "trials did not end in time"
    return events


def test_metrics_and_status_of_a_completed_script(tmp_path) -> None:
    ex = LocalProcessExecutor()
    ex.start(
        spec_for(
            tmp_path,
            "from hypersweep import Run\nr = Run.get_context()\nfor i in range(3): r.log('m', i)\nr.tag('t', 'v')\nprint('hi')\n",
        )
    )
    events = drain(ex)
    assert isinstance(events[0], RunStarted)
    logged = [e for e in events if isinstance(e, Logged)]
    assert [(e.kind, e.name, e.value) for e in logged] == [
        ("metric", "m", 0),
        ("metric", "m", 1),
        ("metric", "m", 2),
        ("tag", "t", "v"),
    ]
    assert events[-1] == RunEnded("r0", RunStatus.COMPLETED, None, events[-1].time)
    assert (tmp_path / "r0" / "logs" / "stdout.txt").read_text() == "hi\n"
    assert (tmp_path / "r0" / "outputs").is_dir()


def test_crash_right_after_logging_loses_nothing(tmp_path) -> None:
    code = "import os\nfrom hypersweep import Run\nr = Run.get_context()\nr.log('m', 1.5)\nr.log('m', float('nan'))\nos._exit(3)\n"
    ex = LocalProcessExecutor()
    ex.start(spec_for(tmp_path, code))
    events = drain(ex)
    values = [e.value for e in events if isinstance(e, Logged)]
    assert values[0] == 1.5 and values[1] != values[1]  # NaN kept
    end = events[-1]
    assert end.status is RunStatus.FAILED and "exited with code 3" in end.error


def test_exception_message_is_kept_in_the_error(tmp_path) -> None:
    ex = LocalProcessExecutor()
    ex.start(spec_for(tmp_path, "raise RuntimeError('boom in training')\n"))
    end = drain(ex)[-1]
    assert end.status is RunStatus.FAILED
    assert "boom in training" in end.error
    assert "boom in training" in (tmp_path / "r0" / "logs" / "stderr.txt").read_text()


def test_stop_kills_the_whole_process_group(tmp_path) -> None:
    code = (
        "import subprocess, sys, time, signal\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
        "open('child.pid', 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    ex = LocalProcessExecutor(grace_seconds=0.5)
    spec = spec_for(tmp_path, code)
    ex.start(spec)
    pid_file = spec.run_dir / "child.pid"
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text():
        ex.poll(0.05)
        assert time.monotonic() < deadline
    child = int(pid_file.read_text())
    parent = ex.pids()["r0"]
    ex.stop("r0", "policy said so")
    end = drain(ex)[-1]
    assert end.status is RunStatus.CANCELED and end.error == "policy said so"
    time.sleep(0.2)
    assert not pid_alive(parent) and not pid_alive(child)


def test_megabytes_of_output_do_not_block(tmp_path) -> None:
    ex = LocalProcessExecutor()
    ex.start(
        spec_for(
            tmp_path, "import sys\nfor _ in range(20000): sys.stdout.write('x' * 200 + '\\n')\n"
        )
    )
    assert drain(ex)[-1].status is RunStatus.COMPLETED
    assert (tmp_path / "r0" / "logs" / "stdout.txt").stat().st_size > 4_000_000


def test_a_missing_interpreter_fails_the_run_not_the_executor(tmp_path) -> None:
    ex = LocalProcessExecutor()
    spec = spec_for(tmp_path, "")
    spec.argv = ["/nonexistent/python", "t.py"]
    ex.start(spec)
    end = drain(ex)[-1]
    assert end.status is RunStatus.FAILED and "Could not start" in end.error


def test_torn_lines_are_completed_across_polls(tmp_path) -> None:
    code = (
        "import os, time, json\n"
        "fd = os.open(os.environ['HYPERSWEEP_EVENTS'], os.O_WRONLY | os.O_APPEND)\n"
        "line = json.dumps({'k': 'metric', 'n': 'm', 'v': 7, 't': 0}) + '\\n'\n"
        "os.write(fd, line[:10].encode()); time.sleep(0.3); os.write(fd, line[10:].encode())\n"
    )
    ex = LocalProcessExecutor()
    ex.start(spec_for(tmp_path, code))
    logged = [e for e in drain(ex) if isinstance(e, Logged)]
    assert [e.value for e in logged] == [7]
