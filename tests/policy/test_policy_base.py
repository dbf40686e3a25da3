"""What the base class gives a policy: the judged reports only reach ``decide``, and
``properties()`` reads the constructor's arguments back."""

from __future__ import annotations

import math

import pytest

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy import CONTINUE, Decision, EarlyTerminationPolicy, RunHistory
from hypersweep.policy.base import Histories


class _Recording(EarlyTerminationPolicy):
    """Stops every run it is asked about, and records the questions."""

    def __init__(self, patience: int = 3, *, label: str = "x") -> None:
        self.patience = patience
        self.label = label
        self.asked: list[tuple[str, int]] = []

    def decide(
        self, run_id: str, interval: int, histories: Histories, goal: PrimaryMetricGoal
    ) -> Decision:
        self.asked.append((run_id, interval))
        return Decision(True, "asked")


RUNS = {
    "a": RunHistory("a", [0.5, math.nan]),
    "prior": RunHistory("prior", [0.1], prior=True),
}


@pytest.mark.parametrize(
    ("run_id", "interval"),
    [("a", 2), ("a", 3), ("a", 0), ("prior", 1), ("unknown", 1)],
)
def test_unjudged_reports_continue_without_decide(run_id: str, interval: int) -> None:
    policy = _Recording()
    assert policy.evaluate(run_id, interval, RUNS, PrimaryMetricGoal.MAXIMIZE) is CONTINUE
    assert policy.asked == []


def test_a_judged_report_is_decided() -> None:
    policy = _Recording()
    assert policy.evaluate("a", 1, RUNS, PrimaryMetricGoal.MAXIMIZE) == Decision(True, "asked")
    assert policy.asked == [("a", 1)]


def test_properties_are_the_constructor_arguments() -> None:
    policy = _Recording(5, label="y")
    assert policy.properties() == {"patience": 5, "label": "y"}
    assert repr(policy) == "_Recording(patience=5, label='y')"


def test_a_policy_without_a_rule_says_so() -> None:
    class _Empty(EarlyTerminationPolicy):
        pass

    with pytest.raises(NotImplementedError, match="_Empty"):
        _Empty().evaluate("a", 1, RUNS, PrimaryMetricGoal.MAXIMIZE)
