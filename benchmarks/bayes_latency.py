"""Latency of BayesianParameterSampling: milliseconds for one suggestion after N observations.

History: N uniformly random points of the 6-D Hartmann function (seed 0) with their values.

* ``warm``: the sampler has already answered the call before (N-1 observations), as in a running
  sweep; median and max over 5 consecutive calls (N, N+1, ..., N+4 observations), so an
  occasional full hyperparameter refit at a checkpoint is included in the max.
* ``cold``: a new sampler object answers with N observations (a resumed sweep: no cached fit).

Baselines measured in the same run: one ``numpy.linalg.solve`` of a 100 x 100 system and one
``RandomParameterSampling.suggest(1)``; the ratios make the figures comparable across machines.

    python benchmarks/bayes_latency.py [--sizes 10,100,300,1000] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _timed(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="10,100,300,1000")
    ap.add_argument("--threads", default="1", help="BLAS threads (1 = the harness's setting)")
    args = ap.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = args.threads

    import numpy as np
    from sampler_problems import hartmann6  # beside this file

    from hypersweep.goal import PrimaryMetricGoal
    from hypersweep.sampling import BayesianParameterSampling, Observation, RandomParameterSampling
    from hypersweep.space import uniform

    space = {f"x{i}": uniform(0, 1) for i in range(6)}
    goal = PrimaryMetricGoal.MINIMIZE
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(0)
    X = rng.random((max(sizes) + 5, 6))
    configs = [{f"x{i}": float(v) for i, v in enumerate(x)} for x in X]
    history = [Observation(c, hartmann6(c)) for c in configs]

    a, b = rng.random((100, 100)) + 100 * np.eye(100), rng.random(100)
    base_solve = _timed(lambda: np.linalg.solve(a, b), 200)
    rand = RandomParameterSampling(space, properties={"seed": 0})
    base_random = _timed(lambda: rand.suggest(1, history[:100], goal), 50)
    BayesianParameterSampling(space, properties={"seed": 0}).suggest(
        1, history[:20], goal
    )  # imports

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, BLAS threads {args.threads}")
    print(
        f"baseline: numpy.linalg.solve 100x100 = {base_solve * 1e3:.3f} ms; "
        f"RandomParameterSampling.suggest(1) = {base_random * 1e3:.3f} ms"
    )
    print()
    print(
        "| N observations | warm median ms | warm max ms | cold ms | warm / solve100 | warm / random |"
    )
    print("|---|---|---|---|---|---|")
    for n in sizes:
        sampler = BayesianParameterSampling(space, properties={"seed": 0})
        sampler.suggest(1, history[: n - 1], goal)  # the previous call of a running sweep
        warm = []
        for k in range(n, n + 5):
            t0 = time.perf_counter()
            sampler.suggest(1, history[:k], goal)
            warm.append(time.perf_counter() - t0)
        fresh = BayesianParameterSampling(space, properties={"seed": 0})
        t0 = time.perf_counter()
        fresh.suggest(1, history[:n], goal)
        cold = time.perf_counter() - t0
        med = statistics.median(warm)
        print(
            f"| {n} | {med * 1e3:.1f} | {max(warm) * 1e3:.1f} | {cold * 1e3:.1f} | "
            f"{med / base_solve:.0f}x | {med / base_random:.0f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
