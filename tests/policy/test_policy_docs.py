"""The examples in the policies' docstrings run, and one decision stays fast at scale."""

from __future__ import annotations

import doctest
import random
import statistics
import time
from types import ModuleType

import pytest

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy import (
    AshaPolicy,
    BanditPolicy,
    EarlyTerminationPolicy,
    MedianStoppingPolicy,
    RobustAshaPolicy,
    RunHistory,
    TruncationSelectionPolicy,
    _from_data,
    asha,
    bandit,
    median,
    none,
    robust_asha,
    truncation,
)


@pytest.mark.parametrize(
    "module", [asha, bandit, median, none, robust_asha, truncation, _from_data]
)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    "policy",
    [
        BanditPolicy(slack_factor=0.1),
        MedianStoppingPolicy(),
        TruncationSelectionPolicy(20, exclude_finished_jobs=True),
        AshaPolicy(reduction_factor=10),  # rungs 1, 10, 100
        RobustAshaPolicy(reduction_factor=10, min_interval=1, trend_factor=1.0),
    ],
    ids=lambda p: type(p).__name__,
)
def test_one_decision_with_1000_runs_by_100_intervals_is_fast(
    policy: EarlyTerminationPolicy,
) -> None:
    # The requirement is well under 1 ms (about 0.07 ms on the reference machine, see
    # benchmarks/policy_latency.py); the bound here is loose so that a loaded machine passes.
    rng = random.Random(0)
    histories = {
        f"r{i}": RunHistory(f"r{i}", [rng.random() for _ in range(99)]) for i in range(1000)
    }
    goal = PrimaryMetricGoal.MAXIMIZE
    times = []
    for run_id, history in list(histories.items())[:60]:
        history.values.append(rng.random())
        t0 = time.perf_counter()
        policy.evaluate(run_id, 100, histories, goal)
        times.append(time.perf_counter() - t0)
    assert statistics.median(times[10:]) < 1e-3
