"""Constructors (HyperDrive names, defaults, validation), serialization, scheduling, sweep files."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

import hypersweep.policy as policy_pkg
from hypersweep.errors import InvalidConfigError
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy import (
    CONTINUE,
    AshaPolicy,
    BanditPolicy,
    EarlyTerminationPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    RunHistory,
    TruncationSelectionPolicy,
    policy_from_data,
)


def test_public_names() -> None:
    assert sorted(policy_pkg.__all__) == [
        "AshaPolicy",
        "BanditPolicy",
        "CONTINUE",
        "Decision",
        "EarlyTerminationPolicy",
        "MedianStoppingPolicy",
        "NoTerminationPolicy",
        "RobustAshaPolicy",
        "RunHistory",
        "TruncationSelectionPolicy",
        "policy_from_data",
    ]
    for name in policy_pkg.__all__:
        assert getattr(policy_pkg, name) is not None


def test_hyperdrive_positional_order_and_defaults() -> None:
    bandit = BanditPolicy(2, 0.1, None, 5)
    assert (
        bandit.evaluation_interval,
        bandit.slack_factor,
        bandit.slack_amount,
        bandit.delay_evaluation,
    ) == (2, 0.1, None, 5)
    median = MedianStoppingPolicy(3, 4)
    assert (median.evaluation_interval, median.delay_evaluation) == (3, 4)
    assert (
        MedianStoppingPolicy().evaluation_interval,
        MedianStoppingPolicy().delay_evaluation,
    ) == (1, 0)
    trunc = TruncationSelectionPolicy(25, 2, 6)
    assert (trunc.truncation_percentage, trunc.evaluation_interval, trunc.delay_evaluation) == (
        25,
        2,
        6,
    )
    assert trunc.exclude_finished_jobs is False


def test_to_json_as_hyperdrive() -> None:
    assert BanditPolicy(evaluation_interval=2, slack_factor=0.1).to_json() == {
        "name": "Bandit",
        "properties": {"evaluation_interval": 2, "delay_evaluation": 0, "slack_factor": 0.1},
    }
    assert BanditPolicy(slack_amount=0.2, delay_evaluation=5).to_json()["properties"] == {
        "evaluation_interval": 1,
        "delay_evaluation": 5,
        "slack_amount": 0.2,
    }
    assert MedianStoppingPolicy(2, 5).to_json() == {
        "name": "MedianStopping",
        "properties": {"evaluation_interval": 2, "delay_evaluation": 5},
    }
    assert TruncationSelectionPolicy(25, 2).to_json() == {
        "name": "TruncationSelection",
        "properties": {
            "truncation_percentage": 25,
            "evaluation_interval": 2,
            "delay_evaluation": 0,
            "exclude_finished_jobs": False,
        },
    }
    assert NoTerminationPolicy().to_json() == {"name": "Default"}
    assert AshaPolicy().to_json()["name"] == "Asha"
    assert repr(NoTerminationPolicy()) == "NoTerminationPolicy()"
    assert (
        repr(MedianStoppingPolicy(2, 5))
        == "MedianStoppingPolicy(evaluation_interval=2, delay_evaluation=5)"
    )


def test_equality() -> None:
    assert BanditPolicy(slack_factor=0.1) == BanditPolicy(1, 0.1)
    assert BanditPolicy(slack_factor=0.1) != BanditPolicy(slack_amount=0.1)
    assert MedianStoppingPolicy() != NoTerminationPolicy()


def test_evaluation_interval_zero_reads_as_one() -> None:
    assert BanditPolicy(0, slack_factor=0.1).evaluation_interval == 1
    assert MedianStoppingPolicy(0).should_evaluate(3)


@pytest.mark.parametrize(
    ("policy", "attribute"),
    [
        (BanditPolicy(slack_factor=0.1), "slack_factor"),
        (BanditPolicy(slack_factor=0.1), "evaluation_interval"),
        (MedianStoppingPolicy(), "delay_evaluation"),
        (TruncationSelectionPolicy(10), "truncation_percentage"),
        (AshaPolicy(), "reduction_factor"),
    ],
)
def test_read_only_attributes(policy: EarlyTerminationPolicy, attribute: str) -> None:
    with pytest.raises(AttributeError):
        setattr(policy, attribute, 3)


@pytest.mark.parametrize(
    ("interval", "delay", "selected"),
    [
        (1, 5, [5, 6, 7, 8]),
        (2, 5, [6, 8, 10]),
        (1, 0, [1, 2, 3]),
        (3, 0, [3, 6, 9]),
        (0, 2, [2, 3, 4]),
    ],
)
def test_interval_selection(interval: int, delay: int, selected: list[int]) -> None:
    for policy in (
        BanditPolicy(interval, slack_factor=0.1, delay_evaluation=delay),
        MedianStoppingPolicy(interval, delay),
        TruncationSelectionPolicy(10, interval, delay),
    ):
        assert [k for k in range(1, selected[-1] + 1) if policy.should_evaluate(k)] == selected


def test_no_termination_never_evaluates() -> None:
    policy = NoTerminationPolicy()
    assert not policy.should_evaluate(1)
    histories = {"a": RunHistory("a", [1.0]), "b": RunHistory("b", [0.0])}
    assert policy.evaluate("b", 1, histories, PrimaryMetricGoal.MAXIMIZE) is CONTINUE


def message(param: str, owner: str, rule: str, got: Any) -> str:
    return re.escape(f"The {param!r} parameter of {owner} must be {rule}. Got {got!r} instead.")


BAD_INTS = [2.5, "3", True, None, math.inf]


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            lambda: BanditPolicy(),
            message(
                "slack_factor",
                "BanditPolicy",
                "set when slack_amount is None (exactly one of slack_factor and slack_amount)",
                None,
            ),
        ),
        (
            lambda: BanditPolicy(slack_factor=0.1, slack_amount=0.1),
            message(
                "slack_amount",
                "BanditPolicy",
                "None when slack_factor is set (exactly one of slack_factor and slack_amount)",
                0.1,
            ),
        ),
        (
            lambda: BanditPolicy(slack_factor=0, slack_amount=0),
            message(
                "slack_amount",
                "BanditPolicy",
                "None when slack_factor is set (exactly one of slack_factor and slack_amount)",
                0,
            ),
        ),
        (
            lambda: BanditPolicy(slack_factor=-0.1),
            message("slack_factor", "BanditPolicy", "a finite number >= 0", -0.1),
        ),
        (
            lambda: BanditPolicy(slack_amount=-1),
            message("slack_amount", "BanditPolicy", "a finite number >= 0", -1),
        ),
        (
            lambda: BanditPolicy(slack_factor=math.nan),
            message("slack_factor", "BanditPolicy", "a finite number", math.nan),
        ),
        (
            lambda: BanditPolicy(slack_amount=math.inf),
            message("slack_amount", "BanditPolicy", "a finite number", math.inf),
        ),
        (
            lambda: BanditPolicy(slack_factor="0.1"),
            message("slack_factor", "BanditPolicy", "a finite number", "0.1"),
        ),
        (
            lambda: BanditPolicy(slack_factor=True),
            message("slack_factor", "BanditPolicy", "a finite number", True),
        ),
        (
            lambda: BanditPolicy(-1, slack_factor=0.1),
            message("evaluation_interval", "BanditPolicy", "an integer >= 0", -1),
        ),
        (
            lambda: BanditPolicy(slack_factor=0.1, delay_evaluation=-1),
            message("delay_evaluation", "BanditPolicy", "an integer >= 0", -1),
        ),
        *[
            (
                lambda bad=bad: BanditPolicy(bad, slack_factor=0.1),
                message("evaluation_interval", "BanditPolicy", "an integer >= 0", bad),
            )
            for bad in BAD_INTS
        ],
        *[
            (
                lambda bad=bad: MedianStoppingPolicy(delay_evaluation=bad),
                message("delay_evaluation", "MedianStoppingPolicy", "an integer >= 0", bad),
            )
            for bad in BAD_INTS
        ],
        (
            lambda: MedianStoppingPolicy(-2),
            message("evaluation_interval", "MedianStoppingPolicy", "an integer >= 0", -2),
        ),
        *[
            (
                lambda bad=bad: TruncationSelectionPolicy(bad),
                message(
                    "truncation_percentage",
                    "TruncationSelectionPolicy",
                    "an integer in [1, 99]",
                    bad,
                ),
            )
            for bad in [0, 100, -5, 20.5, "20", True, None]
        ],
        (
            lambda: TruncationSelectionPolicy(20, 2.5),
            message("evaluation_interval", "TruncationSelectionPolicy", "an integer >= 0", 2.5),
        ),
        (
            lambda: TruncationSelectionPolicy(20, 1, "3"),
            message("delay_evaluation", "TruncationSelectionPolicy", "an integer >= 0", "3"),
        ),
        (
            lambda: TruncationSelectionPolicy(20, exclude_finished_jobs=1),
            message("exclude_finished_jobs", "TruncationSelectionPolicy", "a bool", 1),
        ),
        (
            lambda: TruncationSelectionPolicy(20, exclude_finished_jobs="true"),
            message("exclude_finished_jobs", "TruncationSelectionPolicy", "a bool", "true"),
        ),
        (
            lambda: AshaPolicy(reduction_factor=1),
            message("reduction_factor", "AshaPolicy", "an integer >= 2", 1),
        ),
        (
            lambda: AshaPolicy(reduction_factor=2.5),
            message("reduction_factor", "AshaPolicy", "an integer >= 2", 2.5),
        ),
        (
            lambda: AshaPolicy(min_interval=0),
            message("min_interval", "AshaPolicy", "an integer >= 1", 0),
        ),
        (
            lambda: AshaPolicy(min_interval=3, max_interval=3),
            message("max_interval", "AshaPolicy", "an integer >= 4", 3),
        ),
        (lambda: AshaPolicy(brackets=0), message("brackets", "AshaPolicy", "an integer >= 1", 0)),
        (
            lambda: AshaPolicy(compare="last"),
            message("compare", "AshaPolicy", "one of 'value', 'best'", "last"),
        ),
        (lambda: AshaPolicy(min_runs=0), message("min_runs", "AshaPolicy", "an integer >= 1", 0)),
    ],
)
def test_validation_messages(build: Any, expected: str) -> None:
    with pytest.raises(InvalidConfigError, match=f"^{expected}$"):
        build()


def test_validation_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        TruncationSelectionPolicy(0)


def test_integral_floats_are_accepted() -> None:
    assert MedianStoppingPolicy(2.0, 5.0).properties() == {
        "evaluation_interval": 2,
        "delay_evaluation": 5,
    }


# -- sweep files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, NoTerminationPolicy()),
        ({"type": "none"}, NoTerminationPolicy()),
        ({"type": "default"}, NoTerminationPolicy()),
        (
            {"type": "bandit", "slack_factor": 0.1, "evaluation_interval": 2},
            BanditPolicy(2, slack_factor=0.1),
        ),
        (
            {"type": "Bandit", "slack_amount": 0.2, "delay_evaluation": 5},
            BanditPolicy(slack_amount=0.2, delay_evaluation=5),
        ),
        (
            {"type": "median_stopping", "evaluation_interval": 2, "delay_evaluation": 5},
            MedianStoppingPolicy(2, 5),
        ),
        ({"type": "median_stopping"}, MedianStoppingPolicy()),
        (
            {
                "type": "truncation_selection",
                "truncation_percentage": 25,
                "exclude_finished_jobs": True,
            },
            TruncationSelectionPolicy(25, exclude_finished_jobs=True),
        ),
        (
            {"type": "asha", "reduction_factor": 4, "min_interval": 2, "max_interval": 50},
            AshaPolicy(4, 2, 50),
        ),
    ],
)
def test_policy_from_data(data: Any, expected: EarlyTerminationPolicy) -> None:
    assert policy_from_data(data) == expected


def test_policy_from_data_unknown_key_names_it() -> None:
    with pytest.raises(
        InvalidConfigError,
        match=re.escape(
            "early_termination.slack_factr is not a known key for type bandit; allowed: "
            "evaluation_interval, delay_evaluation, slack_factor, slack_amount."
        ),
    ):
        policy_from_data({"type": "bandit", "slack_factr": 0.1})
    with pytest.raises(
        InvalidConfigError,
        match="early_termination.evaluation_interval is not a known key for type none",
    ):
        policy_from_data({"type": "none", "evaluation_interval": 1})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"type": "hyperband"},
            message(
                "type",
                "early_termination",
                "one of bandit, median_stopping, truncation_selection, asha, robust_asha, none, default",
                "hyperband",
            ),
        ),
        (
            {"evaluation_interval": 1},
            message(
                "type",
                "early_termination",
                "one of bandit, median_stopping, truncation_selection, asha, robust_asha, none, default",
                None,
            ),
        ),
        (
            ["bandit"],
            message("early_termination", "the sweep file", "a mapping or null", ["bandit"]),
        ),
        ({"type": "bandit"}, "slack_factor"),
        ({"type": "truncation_selection"}, "truncation_percentage"),
        (
            {"type": "truncation_selection", "truncation_percentage": 0},
            message(
                "truncation_percentage", "TruncationSelectionPolicy", "an integer in [1, 99]", 0
            ),
        ),
    ],
)
def test_policy_from_data_errors(data: Any, expected: str) -> None:
    with pytest.raises(InvalidConfigError, match=expected):
        policy_from_data(data)
