"""HyperDrive's own details: expressions as lists, the deprecated alias, the name constants,
unseeded sampling per submission, warm start without repeats, and the duration cap."""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hypersweep import (
    BanditPolicy,
    BayesianParameterSampling,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRunConfig,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    RandomParameterSampling,
    Run,
    SearchSpace,
    TruncationSelectionPolicy,
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from hypersweep.errors import InvalidConfigError


def test_expressions_serialise_as_azure_lists() -> None:
    assert json.dumps(choice(1, 2, 3)) == '["choice", [[1, 2, 3]]]'
    assert json.loads(json.dumps(uniform(0, 1))) == ["uniform", [0, 1]]
    assert json.loads(json.dumps(quniform(0, 10, 2))) == ["quniform", [0, 10, 2]]
    assert json.loads(json.dumps(loguniform(-6, -1))) == ["loguniform", [-6, -1]]
    assert json.loads(json.dumps(qloguniform(0, 3, 1))) == ["qloguniform", [0, 3, 1]]
    assert json.loads(json.dumps(normal(0, 1))) == ["normal", [0, 1]]
    assert json.loads(json.dumps(qnormal(0, 1, 1))) == ["qnormal", [0, 1, 1]]
    assert json.loads(json.dumps(lognormal(0, 1))) == ["lognormal", [0, 1]]
    assert json.loads(json.dumps(randint(5))) == ["randint", [5]]
    space = {"--lr": loguniform(-6, -1), "--batch": choice(16, 32)}
    assert json.loads(json.dumps(space)) == {
        "--lr": ["loguniform", [-6, -1]],
        "--batch": ["choice", [[16, 32]]],
    }
    assert json.loads(json.dumps(SearchSpace(space))) == json.loads(json.dumps(space))
    sampling = RandomParameterSampling(space, properties={"seed": 3})
    assert json.loads(json.dumps(sampling.space)) == json.loads(json.dumps(space))
    # the lists compare equal to the expressions and are accepted back as expressions
    assert choice(1, 2, 3) == ["choice", [[1, 2, 3]]]
    assert not choice(1, 2, 3) != ["choice", [[1, 2, 3]]]
    assert choice(1, 2) != ["choice", [[1, 3]]]
    back = RandomParameterSampling(json.loads(json.dumps(space)), properties={"seed": 3})
    assert back.space == sampling.space
    assert back.configuration(4) == sampling.configuration(4)


def test_choice_unpacks_only_a_single_list_or_range_as_azure() -> None:
    assert choice([1, 2, 3]).values == [1, 2, 3]
    assert choice(range(3)).values == [0, 1, 2]
    assert choice((1, 2)).values == [[1, 2]]  # a tuple is one option (kept as JSON data: a list)
    assert choice((1, 2), (3, 4)).values == [[1, 2], [3, 4]]
    with pytest.raises(InvalidConfigError, match="not a mix"):
        choice([1, 2], 3)
    sampling = GridParameterSampling({"shape": choice((1, 2))})
    assert sampling.max_configurations() == 1


def test_deprecated_alias_and_name_constants() -> None:
    with pytest.warns(DeprecationWarning, match="HyperDriveRunConfig is deprecated"):
        config = HyperDriveRunConfig(
            run_config=lambda cfg: cfg["x"],
            hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}),
            primary_metric_name="m",
            primary_metric_goal="maximize",
            max_total_runs=2,
        )
    assert isinstance(config, HyperDriveConfig)
    assert RandomParameterSampling.SAMPLING_NAME == "RANDOM"
    assert GridParameterSampling.SAMPLING_NAME == "GRID"
    assert BayesianParameterSampling.SAMPLING_NAME == "BayesianOptimization"
    assert BanditPolicy.POLICY_NAME == "Bandit"
    assert MedianStoppingPolicy.POLICY_NAME == "MedianStopping"
    assert TruncationSelectionPolicy.POLICY_NAME == "TruncationSelection"
    assert NoTerminationPolicy.POLICY_NAME == "Default"


def test_max_duration_above_the_service_limit_is_capped() -> None:
    with pytest.warns(
        UserWarning, match=r"\(10081 minutes\) exceeds the service limit of 10080 minutes"
    ):
        config = HyperDriveConfig(
            run_config=lambda cfg: 1.0,
            hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}),
            primary_metric_name="m",
            primary_metric_goal="maximize",
            max_total_runs=2,
            max_duration_minutes=10081,
        )
    assert config.max_duration_minutes == 10080
    assert config.describe()["max_duration_minutes"] == 10080
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        at_limit = HyperDriveConfig(
            run_config=lambda cfg: 1.0,
            hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}),
            primary_metric_name="m",
            primary_metric_goal="maximize",
            max_total_runs=2,
            max_duration_minutes=10080,
        )
    assert at_limit.max_duration_minutes == 10080


def _trial(cfg):
    Run.get_context().log("score", -((cfg["x"] - 0.3) ** 2) + cfg.get("k", 0))


