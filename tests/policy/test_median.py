"""Median stopping: best so far against the median of running averages, both goals."""

from __future__ import annotations

import math

import pytest

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy import MedianStoppingPolicy, RunHistory
from hypersweep.status import RunStatus

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


def runs(sign: float = 1.0, **curves: list[float]) -> dict[str, RunHistory]:
    return {name: RunHistory(name, [sign * v for v in values]) for name, values in curves.items()}


GOALS = [(MAX, 1.0), (MIN, -1.0)]


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_worse_than_median_of_running_averages_is_stopped(
    goal: PrimaryMetricGoal, sign: float
) -> None:
    # Running averages at k=2: a 0.8, b 0.65, r 0.25 -> median 0.65 (r included).
    histories = runs(sign, a=[0.7, 0.9], b=[0.6, 0.7], r=[0.2, 0.3])
    policy = MedianStoppingPolicy()
    assert policy.evaluate("r", 2, histories, goal).stop
    assert not policy.evaluate(
        "b", 2, histories, goal
    ).stop  # equal to the median: not strictly worse
    assert not policy.evaluate("a", 2, histories, goal).stop


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_own_run_is_in_the_median(goal: PrimaryMetricGoal, sign: float) -> None:
    # With r's own average (0.1) the median of {0.1, 0.5} is 0.3; r's best 0.4 survives.
    # (Without it, the median would be 0.5 and r would stop.)
    histories = runs(sign, a=[0.5, 0.5], r=[0.4, -0.2])
    assert not MedianStoppingPolicy().evaluate("r", 2, histories, goal).stop


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_even_count_median_is_the_mean_of_the_middle_two(
    goal: PrimaryMetricGoal, sign: float
) -> None:
    # Averages 0.2, 0.4, 0.6, 0.8 -> median 0.5.
    histories = runs(sign, a=[0.2], b=[0.4], c=[0.6], d=[0.8])
    policy = MedianStoppingPolicy()
    assert policy.evaluate("b", 1, histories, goal).stop
    assert not policy.evaluate("c", 1, histories, goal).stop


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_lone_run_is_never_stopped(goal: PrimaryMetricGoal) -> None:
    histories = runs(r=[0.1, 0.0, 0.0])
    histories["short"] = RunHistory("short", [0.9])  # did not reach interval 3
    assert not MedianStoppingPolicy().evaluate("r", 3, histories, goal).stop


def test_finished_and_canceled_runs_count() -> None:
    histories = runs(r=[0.2, 0.2])
    histories["done"] = RunHistory("done", [0.8, 0.8], status=RunStatus.COMPLETED)
    histories["cut"] = RunHistory("cut", [0.7, 0.7], status=RunStatus.CANCELED)
    assert MedianStoppingPolicy().evaluate("r", 2, histories, MAX).stop


def test_prior_runs_compare_but_are_never_stopped() -> None:
    histories = runs(r=[0.2])
    for name in ("p1", "p2"):
        histories[name] = RunHistory(name, [0.9], status=RunStatus.COMPLETED, prior=True)
    policy = MedianStoppingPolicy()
    assert policy.evaluate("r", 1, histories, MAX).stop
    histories["low"] = RunHistory("low", [0.0], status=RunStatus.COMPLETED, prior=True)
    histories["r"].values = [0.95]
    assert not policy.evaluate("low", 1, histories, MAX).stop


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_nan_is_skipped_and_never_decides(goal: PrimaryMetricGoal, sign: float) -> None:
    nan = math.nan
    policy = MedianStoppingPolicy()
    # r logs NaN at k: not stopped for it.
    assert not policy.evaluate(
        "r", 2, runs(sign, a=[0.9, 0.9], b=[0.9, 0.9], r=[0.1, nan]), goal
    ).stop
    # NaNs are skipped in averages: a's average is 0.9, not NaN; the all-NaN run has no average.
    histories = runs(sign, a=[nan, 0.9], b=[0.8, 0.8], n=[nan, nan], r=[0.1, 0.1])
    assert policy.evaluate("r", 2, histories, goal).stop
    # Only NaN runs besides r: r is alone.
    assert (
        not MedianStoppingPolicy()
        .evaluate("r", 2, runs(sign, n=[nan, nan], r=[0.1, 0.1]), goal)
        .stop
    )


def test_reason_names_the_median() -> None:
    histories = runs(a=[0.7, 0.9], b=[0.6, 0.7], r=[0.2, 0.3])
    reason = MedianStoppingPolicy().evaluate("r", 2, histories, MAX).reason
    assert reason.startswith("MedianStopping: best 0.3 at interval 2 is below 0.65, the median")
    reason = (
        MedianStoppingPolicy()
        .evaluate("r", 2, runs(-1.0, a=[0.7, 0.9], b=[0.6, 0.7], r=[0.2, 0.3]), MIN)
        .reason
    )
    assert "best -0.3 at interval 2 is above -0.65" in reason
