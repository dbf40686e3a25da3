"""Orchestrator overhead, measured against baselines run in the same process.

    python benchmarks/orchestrator.py [--scripts 200] [--concurrency 8] [--callables 2000]

1. Script trials: N trivial training scripts (each logs one metric and exits) through a full sweep
   at the given concurrency, against a plain concurrent.futures pool launching the same N
   subprocesses. Prints both wall times and their ratio (target: <= 1.2).
2. Callable trials: trivial callables through the full path (sampler, executor, SQLite store,
   results query). Prints trials per second (target: >= 300).
3. Import cost: ``python -c "from hypersweep import Run"`` against ``python -c pass``, median of
   repeated runs. Prints the difference (target: < 50 ms).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _sweeps import TRIVIAL, timed_sweep

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    Workspace,
    uniform,
)


def pool_scripts(root: Path, n: int, concurrency: int) -> float:
    src = root / "plain"
    src.mkdir(exist_ok=True)
    (src / "trivial.py").write_text(TRIVIAL)

    def one(i: int) -> int:
        out = open(src / f"out{i}.txt", "wb")
        try:
            return subprocess.run(
                [sys.executable, "trivial.py", "--x", str(i / n)],
                cwd=src,
                stdout=out,
                stderr=subprocess.STDOUT,
            ).returncode
        finally:
            out.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        codes = list(pool.map(one, range(n)))
    elapsed = time.perf_counter() - start
    assert codes == [0] * n
    return elapsed


def callables(root: Path, n: int, concurrency: int) -> float:
    def trial(cfg: dict) -> float:
        return cfg["x"]

    config = HyperDriveConfig(
        run_config=trial,
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, {"seed": 0}),
        primary_metric_name="metric",
        primary_metric_goal="maximize",
        max_total_runs=min(n, 1000),
        max_concurrent_runs=concurrency,
    )
    ws = Workspace(root / f"ws-{time.monotonic_ns()}")
    start = time.perf_counter()
    done = 0
    while done < n:
        run = Experiment(ws, "bench").submit(config)
        run.wait_for_completion()
        assert run.get_best_run_by_primary_metric() is not None
        done += config.max_total_runs
    return done / (time.perf_counter() - start)


def import_cost(repeats: int) -> tuple[float, float]:
    def median_time(code: str) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return median_time("pass"), median_time("from hypersweep import Run")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scripts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--callables", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the script comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ours, plain = [], []
        for _ in range(args.repeats):  # interleaved, so drift in machine load hits both alike
            plain.append(pool_scripts(root, args.scripts, args.concurrency))
            ours.append(timed_sweep(root, args.scripts, args.concurrency))
        o, p = statistics.median(ours), statistics.median(plain)
        print(f"script trials: {args.scripts} at concurrency {args.concurrency}")
        print(
            f"  plain ThreadPoolExecutor + subprocess.run : {p:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in plain)})"
        )
        print(
            f"  hypersweep sweep                          : {o:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in ours)})"
        )
        print(f"  ratio hypersweep / plain                  : {o / p:6.3f}  (target <= 1.2)")
        rate = callables(root, args.callables, args.concurrency)
        print(f"callable trials: {rate:,.0f} trials/s through the full path (target >= 300)")
        base, imp = import_cost(15)
        print(
            f"import: python -c pass {base * 1000:.1f} ms; with 'from hypersweep import Run' {imp * 1000:.1f} ms;"
            f" added {(imp - base) * 1000:.1f} ms (target < 50 ms)"
        )


if __name__ == "__main__":
    main()
