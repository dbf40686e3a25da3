"""ASHA: rungs, the top-1/eta rule, brackets, min_runs, both goals."""

from __future__ import annotations

import math

import pytest

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy import AshaPolicy, RunHistory
from hypersweep.status import RunStatus

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
GOALS = [(MAX, 1.0), (MIN, -1.0)]


def ladder(n: int, sign: float = 1.0, length: int = 1) -> dict[str, RunHistory]:
    """n runs r0..r{n-1}; run i logs i at every interval (r0 worst when maximizing)."""
    return {f"r{i}": RunHistory(f"r{i}", [sign * i] * length) for i in range(n)}


def test_rungs() -> None:
    policy = AshaPolicy(reduction_factor=3, min_interval=2, max_interval=50)
    assert [k for k in range(1, 60) if policy.should_evaluate(k)] == [2, 6, 18]
    unbounded = AshaPolicy(reduction_factor=3, min_interval=2)
    assert [k for k in range(1, 60) if unbounded.should_evaluate(k)] == [2, 6, 18, 54]
    brackets = AshaPolicy(reduction_factor=2, min_interval=1, max_interval=10, brackets=2)
    assert [k for k in range(1, 12) if brackets.should_evaluate(k)] == [1, 2, 4, 8]


@pytest.mark.parametrize(("goal", "sign"), GOALS)
@pytest.mark.parametrize(
    ("eta", "n", "kept"), [(3, 9, 3), (3, 10, 3), (3, 2, 1), (2, 5, 2), (4, 3, 1), (3, 1, 1)]
)
def test_top_one_over_eta_continue(
    goal: PrimaryMetricGoal, sign: float, eta: int, n: int, kept: int
) -> None:
    histories = ladder(n, sign)
    policy = AshaPolicy(reduction_factor=eta)
    survivors = [r for r in histories if not policy.evaluate(r, 1, histories, goal).stop]
    assert survivors == [f"r{i}" for i in range(n - kept, n)]


def test_not_judged_between_rungs_or_at_max_interval() -> None:
    histories = ladder(9, length=4)
    policy = AshaPolicy(reduction_factor=3, min_interval=1, max_interval=3)
    assert policy.evaluate("r0", 1, histories, MAX).stop
    assert not policy.evaluate("r0", 2, histories, MAX).stop  # not a rung
    assert not policy.evaluate("r0", 3, histories, MAX).stop  # at max_interval: no rung


def test_asynchronous_early_runs_are_compared_with_what_reached_the_rung() -> None:
    histories = {"first": RunHistory("first", [0.1])}
    policy = AshaPolicy()
    assert not policy.evaluate("first", 1, histories, MAX).stop  # alone at the rung: top 1
    histories["second"] = RunHistory("second", [0.05])
    assert policy.evaluate("second", 1, histories, MAX).stop  # top max(1, 2 // 3) = 1


def test_min_runs() -> None:
    histories = ladder(3)
    assert not AshaPolicy(min_runs=4).evaluate("r0", 1, histories, MAX).stop
    assert AshaPolicy(min_runs=3).evaluate("r0", 1, histories, MAX).stop


def test_compare_best_uses_the_best_so_far() -> None:
    # At rung 3, r dipped to 0.1 after 0.9; by value it is last, by best it is first.
    histories = {
        "a": RunHistory("a", [0.5, 0.5, 0.5]),
        "b": RunHistory("b", [0.4, 0.4, 0.4]),
        "r": RunHistory("r", [0.9, 0.9, 0.1]),
    }
    assert AshaPolicy(min_interval=3, compare="value").evaluate("r", 3, histories, MAX).stop
    assert not AshaPolicy(min_interval=3, compare="best").evaluate("r", 3, histories, MAX).stop


def test_brackets_rank_runs_only_within_their_bracket() -> None:
    policy = AshaPolicy(reduction_factor=2, min_interval=1, brackets=2)
    ids = [f"run{i}" for i in range(40)]
    by_bracket: dict[int, list[str]] = {0: [], 1: []}
    for run_id in ids:
        by_bracket[policy._bracket_of(run_id)].append(run_id)
    zero, one = by_bracket[0][:2], by_bracket[1][:1]
    histories = {zero[0]: RunHistory(zero[0], [0.9, 0.9]), zero[1]: RunHistory(zero[1], [0.1, 0.1])}
    histories[one[0]] = RunHistory(one[0], [0.0, 0.0])
    assert policy.evaluate(zero[1], 1, histories, MAX).stop
    assert not policy.evaluate(one[0], 1, histories, MAX).stop  # bracket 1 has no rung at 1
    assert not policy.evaluate(one[0], 2, histories, MAX).stop  # alone in bracket 1 at rung 2


def test_priors_finished_and_nan() -> None:
    histories = ladder(3)
    histories["p"] = RunHistory("p", [-1.0], status=RunStatus.COMPLETED, prior=True)
    histories["n"] = RunHistory("n", [math.nan])
    policy = AshaPolicy()
    assert not policy.evaluate("p", 1, histories, MAX).stop
    assert not policy.evaluate("n", 1, histories, MAX).stop
    # 4 ranked runs (NaN left out): top max(1, 4 // 3) = 1 continues.
    assert [r for r in histories if policy.evaluate(r, 1, histories, MAX).stop] == ["r0", "r1"]


def test_reason() -> None:
    reason = AshaPolicy().evaluate("r0", 1, ladder(9), MAX).reason
    assert reason == "ASHA: value 0 at rung 1 ranks 9 of 9; only the top 3 (1/3) continue"