def _sweep(workspace, sampling, name="exp", n=4, **kw):
    config = HyperDriveConfig(
        run_config=_trial,
        hyperparameter_sampling=sampling,
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=n,
        max_concurrent_runs=2,
        **kw,
    )
    run = Experiment(workspace, name).submit(config)
    run.wait_for_completion()
    return run


def _configs(run):
    return [json.loads(v) for v in run.get_hyperparameters().values()]


def test_unseeded_sampling_draws_new_configurations_in_every_sweep(workspace) -> None:
    sampling = RandomParameterSampling({"x": uniform(0, 1)})
    first, second = _sweep(workspace, sampling), _sweep(workspace, sampling)
    seeds = [workspace.store.sweep(r.id).config["seed"] for r in (first, second)]
    assert seeds[0] != seeds[1]
    assert not set(map(json.dumps, _configs(first))) & set(map(json.dumps, _configs(second)))
    # the recorded seed regenerates the sweep exactly (what resume relies on)
    stored = workspace.store.sweep(second.id).config["generator_config"]
    again = RandomParameterSampling(stored["parameter_space"], properties=stored["properties"])
    assert sorted(again.configuration(k)["x"] for k in range(4)) == sorted(
        c["x"] for c in _configs(second)
    )
    # with a seed, sweeps repeat
    seeded = RandomParameterSampling({"x": uniform(0, 1)}, properties={"seed": 11})
    a, b = _sweep(workspace, seeded), _sweep(workspace, seeded)
    assert sorted(c["x"] for c in _configs(a)) == sorted(c["x"] for c in _configs(b))


@pytest.mark.parametrize("kind", ["random", "grid", "random-continuous"])
def test_a_warm_started_sweep_never_reruns_a_parent_configuration(workspace, kind) -> None:
    if kind == "random-continuous":

        def make():
            return RandomParameterSampling({"x": uniform(0, 1)}, properties={"seed": 5})

        parent = _sweep(workspace, make(), n=4)
        child = _sweep(workspace, make(), n=4, resume_from=[parent])
        seen = {c["x"] for c in _configs(parent)}
        assert len(_configs(child)) == 4 and not seen & {c["x"] for c in _configs(child)}
        return
    space = {"x": choice(0.1, 0.2, 0.3, 0.4, 0.5, 0.6)}

    def make():
        if kind == "grid":
            return GridParameterSampling(space)
        return RandomParameterSampling(space, properties={"seed": 5})

    parent = _sweep(workspace, make(), n=4)
    child = _sweep(workspace, make(), n=4, resume_from=[parent])
    ran = {c["x"] for c in _configs(parent)}
    got = [c["x"] for c in _configs(child)]
    left = sorted({0.1, 0.2, 0.3, 0.4, 0.5, 0.6} - ran)
    assert len(ran) == 4 and not ran & set(got)
    if kind == "grid":
        assert sorted(got) == left  # the grid ends when what is left has run
    else:
        assert (
            sorted(got[:2]) == left and sorted(got[2:]) == left
        )  # random sampling may repeat its own
    assert child.get_status() == "Completed"


_numbers = st.integers(-50, 50) | st.floats(-50, 50, allow_nan=False).map(lambda x: round(x, 3))
_options = st.lists(
    st.integers(-5, 5) | st.text("abc", min_size=1, max_size=3) | st.booleans(),
    min_size=1,
    max_size=5,
)


@st.composite
def _expressions(draw):
    kind = draw(
        st.sampled_from(
            ["choice", "randint", "uniform", "quniform", "loguniform", "normal", "qlognormal"]
        )
    )
    if kind == "choice":
        return choice(draw(_options))
    if kind == "randint":
        return randint(draw(st.integers(1, 100)))
    if kind == "normal":
        return normal(draw(_numbers), abs(draw(_numbers)))
    if kind == "qlognormal":  # mu and sigma are exponents: bounded so that every draw stays finite
        mu = draw(st.floats(-5, 5, allow_nan=False))
        sigma = draw(st.floats(0, 3, allow_nan=False))
        return qlognormal(mu, sigma, draw(st.integers(1, 5)))
    low = draw(_numbers)
    high = low + 1 + abs(draw(_numbers))
    if kind == "quniform":
        return quniform(low, high, draw(st.integers(1, 5)))
    return uniform(low, high) if kind == "uniform" else loguniform(low, high)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.text("xyz-", min_size=1, max_size=4).filter(lambda n: n.strip("-")),
        _expressions(),
        min_size=1,
        max_size=4,
    )
)
def test_json_of_any_space_comes_back_as_the_same_space(space) -> None:
    names = {n.lstrip("-") for n in space}
    assume(len(names) == len(space))
    text = json.dumps(space)
    back = SearchSpace(json.loads(text))
    assert back == SearchSpace(space) and json.dumps(back) == text
    for name, expr in space.items():
        assert json.loads(json.dumps(expr)) == expr.to_list() == back[name]
