"""Orchestration overhead of the Ray executor on a local Ray cluster, against baselines in the same run.

    python benchmarks/ray_overhead.py [--trials 100] [--worker-cpus 2] [--repeats 2]

Starts a local cluster like the tests do (a head with no CPUs and one worker node with
``--worker-cpus`` CPUs, in a temp dir of its own) and stops exactly what it started at the end.
Every measurement runs ``--trials`` trivial trials, ``--worker-cpus`` at a time:

1. hypersweep sweep, local executor: script trials as subprocesses of this machine.
2. hypersweep sweep, Ray executor: the same script trials, each a Ray task on the worker node.
3. plain Ray tasks, each running the same script with ``subprocess.run`` (no sweep, no metrics).
4. hypersweep sweep, Ray executor, callable trials (a function returning the metric).
5. Ray Tune, the same number of trivial function trainables (if ``ray[tune]`` is installed).

Prints wall times (median over repeats, interleaved) and the ratios between them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "executors"))

from _sweeps import TRIVIAL, timed_sweep  # noqa: E402 - benchmarks/ is on sys.path as the script's folder
from test_ray import LocalRayCluster  # noqa: E402 - the tests' cluster helper


def plain_ray(root: Path, n: int, concurrency: int) -> float:
    import ray

    src = root / "plain"
    src.mkdir(exist_ok=True)
    (src / "trivial.py").write_text(TRIVIAL)
    script = str(src / "trivial.py")

    @ray.remote(num_cpus=1, max_retries=0)
    def one(i: int) -> int:
        return subprocess.run(
            [sys.executable, script, "--x", str(i / n)], capture_output=True
        ).returncode

    start = time.perf_counter()
    codes = ray.get([one.remote(i) for i in range(n)])  # the cluster's CPUs bound the concurrency
    elapsed = time.perf_counter() - start
    assert codes == [0] * n
    return elapsed


def tune(root: Path, n: int, concurrency: int) -> float:
    from ray import tune as ray_tune

    def trainable(config: dict) -> None:
        ray_tune.report({"metric": config["x"]})

    tuner = ray_tune.Tuner(
        ray_tune.with_resources(trainable, {"cpu": 1}),
        param_space={"x": ray_tune.uniform(0, 1)},
        tune_config=ray_tune.TuneConfig(
            num_samples=n,
            max_concurrent_trials=concurrency,
            metric="metric",
            mode="max",
            reuse_actors=True,
        ),
        run_config=ray_tune.RunConfig(
            storage_path=str(root / "tune"), name=f"t{time.monotonic_ns()}", verbose=0
        ),
    )
    start = time.perf_counter()
    results = tuner.fit()
    elapsed = time.perf_counter() - start
    assert len(results) == n and not results.errors, results.errors
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--worker-cpus", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--no-tune", action="store_true", help="skip Ray Tune even if it is installed"
    )
    args = parser.parse_args()
    n, k = args.trials, args.worker_cpus
    try:
        from ray import tune as _  # noqa: F401

        have_tune = not args.no_tune
    except ImportError:
        have_tune = False
    print(
        f"{n} trivial trials, {k} at a time; local Ray cluster: head (0 CPUs) + 1 worker node ({k} CPUs)"
    )
    cluster = LocalRayCluster(worker_cpus=k)
    t0 = time.perf_counter()
    cluster.start()
    print(f"cluster started in {time.perf_counter() - t0:.1f} s")
    os.environ["RAY_ADDRESS"] = cluster.address
    try:
        import ray

        measures: dict[str, Callable[[Path], float]] = {
            "hypersweep, local executor, scripts": lambda r: timed_sweep(r, n, k, "local"),
            "hypersweep, Ray executor, scripts": lambda r: timed_sweep(r, n, k, "ray"),
            "plain Ray tasks running the scripts": lambda r: plain_ray(r, n, k),
            "hypersweep, Ray executor, callables": lambda r: timed_sweep(
                r, n, k, "ray", callable_trial=True
            ),
        }
        if have_tune:
            measures["Ray Tune, function trainables"] = lambda r: tune(r, n, k)
        times: dict[str, list[float]] = {name: [] for name in measures}
        with tempfile.TemporaryDirectory() as tmp:
            timed_sweep(
                Path(tmp), 4, k, "ray"
            )  # warm-up: connect, start the cluster's worker processes
            for _ in range(args.repeats):  # interleaved, so drift in machine load hits all alike
                for name, measure in measures.items():
                    times[name].append(measure(Path(tmp)))
        med = {name: statistics.median(ts) for name, ts in times.items()}
        width = max(map(len, med))
        for name, ts in times.items():
            runs = ", ".join(f"{t:.2f}" for t in ts)
            print(
                f"  {name:<{width}} : {med[name]:6.2f} s  ({1000 * med[name] / n:5.1f} ms/trial; runs: {runs})"
            )
        ray_scripts = med["hypersweep, Ray executor, scripts"]
        print(
            f"  ratio Ray executor / local executor (scripts)  : {ray_scripts / med['hypersweep, local executor, scripts']:.2f}"
        )
        print(
            f"  ratio Ray executor / plain Ray tasks (scripts) : {ray_scripts / med['plain Ray tasks running the scripts']:.2f}"
        )
        if have_tune:
            tune_t = med["Ray Tune, function trainables"]
            print(f"  ratio Ray executor scripts / Ray Tune          : {ray_scripts / tune_t:.2f}")
            print(
                f"  ratio Ray executor callables / Ray Tune        : {med['hypersweep, Ray executor, callables'] / tune_t:.2f}"
            )
        else:
            print("  Ray Tune: not installed (pip install 'ray[tune]'), skipped")
        if ray.is_initialized():
            ray.shutdown()
    finally:
        cluster.stop()
        left = cluster.processes()
        print("cluster stopped" + (f"; left behind: {left}" if left else "; no Ray process left"))


if __name__ == "__main__":
    main()
