from __future__ import annotations

import pytest

from hypersweep import (
    GridParameterSampling,
    InvalidConfigError,
    PrimaryMetricGoal,
    RandomParameterSampling,
)
from hypersweep.sampling.base import Observation
from hypersweep.space import choice, loguniform, normal, quniform, uniform

MAX = PrimaryMetricGoal.MAXIMIZE


def as_observations(configs):
    return [Observation(c) for c in configs]


def test_seeded_random_is_reproducible_and_resumable() -> None:
    space = {"lr": loguniform(-6, -1), "n": quniform(1, 10, 1), "m": normal(0, 1)}
    a = RandomParameterSampling(space, {"seed": 5}).suggest(6, [], MAX)
    b = RandomParameterSampling(space, {"seed": 5}).suggest(6, [], MAX)
    assert a == b
    # Continuing after 3 runs gives the same runs 3..5 as one call for six (what crash recovery relies on).
    s = RandomParameterSampling(space, {"seed": 5})
    assert s.suggest(3, as_observations(a[:3]), MAX) == a[3:]
    assert RandomParameterSampling(space, {"seed": 6}).suggest(6, [], MAX) != a


def test_unseeded_random_differs_between_sweeps() -> None:
    space = {"x": uniform(0, 1)}
    assert RandomParameterSampling(space).suggest(3, [], MAX) != RandomParameterSampling(
        space
    ).suggest(3, [], MAX)


def test_sobol_rule_covers_the_space_evenly() -> None:
    sampler = RandomParameterSampling({"x": uniform(0, 1)}, {"rule": "sobol", "seed": 3})
    xs = sorted(c["x"] for c in sampler.suggest(16, [], MAX))
    # 16 scrambled Sobol points in 1-D: exactly one in each sixteenth of the interval.
    assert [int(x * 16) for x in xs] == list(range(16))
    assert sampler.suggest(4, as_observations([{}] * 4), MAX) == [
        sampler.configuration(k) for k in range(4, 8)
    ]


def test_random_on_a_finite_space_does_not_repeat_until_exhausted() -> None:
    space = {"a": choice(1, 2, 3), "b": choice("x", "y")}
    configs = RandomParameterSampling(space, {"seed": 1}).suggest(12, [], MAX)
    first, second = configs[:6], configs[6:]
    key = lambda c: (c["a"], c["b"])  # noqa: E731
    assert len({key(c) for c in first}) == 6 and len({key(c) for c in second}) == 6


def test_random_rejects_unknown_rule_and_properties() -> None:
    with pytest.raises(InvalidConfigError, match="'rule' property"):
        RandomParameterSampling({"x": uniform(0, 1)}, {"rule": "halton"})
    with pytest.raises(InvalidConfigError, match="'seed'"):
        RandomParameterSampling({"x": uniform(0, 1)}, {"seed": -1})
    with pytest.raises(InvalidConfigError, match="seed"):
        RandomParameterSampling({"x": uniform(0, 1)}, {"sede": 1})


def test_grid_enumerates_every_combination_once_then_stops() -> None:
    g = GridParameterSampling({"--lr": choice(0.01, 0.1, 1.0), "--n": choice(10, 100)})
    first = g.suggest(4, [], MAX)
    rest = g.suggest(10, as_observations(first), MAX)
    assert first + rest == [{"--lr": lr, "--n": n} for lr in (0.01, 0.1, 1.0) for n in (10, 100)]
    assert g.suggest(1, as_observations(first + rest), MAX) == []
    assert g.max_configurations() == 6


@pytest.mark.parametrize("space", [{"x": uniform(0, 1)}, {"a": choice(1, 2), "x": normal(0, 1)}])
def test_grid_rejects_non_choice_expressions(space) -> None:
    with pytest.raises(InvalidConfigError, match="supports only choice"):
        GridParameterSampling(space)


@pytest.mark.parametrize("space", [{}, None, [1, 2]])
def test_empty_or_malformed_space_is_rejected(space) -> None:
    with pytest.raises(InvalidConfigError, match="parameter_space"):
        GridParameterSampling(space)
