from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep import InvalidConfigError, SearchSpace
from hypersweep.space import (
    choice,
    expression_from_data,
    flag_name,
    lognormal,
    loguniform,
    normal,
    plain_name,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)

ALL = [
    choice(1, 2, 3),
    choice(["a", "b"]),
    choice(range(1, 5)),
    randint(5),
    uniform(-1, 2),
    quniform(0, 10, 2),
    quniform(0.0, 1.0, 0.05),
    loguniform(-6, -1),
    qloguniform(0, 5, 1),
    normal(0, 2),
    qnormal(10, 3, 1),
    lognormal(0, 0.5),
    qlognormal(1, 0.5, 1),
]


def test_choice_forms_share_one_wire_format() -> None:
    assert choice(16, 32).to_list() == ["choice", [[16, 32]]]
    assert choice([16, 32]).to_list() == ["choice", [[16, 32]]]
    assert choice(range(1, 5)).to_list() == ["choice", [[1, 2, 3, 4]]]


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: choice(), "at least one option"),
        (lambda: choice(1, [2, 3]), "not a mix"),
        (lambda: choice([]), "non-empty"),
        (lambda: randint(0), "'upper' parameter of randint must be a positive integer"),
        (lambda: randint(2.5), "'upper' parameter of randint"),
        (lambda: uniform(1, 1), "'max_value' parameter of uniform must be greater than min_value"),
        (lambda: uniform("a", 1), "'min_value' parameter of uniform must be a finite number"),
        (lambda: loguniform(2, 1), "'max_value' parameter of loguniform must be at least min_value"),
        (lambda: quniform(0, 10, 0), "'q' parameter of quniform must be a positive number"),
        (lambda: normal(0, -1), "'sigma' parameter of normal must be a non-negative number"),
        (lambda: qlognormal(0, 1, -2), "'q' parameter of qlognormal"),
        (lambda: uniform(0, math.inf), "'max_value' parameter of uniform must be a finite number"),
    ],
)
def test_invalid_expressions_name_the_argument(make, fragment) -> None:
    with pytest.raises(InvalidConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_loguniform_bounds_are_exponents() -> None:
    values = loguniform(-6, -1).sample(np.random.default_rng(0), size=2000)
    assert min(values) >= math.exp(-6) and max(values) <= math.exp(-1)
    assert abs(np.median(np.log(values)) - (-3.5)) < 0.2


def test_quantized_values_are_ints_when_q_is_integral() -> None:
    rng = np.random.default_rng(0)
    assert all(isinstance(v, int) for v in quniform(1, 10, 1).sample(rng, size=50))
    assert all(isinstance(v, int) for v in qnormal(0, 5, 2).sample(rng, size=50))
    floats = quniform(0, 1, 0.05).sample(rng, size=50)
    assert all(isinstance(v, float) for v in floats)
    assert all(abs(v * 20 - round(v * 20)) < 1e-9 for v in floats)


def test_names_and_flags() -> None:
    assert flag_name("lr") == "--lr" and flag_name("--lr") == "--lr" and flag_name("-l") == "-l"
    assert plain_name("--batch-size") == "batch-size"


def test_space_rejects_the_same_parameter_twice() -> None:
    with pytest.raises(InvalidConfigError, match="same parameter twice"):
        SearchSpace({"lr": uniform(0, 1), "--lr": uniform(0, 1)})


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"type": "uniformm", "min_value": 0, "max_value": 1}, "type must be one of"),
        ({"type": "uniform", "min_value": 0}, "max_value is required"),
        ({"type": "uniform", "min_value": 0, "max_value": 1, "q": 1}, "unknown key 'q'"),
        ({"type": "choice", "values": 3}, "values must be a list"),
        ("uniform(0, 1)", "must be a parameter expression"),
    ],
)
def test_dict_form_errors(data, fragment) -> None:
    with pytest.raises(InvalidConfigError, match=fragment):
        expression_from_data(data, where="search_space.x")


@pytest.mark.parametrize("expr", ALL, ids=repr)
def test_round_trips_and_unit_maps(expr) -> None:
    assert expression_from_data(expr.to_list()) == expr
    assert expression_from_data(expr.to_dict()) == expr
    assert expression_from_data(json.loads(json.dumps(expr.to_dict()))) == expr
    rng = np.random.default_rng(1)
    for value in expr.sample(rng, size=30):
        assert expr.contains(value), value
        u = expr.to_unit(value)
        assert 0.0 <= u <= 1.0
        back = expr.from_unit([u])[0]
        if expr.is_discrete:
            assert back == value
        else:
            assert back == pytest.approx(value, rel=1e-6, abs=1e-9)


def test_grid_is_odometer_order() -> None:
    space = SearchSpace({"a": choice(1, 2), "b": choice("x", "y", "z")})
    grid = list(space.iter_grid())
    assert space.grid_size() == 6 == len(grid)
    assert grid[:4] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"}, {"a": 2, "b": "x"}]


expressions = st.one_of(
    st.builds(lambda lo, w: uniform(lo, lo + w), st.floats(-1e3, 1e3), st.floats(1e-3, 1e3)),
    st.builds(lambda lo, w: loguniform(lo, lo + w), st.floats(-20, 5), st.floats(0, 10)),
    st.builds(lambda lo, w, q: quniform(lo, lo + w, q), st.integers(-100, 100), st.integers(1, 100), st.integers(1, 5)),
    st.builds(lambda m, s: normal(m, s), st.floats(-100, 100), st.floats(0, 50)),
    st.builds(lambda m, s, q: qlognormal(m, s, q), st.floats(-2, 3), st.floats(0, 1), st.integers(1, 3)),
    st.builds(randint, st.integers(1, 1000)),
    st.builds(lambda xs: choice(xs), st.lists(st.one_of(st.integers(), st.text(max_size=5)), min_size=1, max_size=6)),
)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=6), expressions, min_size=1, max_size=5), st.integers(0, 2**31))
def test_property_samples_lie_in_the_space_and_round_trip(params, seed) -> None:
    space = SearchSpace(params)
    config = space.sample(np.random.default_rng(seed))
    assert space.contains(config)
    assert SearchSpace(space.to_dict()).to_list() == space.to_list()
    assert SearchSpace(json.loads(json.dumps(space.to_list()))).to_list() == space.to_list()
    point = np.random.default_rng(seed).random(len(space))
    assert space.contains(space.from_unit(point))
    if space.is_finite:
        assert space.grid_size() == math.prod(len(e.values) for e in space.values())
