"""Truncation selection: the ceil rule, exclude_finished_jobs, both goals."""

from __future__ import annotations

import math

import pytest

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy import RunHistory, TruncationSelectionPolicy
from hypersweep.status import RunStatus

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
GOALS = [(MAX, 1.0), (MIN, -1.0)]


def ladder(n: int, sign: float = 1.0) -> dict[str, RunHistory]:
    """n runs r0..r{n-1} with values 0..n-1 at interval 1 (r0 worst when maximizing)."""
    return {f"r{i}": RunHistory(f"r{i}", [sign * i]) for i in range(n)}


def stopped(
    policy: TruncationSelectionPolicy, histories: dict[str, RunHistory], goal: PrimaryMetricGoal
) -> list[str]:
    return [r for r in histories if policy.evaluate(r, 1, histories, goal).stop]


@pytest.mark.parametrize(("goal", "sign"), GOALS)
@pytest.mark.parametrize(
    ("percentage", "n", "expected"),
    [
        (20, 10, 2),  # ceil(8.0) = 8 better -> bottom 2
        (20, 9, 1),  # ceil(7.2) = 8 better -> bottom 1
        (25, 4, 1),  # ceil(3.0) = 3 better -> bottom 1
        (20, 2, 0),  # ceil(1.6) = 2 better: impossible with 2 runs
        (50, 2, 1),  # ceil(1.0) = 1 better -> the worse one
        (99, 2, 1),
        (1, 100, 1),  # ceil(98.01)... = 99 better -> the very last
        (20, 1, 0),  # a lone run is never stopped
    ],
)
def test_ceil_rule(
    goal: PrimaryMetricGoal, sign: float, percentage: int, n: int, expected: int
) -> None:
    histories = ladder(n, sign)
    result = stopped(TruncationSelectionPolicy(percentage), histories, goal)
    assert result == [f"r{i}" for i in range(expected)]


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_ties_are_not_strictly_better(goal: PrimaryMetricGoal, sign: float) -> None:
    histories = {name: RunHistory(name, [sign * 0.5]) for name in "abcd"}
    assert stopped(TruncationSelectionPolicy(50), histories, goal) == []


def test_runs_that_went_further_are_judged_at_k() -> None:
    # At interval 1, "old" is worse (0.1) though it later reached 0.99: r (0.5) is not last at k=1.
    histories = {"old": RunHistory("old", [0.1, 0.99]), "r": RunHistory("r", [0.5])}
    policy = TruncationSelectionPolicy(50)
    assert not policy.evaluate("r", 1, histories, MAX).stop
    assert policy.evaluate("old", 1, histories, MAX).stop


def test_exclude_finished_jobs() -> None:
    histories = ladder(4)
    histories["done"] = RunHistory("done", [9.0], status=RunStatus.COMPLETED)
    # 40%: stopped when at least ceil(0.6 n) runs are better.
    assert TruncationSelectionPolicy(40).evaluate("r1", 1, histories, MAX).stop  # 3 of 5 better
    policy = TruncationSelectionPolicy(40, exclude_finished_jobs=True)
    assert not policy.evaluate("r1", 1, histories, MAX).stop  # 2 of 4 better, 3 needed
    assert policy.evaluate("r0", 1, histories, MAX).stop
    # A canceled run is not a Completed one: it stays in the population.
    histories["done"].status = RunStatus.CANCELED
    assert policy.evaluate("r1", 1, histories, MAX).stop
    # Status changes are seen by the (cached) policy both ways.
    histories["done"].status = RunStatus.COMPLETED
    assert not policy.evaluate("r1", 1, histories, MAX).stop


def test_exclude_finished_jobs_keeps_the_evaluated_run() -> None:
    histories = {
        "a": RunHistory("a", [0.9]),
        "b": RunHistory("b", [0.1], status=RunStatus.COMPLETED),
    }
    assert (
        TruncationSelectionPolicy(50, exclude_finished_jobs=True)
        .evaluate("b", 1, histories, MAX)
        .stop
    )


def test_priors_compare_but_are_never_stopped() -> None:
    histories = ladder(2)
    histories["p"] = RunHistory("p", [-5.0], status=RunStatus.COMPLETED, prior=True)
    histories["q"] = RunHistory("q", [5.0], status=RunStatus.COMPLETED, prior=True)
    policy = TruncationSelectionPolicy(50)
    assert not policy.evaluate("p", 1, histories, MAX).stop
    assert policy.evaluate("r0", 1, histories, MAX).stop  # 2 of 4 better


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_nan_is_not_ranked(goal: PrimaryMetricGoal, sign: float) -> None:
    histories = ladder(3, sign)
    histories["n"] = RunHistory("n", [math.nan])
    policy = TruncationSelectionPolicy(50)
    assert not policy.evaluate("n", 1, histories, goal).stop
    # n = 3 ranked runs, ceil(1.5) = 2 better needed: only r0.
    assert stopped(policy, histories, goal) == ["r0"]


def test_reason() -> None:
    reason = TruncationSelectionPolicy(20).evaluate("r0", 1, ladder(10), MAX).reason
    assert reason == (
        "TruncationSelection: value 0 at interval 1 ranks 10 of 10 (9 runs are better; "
        "the bottom 20% are stopped)"
    )
