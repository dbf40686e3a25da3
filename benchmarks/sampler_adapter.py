"""Benchmark adapter: drives hypersweep's BayesianParameterSampling through its public interface.

Used by the shared sampler harness (``run_bench.py --adapter benchmarks/sampler_adapter.py``).
Contract: ``run(problem, budget, seed, batch) -> list[float]``; the harness's neutral space uses
HyperDrive's expressions (loguniform bounds are exponents, quniform = round(U / q) * q), so it maps
one to one onto hypersweep's expressions.

Batch semantics: each round asks for ``batch`` configurations one at a time, passing the ones
already asked as pending (Queued) observations, exactly as the sweep controller does when runs
are in flight; then evaluates them all and tells the results as completed observations.
"""

from __future__ import annotations

from typing import Any

NAME = "hypersweep-bayes"


def preload() -> None:
    """Import everything before the harness starts timing."""
    import scipy.linalg  # noqa: F401
    import scipy.optimize  # noqa: F401
    import scipy.special  # noqa: F401
    import scipy.stats  # noqa: F401

    import hypersweep.sampling.bayesian  # noqa: F401


def _space(neutral: dict[str, list[Any]]) -> dict[str, Any]:
    from hypersweep.space import choice, loguniform, quniform, uniform

    out: dict[str, Any] = {}
    for name, expr in neutral.items():
        kind, args = expr[0], expr[1:]
        if kind == "uniform":
            out[name] = uniform(*args)
        elif kind == "loguniform":
            out[name] = loguniform(*args)
        elif kind == "quniform":
            out[name] = quniform(*args)
        elif kind == "choice":
            out[name] = choice(list(args[0]))
        else:
            raise NotImplementedError(f"expression {kind!r}")
    return out


def run(problem: Any, budget: int, seed: int, batch: int) -> list[float]:
    from hypersweep.goal import PrimaryMetricGoal
    from hypersweep.sampling import BayesianParameterSampling, Observation
    from hypersweep.status import RunStatus

    sampler = BayesianParameterSampling(_space(problem.space), properties={"seed": seed})
    goal = PrimaryMetricGoal.MINIMIZE
    done: list[Observation] = []
    values: list[float] = []
    while len(values) < budget:
        pending: list[Observation] = []
        for _ in range(min(batch, budget - len(values))):
            configs = sampler.suggest(1, done + pending, goal)
            if not configs:
                break
            pending.append(Observation(configs[0], status=RunStatus.QUEUED))
        if not pending:
            break
        for obs in pending:
            value = problem.evaluate(dict(obs.config))
            values.append(value)
            done.append(Observation(obs.config, value=value, status=RunStatus.COMPLETED))
    return values
