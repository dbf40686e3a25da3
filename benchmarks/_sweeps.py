"""What the benchmarks share: the trivial training script and a timed sweep of it."""

from __future__ import annotations

import time
from pathlib import Path

from hypersweep import (
    Experiment,
    FunctionRunConfig,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    uniform,
)

TRIVIAL = "from hypersweep import Run\nRun.get_context().log('metric', 1.0)\n"


def trivial_trial(cfg: dict) -> float:
    return cfg["x"]


def timed_sweep(
    root: Path, n: int, concurrency: int, target: str = "local", callable_trial: bool = False
) -> float:
    """Seconds for a sweep of ``n`` trivial trials (scripts, or callables) on ``target``, submit to end."""
    src = root / "src"
    src.mkdir(exist_ok=True)
    (src / "trivial.py").write_text(TRIVIAL)
    if callable_trial:
        run_config: object = FunctionRunConfig(trivial_trial, compute_target=target)
    else:
        run_config = ScriptRunConfig(
            source_directory=src, script="trivial.py", compute_target=target
        )
    config = HyperDriveConfig(
        run_config=run_config,
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, {"seed": 0}),
        primary_metric_name="metric",
        primary_metric_goal="maximize",
        max_total_runs=n,
        max_concurrent_runs=concurrency,
    )
    ws = Workspace(root / f"ws-{time.monotonic_ns()}")
    start = time.perf_counter()
    run = Experiment(ws, "bench").submit(config)
    run.wait_for_completion()
    elapsed = time.perf_counter() - start
    completed = sum(c.get_status() == "Completed" for c in run.get_children())
    assert completed == n, f"{completed} of {n} completed"
    return elapsed
