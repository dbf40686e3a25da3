"""Failure is reported as failure: a sweep whose every run failed ends Failed, the command says so with the
first failure's stderr, and a command whose script is missing fails at submission, before any trial."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    uniform,
)
from hypersweep.errors import InvalidConfigError, RunFailedError

FAILING = """
import sys
print("training diverged: loss is nan", file=sys.stderr)
sys.exit(3)
"""

SOMETIMES = """
import argparse, sys
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a = p.parse_args()
if a.x < 0.5:
    sys.exit("too small")
Run.get_context().log("score", a.x)
"""

SWEEP = """
type: sweep
trial:
  code: src
  command: python SCRIPT --x ${{search_space.x}}
search_space:
  x: {type: uniform, min_value: 0, max_value: 1}
sampling_algorithm: {type: random, seed: 1}
objective: {primary_metric: score, goal: maximize}
limits: {max_total_trials: 3, max_concurrent_trials: 3}
"""


def config(src: Path, script: str, total: int = 3) -> HyperDriveConfig:
    return HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script=script),
        hyperparameter_sampling=RandomParameterSampling(
            {"x": uniform(0, 1)}, properties={"seed": 1}
        ),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=total,
        max_concurrent_runs=3,
    )


def test_a_sweep_whose_every_run_failed_ends_failed(workspace: Workspace, script_dir) -> None:
    src = script_dir("fail.py", FAILING)
    sweep = Experiment(workspace, "fail").submit(config(src, "fail.py"))
    with pytest.raises(RunFailedError, match="Every run failed"):
        sweep.wait_for_completion()
    assert sweep.get_status() == "Failed"
    message = sweep.get_details()["error"]["message"]
    assert "(3)" in message and "_0" in message and "training diverged: loss is nan" in message


def test_a_sweep_with_one_completed_run_completes(workspace: Workspace, script_dir) -> None:
    src = script_dir("sometimes.py", SOMETIMES)
    sweep = Experiment(workspace, "some").submit(config(src, "sometimes.py", total=6))
    sweep.wait_for_completion()
    statuses = {c.get_status() for c in sweep.get_children()}
    assert statuses == {"Completed", "Failed"}
    assert sweep.get_status() == "Completed"


def hypersweep(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hypersweep", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_hypersweep_run_exits_non_zero_with_the_first_failure_stderr(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "fail.py").write_text(textwrap.dedent(FAILING))
    (tmp_path / "sweep.yml").write_text(textwrap.dedent(SWEEP).replace("SCRIPT", "fail.py"))
    result = hypersweep("run", "sweep.yml", "-q", cwd=tmp_path)
    assert result.returncode == 1
    text = " ".join(result.stderr.split())
    assert "Sweep ended as Failed" in text and "training diverged: loss is nan" in text


def test_a_missing_script_fails_at_submission_naming_the_command(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "sweep.yml").write_text(textwrap.dedent(SWEEP).replace("SCRIPT", "train.py"))
    result = hypersweep("run", "sweep.yml", "-q", cwd=tmp_path)
    assert result.returncode == 2
    text = " ".join(result.stderr.split())
    assert "trial.command" in text and "'train.py'" in text and "python train.py --x" in text
    assert not (tmp_path / ".hypersweep").exists()  # no sweep, no trial


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        ("python train.py --x 1", "script 'train.py' is a file inside"),
        ("python3 sub/train.py", "script 'sub/train.py'"),
        ("no-such-program-hs --x 1", "program 'no-such-program-hs' is on PATH"),
        ("python train.py --data ${{inputs.data}}", "names a defined input"),
        ("python ok.py --out ${{outputs.model}}", "names a defined output"),
        ("   ", "a non-empty command"),
    ],
)
def test_script_run_config_checks_its_command(tmp_path: Path, command: str, rule: str) -> None:
    (tmp_path / "ok.py").write_text("")
    with pytest.raises(InvalidConfigError, match="'command' parameter of ScriptRunConfig") as info:
        ScriptRunConfig(source_directory=tmp_path, command=command)
    assert rule in str(info.value)


def test_commands_that_can_start_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("")
    for command in (
        "python ok.py",
        "python -m json.tool",
        "python -c pass",
        "sh -c true",
        "python ok.py --out ${{outputs.model}}",
        "${{inputs.python}} ok.py",
    ):
        ScriptRunConfig(
            source_directory=tmp_path,
            command=command,
            outputs=["model"],
            inputs={"python": "python"},
        )
