"""Time to first trial with a cached environment, against no environment, in one run.

    python benchmarks/environment.py [--repeats 7]

Builds a virtual environment once (from a tiny wheel this script writes, so no network is needed),
then alternates sweeps with that environment (found in the cache) and sweeps without one, timing
each from ``submit`` until its first trial has completed (the trial imports the package when it has
the environment, and logs one value with ``Run``). Prints the medians and their ratio (target: <= 1.2).
The first, building, sweep is timed too, for information.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hypersweep import (  # noqa: E402
    CondaDependencies,
    Environment,
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    uniform,
)
from test_environment import make_wheel  # noqa: E402 - the same hand-written wheel as the tests

SCRIPT = """
try:
    import hs_tinypkg  # noqa: F401 - present in the environment only
except ImportError:
    pass
from hypersweep import Run
Run.get_context().log("metric", 1.0)
"""


def first_trial_seconds(ws: Workspace, src: Path, env: Environment | None) -> float:
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="train.py", environment=env),
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, {"seed": 0}),
        primary_metric_name="metric",
        primary_metric_goal="maximize",
        max_total_runs=1,
        max_concurrent_runs=1,
    )
    start = time.perf_counter()
    run = Experiment(ws, "bench-env").submit(config)
    deadline = start + 300
    while time.perf_counter() < deadline:
        rows = ws.store.runs(run.id)
        if rows and rows[0]["status"] == "Completed":
            break
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    run.wait_for_completion()
    assert run.get_children()[0].get_status() == "Completed"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wheels = root / "wheels"
        make_wheel(wheels)
        src = root / "src"
        src.mkdir()
        (src / "train.py").write_text(SCRIPT)
        ws = Workspace(root / "ws")

        def env() -> Environment:
            e = Environment("bench")
            e.python.conda_dependencies = CondaDependencies.create(
                pip_packages=["hs-tinypkg==0.1", "--no-index", f"--find-links={wheels}"]
            )
            return e

        building = first_trial_seconds(ws, src, env())
        first_trial_seconds(ws, src, None)  # warm the no-environment path too
        cached, plain = [], []
        for _ in range(args.repeats):
            cached.append(first_trial_seconds(ws, src, env()))
            plain.append(first_trial_seconds(ws, src, None))
        c, p = statistics.median(cached), statistics.median(plain)
        print(f"first sweep (builds the environment): {building * 1000:.0f} ms to its first trial")
        print(
            f"cached environment: median {c * 1000:.0f} ms to first trial ({args.repeats} sweeps)"
        )
        print(
            f"no environment:     median {p * 1000:.0f} ms to first trial ({args.repeats} sweeps)"
        )
        print(f"ratio {c / p:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
