"""Plugins defined only in tests/plugins/ (a sampler, a policy, an executor) work as the built-ins do.

The checks are in ``tests/plugins/plugin_checks.py``; they run in a pytest process of their own, so
the plugins they register (by importing them) stay out of the messages the other tests check.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hypersweep import Experiment, Workspace

CHECKS = Path(__file__).parent / "plugins" / "plugin_checks.py"
UNNAMED_CHECKS = Path(__file__).parent / "plugins" / "unnamed_checks.py"


@pytest.mark.integration
@pytest.mark.parametrize(("checks", "count"), [(CHECKS, 5), (UNNAMED_CHECKS, 4)])
def test_plugins_defined_outside_the_package(tmp_path: Path, checks: Path, count: int) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(checks),
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "t"),
        ],
        capture_output=True,
        text=True,
        timeout=280,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert re.search(rf"\b{count} passed", done.stdout), done.stdout[-2000:]


TRAIN = """
import argparse, os, time
from hypersweep import Run

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
args = parser.parse_args()
run = Run.get_context()
run.log("niceness", os.nice(0))
for epoch in range(300):  # stops improving after interval 3: PatiencePolicy(2) stops it at interval 5
    run.log("score", min(epoch, 2) + args.x)
    time.sleep(0.2)
"""

SWEEP = """
type: sweep
experiment_name: plugins-cli
trial:
  code: src
  command: python train.py --x ${{search_space.x}}
search_space:
  x: {type: uniform, min_value: 0, max_value: 1}
sampling_algorithm: {type: stride, seed: 3, stride: 2}
early_termination: {type: patience, patience: 2}
objective: {primary_metric: score, goal: maximize}
limits: {max_total_trials: 2, max_concurrent_trials: 2}
compute: nice
"""


@pytest.mark.integration
def test_installed_plugins_work_in_the_hypersweep_command(tmp_path: Path) -> None:
    """A distribution's entry points (group hypersweep.plugins) make its classes known to ``hypersweep run``."""
    site = tmp_path / "site"
    info = site / "hypersweep_test_plugins-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hypersweep-test-plugins\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        "[hypersweep.plugins]\n"
        "stride = plugins.stride_sampling\npatience = plugins.patience_policy\nnice = plugins.nice_executor\n"
    )
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "train.py").write_text(TRAIN)
    (project / "sweep.yml").write_text(SWEEP)
    paths = [os.environ.get("PYTHONPATH", ""), str(Path(__file__).parent), str(site)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}

    def hypersweep(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hypersweep", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=200,
        )

    done = hypersweep("run", "sweep.yml", "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    shown = hypersweep("show", "latest")
    assert shown.returncode == 0 and shown.stdout.count("Canceled") == 2, shown.stdout
    assert "Patience: no improvement" in " ".join(shown.stdout.split()), shown.stdout
    best = json.loads(hypersweep("best", "latest", "--json").stdout)
    assert best["metrics"]["niceness"] == min(os.nice(0) + 5, 19)  # run by the plugin executor
    sweep = Experiment(Workspace(project), "plugins-cli").get_runs()[0]
    assert json.loads(sweep.get_details()["properties"]["generator_config"])["name"] == "Stride"
