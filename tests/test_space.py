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
    quniform(0, 1, 1e-13),
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
        (
            lambda: loguniform(2, 1),
            "'max_value' parameter of loguniform must be at least min_value",
        ),
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
    assert grid[:4] == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
    ]


expressions = st.one_of(
    st.builds(lambda lo, w: uniform(lo, lo + w), st.floats(-1e3, 1e3), st.floats(1e-3, 1e3)),
    st.builds(lambda lo, w: loguniform(lo, lo + w), st.floats(-20, 5), st.floats(0, 10)),
    st.builds(
        lambda lo, w, q: quniform(lo, lo + w, q),
        st.integers(-100, 100),
        st.integers(1, 100),
        st.integers(1, 5),
    ),
    st.builds(lambda m, s: normal(m, s), st.floats(-100, 100), st.floats(0, 50)),
    st.builds(
        lambda m, s, q: qlognormal(m, s, q), st.floats(-2, 3), st.floats(0, 1), st.integers(1, 3)
    ),
    st.builds(randint, st.integers(1, 1000)),
    st.builds(
        lambda xs: choice(xs),
        st.lists(st.one_of(st.integers(), st.text(max_size=5)), min_size=1, max_size=6),
    ),
)


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(
        st.text("abcdefgh", min_size=1, max_size=6), expressions, min_size=1, max_size=5
    ),
    st.integers(0, 2**31),
)
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


# -- expressions that would overflow, or values that would fail later, are refused at construction --


@pytest.mark.parametrize(
    ("make", "fragments"),
    [
        (
            lambda: loguniform(1e6, 1e7),
            [
                "'max_value' parameter of loguniform must be at most 709.78",
                "the bounds are exponents",
                "exp(1e7) overflows",
                "use loguniform(log(1e6), log(1e7)) = loguniform(13.8, 16.1)",
                "Got 1",
            ],
        ),
        (
            lambda: qloguniform(0, 1000, 1),
            ["'max_value' parameter of qloguniform must be at most 709.78"],
        ),
        (
            lambda: lognormal(1000, 1),
            [
                "'mu' parameter of lognormal",
                "exp(mu + 40 * sigma)",
                "lognormal(log(1000), 1) = lognormal(6.91, 1)",
                "Got 1000 instead",
            ],
        ),
        (lambda: lognormal(0, 20), ["'sigma' parameter of lognormal must be at most 17.7"]),
        (lambda: qlognormal(1000, 1, 1), ["'mu' parameter of qlognormal"]),
        (
            lambda: normal(0, 1e307),
            ["'sigma' parameter of normal must be at most 4.49e306", "mu ± 40 * sigma"],
        ),
        (
            lambda: qnormal(1e308, 1e307, 1),
            ["'sigma' parameter of qnormal must be at most 1.99e306 when mu is 1e308"],
        ),
        (
            lambda: uniform(-1e308, 1e308),
            [
                "'max_value' parameter of uniform must be within 1.8e308 of min_value",
                "overflows",
                "e.g. uniform(-5e307, 5e307)",
            ],
        ),
        (lambda: quniform(-1e308, 1e308, 1e300), ["'max_value' parameter of quniform"]),
        (lambda: quniform(0, 1e308, 1e-300), ["'q' parameter of quniform", "overflows"]),
        (lambda: quniform(0, 1, 1e-17), ["'q' parameter of quniform must be at least", "2.22e-16"]),
        (lambda: qlognormal(0, 1, 1e-300), ["'q' parameter of qlognormal"]),
        (lambda: uniform(0, 10**400), ["'max_value' parameter of uniform must be a finite number"]),
        (lambda: normal(math.nan, 1), ["'mu' parameter of normal must be a finite number"]),
        (lambda: quniform(0, 1, math.inf), ["'q' parameter of quniform must be a positive number"]),
        (
            lambda: randint(2**60),
            ["'upper' parameter of randint must be a positive integer, at most 2**53"],
        ),
    ],
)
def test_expressions_that_can_overflow_are_refused_with_bounds_that_work(make, fragments) -> None:
    with pytest.raises(InvalidConfigError) as info:
        make()
    for fragment in fragments:
        assert fragment in str(info.value)


def test_expressions_at_the_edge_of_the_float_range_still_construct_and_stay_finite() -> None:
    rng = np.random.default_rng(0)
    for expr in (
        loguniform(13.8, 16.1),
        loguniform(-5, 709),
        uniform(-8e307, 8e307),
        lognormal(6.9, 1),
        lognormal(0, 17),
        normal(0, 4e306),
        qlognormal(0, 1, 1e-3),
        quniform(0, 1e15, 1),
    ):
        assert all(math.isfinite(v) for v in expr.sample(rng, size=200)), expr
        assert all(math.isfinite(v) for v in expr.from_unit([0.0, 1e-12, 0.5, 1 - 1e-12, 1.0])), (
            expr
        )


