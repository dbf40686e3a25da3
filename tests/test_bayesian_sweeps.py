"""Bayesian sampling in real sweeps: script trials from a sweep file, callable trials with concurrency."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hypersweep import BayesianParameterSampling, Experiment, HyperDriveConfig, uniform


@pytest.mark.integration
def test_bayesian_sweep_file_with_script_trials(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f.py").write_text(
        "import argparse\nfrom hypersweep import Run\n"
        "p = argparse.ArgumentParser(); p.add_argument('--x', type=float); p.add_argument('--n', type=int)\n"
        "a = p.parse_args()\nRun.get_context().log('loss', (a.x - 0.3) ** 2 + (a.n - 4) ** 2)\n"
    )
    (tmp_path / "sweep.yml").write_text(
        "trial:\n  code: src\n  command: python f.py --x ${{search_space.x}} --n ${{search_space.n}}\n"
        "search_space:\n  x: {type: uniform, min_value: 0, max_value: 1}\n  n: {type: quniform, min_value: 0, max_value: 10, q: 1}\n"
        "sampling_algorithm: {type: bayesian, seed: 3}\n"
        "objective: {primary_metric: loss, goal: minimize}\n"
        "limits: {max_total_trials: 16, max_concurrent_trials: 2}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "hypersweep", "run", "sweep.yml", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Bayesian sampling works best with max_total_runs >= 20" in " ".join(done.stderr.split())
    best = subprocess.run(
        [sys.executable, "-m", "hypersweep", "best", "latest", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    data = json.loads(best.stdout)
    assert isinstance(data["hyperparameters"]["n"], int)  # quantized values stay integers
    assert data["best_value"] < 1.0


def test_bayesian_callables_with_concurrency_never_repeat(workspace) -> None:
    seen = []

    def trial(cfg):
        seen.append((cfg["x"], cfg["y"]))
        return (cfg["x"] - 0.25) ** 2 + (cfg["y"] - 0.75) ** 2

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=BayesianParameterSampling(
            {"x": uniform(0, 1), "y": uniform(0, 1)}, {"seed": 0}
        ),
        primary_metric_name="loss",
        primary_metric_goal="minimize",
        max_total_runs=40,
        max_concurrent_runs=4,
    )
    run = Experiment(workspace, "bayes").submit(config)
    run.wait_for_completion()
    assert len(set(seen)) == len(seen) == 40
    assert run.get_children_sorted_by_primary_metric(top=1)[0]["best_primary_metric"] < 0.01
