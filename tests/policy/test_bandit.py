"""Bandit: the slack rules of HYPERDRIVE.md section 0, for both goals."""

from __future__ import annotations

import math

import pytest

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy import BanditPolicy, RunHistory
from hypersweep.status import RunStatus

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


def runs(**curves: list[float]) -> dict[str, RunHistory]:
    return {name: RunHistory(name, list(values)) for name, values in curves.items()}


@pytest.mark.parametrize(
    ("value", "stop"),
    [(0.666, True), (0.6666, True), (0.667, False), (0.67, False), (0.8, False)],
)
def test_slack_factor_edge_maximize(value: float, stop: bool) -> None:
    # The documentation's example: best 0.8 with slack_factor 0.2 cancels below 0.8 / 1.2 = 0.667.
    histories = runs(best=[0.8], r=[value])
    assert BanditPolicy(slack_factor=0.2).evaluate("r", 1, histories, MAX).stop is stop


@pytest.mark.parametrize(
    ("value", "stop"), [(0.59, True), (0.5999, True), (0.6, False), (0.61, False)]
)
def test_slack_amount_edge_maximize(value: float, stop: bool) -> None:
    histories = runs(best=[0.8], r=[value])
    assert BanditPolicy(slack_amount=0.2).evaluate("r", 1, histories, MAX).stop is stop


@pytest.mark.parametrize(
    ("value", "stop"), [(0.61, True), (0.6001, True), (0.6, False), (0.59, False)]
)
def test_slack_factor_edge_minimize(value: float, stop: bool) -> None:
    # Minimize mirrors it: best 0.5 with slack_factor 0.2 cancels above 0.5 * 1.2 = 0.6.
    histories = runs(best=[0.5], r=[value])
    assert BanditPolicy(slack_factor=0.2).evaluate("r", 1, histories, MIN).stop is stop


@pytest.mark.parametrize(
    ("value", "stop"), [(0.71, True), (0.7001, True), (0.7, False), (0.69, False)]
)
def test_slack_amount_edge_minimize(value: float, stop: bool) -> None:
    histories = runs(best=[0.5], r=[value])
    assert BanditPolicy(slack_amount=0.2).evaluate("r", 1, histories, MIN).stop is stop


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_best_run_is_never_stopped(goal: PrimaryMetricGoal) -> None:
    histories = runs(a=[0.5], b=[0.5])
    policy = BanditPolicy(slack_factor=0)
    assert not policy.evaluate("a", 1, histories, goal).stop
    assert not policy.evaluate("b", 1, histories, goal).stop


def test_best_run_never_stopped_even_with_negative_values() -> None:
    # B / (1 + s) lies above B when B < 0; the best run still survives (the others do not).
    histories = runs(best=[-0.5], r=[-0.51])
    policy = BanditPolicy(slack_factor=0.1)
    assert not policy.evaluate("best", 1, histories, MAX).stop
    assert policy.evaluate("r", 1, histories, MAX).stop


def test_slack_factor_zero_is_a_slack() -> None:
    histories = runs(best=[0.8], r=[0.79])
    policy = BanditPolicy(slack_factor=0)
    assert policy.evaluate("r", 1, histories, MAX).stop
    assert policy.properties() == {
        "evaluation_interval": 1,
        "delay_evaluation": 0,
        "slack_factor": 0.0,
    }


def test_compares_the_run_best_so_far_with_the_best_value_at_the_interval() -> None:
    # r peaked at 0.9 at interval 1 and dropped: its best (0.9) is within the slack of B = 0.95.
    histories = runs(leader=[0.5, 0.95], r=[0.9, 0.1])
    assert not BanditPolicy(slack_factor=0.1).evaluate("r", 2, histories, MAX).stop
    # B is the best value *at* interval k: the leader's 0.99 at interval 3 does not count at k = 2.
    histories = runs(leader=[0.5, 0.6, 0.99], r=[0.3, 0.58])
    assert not BanditPolicy(slack_factor=0.1).evaluate("r", 2, histories, MAX).stop
    assert (
        BanditPolicy(slack_factor=0.1)
        .evaluate("r", 2, runs(leader=[0.5, 0.7, 0.99], r=[0.3, 0.58]), MAX)
        .stop
    )


def test_finished_canceled_and_prior_runs_set_the_best() -> None:
    for status, prior in [
        (RunStatus.COMPLETED, False),
        (RunStatus.CANCELED, False),
        (RunStatus.COMPLETED, True),
    ]:
        histories = runs(r=[0.5])
        histories["old"] = RunHistory("old", [0.9], status=status, prior=prior)
        assert BanditPolicy(slack_amount=0.1).evaluate("r", 1, histories, MAX).stop


def test_prior_runs_are_never_stopped() -> None:
    histories = runs(best=[0.9])
    histories["p"] = RunHistory("p", [0.1], status=RunStatus.COMPLETED, prior=True)
    assert not BanditPolicy(slack_amount=0.0).evaluate("p", 1, histories, MAX).stop


def test_reason_is_readable() -> None:
    histories = runs(best=[0.8] * 6, r=[0.5, 0.612, 0.6, 0.6, 0.6, 0.6])
    decision = BanditPolicy(slack_factor=0.1).evaluate("r", 6, histories, MAX)
    assert decision.stop
    assert decision.reason == "Bandit: best 0.612 at interval 6 is below 0.7273 = 0.8 / (1 + 0.1)"
    decision = BanditPolicy(slack_amount=0.1).evaluate("r", 1, runs(best=[0.2], r=[0.5]), MIN)
    assert decision.reason == "Bandit: best 0.5 at interval 1 is above 0.3 = 0.2 + 0.1"


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_nan_never_drives_a_decision(goal: PrimaryMetricGoal) -> None:
    good, bad = (0.9, 0.1) if goal is MAX else (0.1, 0.9)
    # A NaN at k: not stopped for it.
    assert (
        not BanditPolicy(slack_amount=0.1)
        .evaluate("r", 2, runs(a=[good, good], r=[bad, math.nan]), goal)
        .stop
    )
    # A NaN elsewhere is skipped in the run's best; a NaN best at k is not B.
    histories = runs(a=[good, math.nan], r=[math.nan, bad], c=[good, bad])
    assert not BanditPolicy(slack_amount=0.1).evaluate("r", 2, histories, goal).stop
    histories["d"] = RunHistory("d", [good, good])
    assert BanditPolicy(slack_amount=0.1).evaluate("r", 2, histories, goal).stop


def test_irregular_histories() -> None:
    histories = runs(empty=[], short=[0.99], r=[0.5, 0.5, 0.5])
    policy = BanditPolicy(slack_amount=0.1)
    assert not policy.evaluate("r", 3, histories, MAX).stop  # nobody else reached interval 3
    assert policy.evaluate("r", 1, histories, MAX).stop
    assert not policy.evaluate("missing", 1, histories, MAX).stop
    assert not policy.evaluate("empty", 1, histories, MAX).stop
    assert not policy.evaluate("r", 4, histories, MAX).stop  # not reached yet
    assert not policy.evaluate("r", 0, histories, MAX).stop