def finite_or_not():
    return st.one_of(
        st.floats(-1000, 1000),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(
            [
                0,
                1e-320,
                1e-17,
                1e-13,
                709.0,
                709.79,
                710.0,
                1e6,
                1e300,
                1e308,
                -1e308,
                2**53,
                10**400,
            ]
        ),
        st.integers(-(10**20), 10**20),
    )


KINDS = {"uniform": uniform, "loguniform": loguniform, "normal": normal, "lognormal": lognormal}
QKINDS = {
    "quniform": quniform,
    "qloguniform": qloguniform,
    "qnormal": qnormal,
    "qlognormal": qlognormal,
}


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(sorted(KINDS) + sorted(QKINDS)),
    finite_or_not(),
    finite_or_not(),
    finite_or_not(),
    st.integers(0, 2**31),
)
def test_property_an_expression_that_constructs_never_draws_a_non_finite_value(
    kind, a, b, q, seed
) -> None:
    try:
        expr = KINDS[kind](a, b) if kind in KINDS else QKINDS[kind](a, b, q)
    except InvalidConfigError:
        return
    values = list(expr.sample(np.random.default_rng(seed), size=20))
    values += expr.from_unit([0.0, 1e-12, 0.5, 1 - 1e-12, 1.0])
    if hasattr(expr, "mu"):  # the farthest a draw can reach, and then some
        values += expr._quantize(
            expr._forward(np.array([expr.mu - 40.0 * expr.sigma, expr.mu + 40.0 * expr.sigma]))
        )
    assert all(math.isfinite(v) for v in values), (expr, values)
    json.dumps(expr.to_list(), allow_nan=False)


def test_numpy_values_are_taken_as_their_python_values() -> None:
    assert choice(np.arange(3)) == choice(0, 1, 2) == choice(range(3))
    assert [type(v) for v in choice(np.arange(3)).values] == [int, int, int]
    mixed = choice(np.float64(0.1), np.int64(3), np.str_("a"), np.bool_(True))
    assert mixed.values == [0.1, 3, "a", True] and [type(v) for v in mixed.values] == [
        float,
        int,
        str,
        bool,
    ]
    assert choice(np.array([0.5, 1.5])).values == [0.5, 1.5]
    assert choice([np.int32(1), np.int32(2)]).values == [1, 2]
    expr = quniform(np.float32(0), np.int64(10), np.int64(2))
    assert expr.to_list() == ["quniform", [0.0, 10, 2]] and json.dumps(expr.to_list())
    assert randint(np.int64(5)) == randint(5) and normal(np.float64(0), np.float32(1)) == normal(
        0.0, 1.0
    )


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (
            lambda: choice({1, 2, 3}),
            "a set has no order: pass sorted(...) or a list. Got {1, 2, 3} instead.",
        ),
        (lambda: choice([1, {2}]), "a set has no order"),
        (lambda: choice(object()), "a object is not. Got <object"),
        (lambda: choice(x for x in range(3)), "a generator is not"),
        (lambda: choice("data_\udcff.csv"), "strings that are valid Unicode"),
        (lambda: choice(2**1100), "integers within the float range"),
        (lambda: choice([[1, math.nan]]), "finite numbers"),
        # a mapping is a branch of a nested choice, whose keys are parameter names
        (
            lambda: choice({1: "a"}),
            "'values[0]' parameter of choice must be keyed by non-empty names",
        ),
    ],
)
def test_choice_refuses_what_a_sweep_cannot_store(make, fragment) -> None:
    with pytest.raises(InvalidConfigError, match=r"'values(\[\d+\])?' parameter of choice") as info:
        make()
    assert fragment in str(info.value)


def test_a_fine_q_gives_multiples_of_q_not_just_the_bounds() -> None:
    expr = quniform(0, 1, 1e-13)
    values = expr.sample(np.random.default_rng(0), size=50)
    assert len(set(values)) == 50 and all(0 < v < 1 for v in values)
    assert all(abs(v / 1e-13 - round(v / 1e-13)) < 1e-3 for v in values)
    assert all(expr.contains(v) for v in values)
    small = qnormal(0, 1e-10, 1e-14).sample(np.random.default_rng(1), size=20)
    assert len(set(small)) > 10


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (["uniform", [0]], "uniform takes [min_value, max_value]"),
        (["uniform", 3], "uniform takes"),
        (["loguniform", [1e6, 1e7]], "search_space.x: The 'max_value' parameter of loguniform"),
        ({"type": ["uniform"], "min_value": 0, "max_value": 1}, "type must be one of"),
        ({"type": {"a": 1}}, "type must be one of"),
        (
            {"type": "choice", "values": [{1, 2}]},
            "search_space.x: The 'values' parameter of choice",
        ),
    ],
)
def test_data_forms_refuse_bad_shapes_clearly(data, fragment) -> None:
    with pytest.raises(InvalidConfigError) as info:
        expression_from_data(data, where="search_space.x")
    assert fragment in str(info.value)
