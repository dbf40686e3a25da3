"""The examples in examples/ run as documented (with fewer trials)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hypersweep import Experiment
from hypersweep.sweepfile import load_sweep_file

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("sklearn")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "digits"


def test_the_yaml_example(workspace) -> None:
    spec = load_sweep_file(EXAMPLES / "sweep.yml")
    spec.config.max_total_runs = 3
    run = Experiment(workspace, spec.experiment_name).submit(spec.config)
    run.wait_for_completion()
    assert len(run.get_children()) == 3
    best = run.get_best_run_by_primary_metric()
    assert best.get_status() == "Completed"  # with three runs, median stopping keeps the best one
    assert len(best.get_metrics()["accuracy"]) == 20
    assert max(best.get_metrics()["accuracy"]) > 0.8
    assert "outputs/model.joblib" in best.get_file_names()


def test_the_hyperdrive_style_driver(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "run_sweep.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "EXAMPLE_RUNS": "3", "COLUMNS": "160"},
    )
    assert done.returncode == 0, done.stderr
    assert "Best run: HD_" in done.stdout
    assert "Its arguments: ['--epochs', '20', '--hidden'" in done.stdout
    assert (tmp_path / "best_model.joblib").stat().st_size > 1000
    assert (tmp_path / ".hypersweep" / "hypersweep.db").exists()


def test_the_v2_yaml_example(tmp_path) -> None:
    v2 = EXAMPLES.parent / "iris_v2" / "sweep.yml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hypersweep",
            "run",
            str(v2),
            "-q",
            "--set",
            "limits.max_total_trials=3",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    assert "Best run: HD_" in done.stdout
    assert "compute: 'azureml:cpu-cluster'" in " ".join(done.stderr.split())
    runs = list((tmp_path / ".hypersweep" / "runs").glob("HD_*_*"))
    assert len(runs) == 3 and all(
        (r / "outputs" / "model" / "model.joblib").is_file() for r in runs
    )
