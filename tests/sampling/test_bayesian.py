"""BayesianParameterSampling: encoding, model-based suggestions, concurrency, validation."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from hypersweep.errors import InvalidConfigError
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.sampling import BayesianParameterSampling, Observation, RandomParameterSampling
from hypersweep.sampling.bayesian import _Column, _targets
from hypersweep.space import (
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
from hypersweep.status import RunStatus

MIN = PrimaryMetricGoal.MINIMIZE
MAX = PrimaryMetricGoal.MAXIMIZE


def _quadratic(config: dict[str, Any]) -> float:
    return (config["x"] - 0.3) ** 2 + (config["y"] + 0.4) ** 2


def _run(
    sampler: Any, objective: Callable[[dict[str, Any]], float], budget: int, batch: int = 1
) -> list[Observation]:
    observations: list[Observation] = []
    while len(observations) < budget:
        configs = sampler.suggest(min(batch, budget - len(observations)), observations, MIN)
        assert configs
        observations += [Observation(c, objective(c)) for c in configs]
    return observations


def _done(
    configs: list[dict[str, Any]], objective: Callable[[dict[str, Any]], float]
) -> list[Observation]:
    return [Observation(c, objective(c)) for c in configs]


QUAD_SPACE = {"x": uniform(-1, 1), "y": uniform(-1, 1)}

# -- encoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, values",
    [
        (uniform(-2, 3), [-2.0, 0.5, 3.0]),
        (loguniform(-6, -1), [math.exp(-6), 0.01, math.exp(-1)]),
        (normal(1, 2), [-3.0, 1.0, 4.5]),
        (lognormal(0, 1), [0.2, 1.0, 3.0]),
        (quniform(0, 10, 2), [0, 4, 10]),
        (quniform(0, 1, 0.25), [0.0, 0.25, 1.0]),
        (qloguniform(0, 5, 1), [1, 10, 148]),
        (qnormal(0, 10, 5), [-20, 0, 15]),
        (qlognormal(0, 2, 1), [1, 4, 30]),
        (randint(7), [0, 3, 6]),
        (choice("relu", "tanh", "gelu"), ["relu", "tanh", "gelu"]),
        (choice(64, 16, 32), [16, 32, 64]),
    ],
)
def test_encode_decode_round_trip(expr: Any, values: list[Any]) -> None:
    col = _Column("p", expr)
    for v in values:
        u = col.encode(v)
        if col.kind != "cat":
            assert 0.0 <= u <= 1.0
        back = col.decode(u)
        assert back == pytest.approx(v, rel=1e-9) if not isinstance(v, str) else back == v
        assert type(back) is type(v)
        if col.discrete:  # representable values are fixed points of snapping
            assert col.snap(np.array([u]))[0] == pytest.approx(u)


def test_quantized_columns_snap_to_the_grid() -> None:
    col = _Column("p", quniform(0, 10, 2))
    snapped = col.snap(np.linspace(0, 1, 101))
    values = {col.decode(u) for u in snapped}
    assert values == {0, 2, 4, 6, 8, 10}
    assert all(isinstance(v, int) for v in values)
    assert col.grid() is not None and len(col.grid()) == 6


def test_string_choice_is_categorical_and_numeric_choice_is_ordinal() -> None:
    cat = _Column("act", choice("relu", "tanh", "gelu"))
    assert cat.kind == "cat" and [cat.encode(v) for v in ("relu", "tanh", "gelu")] == [
        0.0,
        1.0,
        2.0,
    ]
    ordinal = _Column("bs", choice(64, 16, 128, 32))
    assert ordinal.kind == "ord"
    assert [ordinal.encode(v) for v in (16, 32, 64, 128)] == pytest.approx([0, 1 / 3, 2 / 3, 1])


def test_targets_warp_outliers_and_impute_failures_with_the_worst() -> None:
    loss = np.array([1.0, 2.0, 1.5, 1e6, np.nan])
    z = _targets(loss)
    assert np.all(np.isfinite(z))
    assert z[4] == z.max() == z[3]
    assert z[0] < z[2] < z[1] < z[3]
    # the outlier no longer squeezes the others together (standardizing alone gives ~1e-6)
    assert (z[1] - z[0]) > 0.05 * (z[3] - z[0])


def test_targets_put_the_prior_mean_at_a_poor_value() -> None:
    loss = np.random.default_rng(0).normal(size=40) ** 2
    z = _targets(loss)
    assert np.quantile(z, 0.9) == pytest.approx(0.0, abs=1e-12)
    assert np.array_equal(np.argsort(z, kind="stable"), np.argsort(loss, kind="stable"))


def test_a_region_far_from_every_observation_is_predicted_poor() -> None:
    """The GP reverts to its prior mean far from the data; that mean must stand for a poor
    loss (worse than most observations), not the average one, or expected improvement keeps
    chasing unexplored corners of the box on multimodal problems."""
    sampler = BayesianParameterSampling(QUAD_SPACE, properties={"seed": 0})
    rng = np.random.default_rng(1)
    obs = [
        Observation(c, _quadratic(c))
        for c in ({"x": float(x), "y": float(y)} for x, y in rng.uniform(-1, -0.6, (12, 2)))
    ]
    X, loss, pending, *_ = sampler._collect(obs, MIN)
    model = sampler._model(X, loss, pending)
    y = model.gp.y
    far = sampler._encode({"x": 1.0, "y": 1.0})
    assert far is not None
    mean, _ = model.gp.predict(far[None, :])
    assert float(mean[0]) > np.quantile(y, 0.8)


# -- optimization quality ---------------------------------------------------------------------


def test_beats_random_search_on_a_quadratic() -> None:
    bayes = _run(BayesianParameterSampling(QUAD_SPACE, properties={"seed": 3}), _quadratic, 25)
    rand = _run(RandomParameterSampling(QUAD_SPACE, properties={"seed": 3}), _quadratic, 25)
    best_bayes = min(o.value for o in bayes)
    best_rand = min(o.value for o in rand)
    assert best_bayes < 1e-3
    assert best_bayes < best_rand / 10


def test_maximize_goal_is_respected() -> None:
    sampler = BayesianParameterSampling({"x": uniform(0, 1)}, properties={"seed": 0})
    obs: list[Observation] = []
    for _ in range(12):
        config = sampler.suggest(1, obs, MAX)[0]
        obs.append(Observation(config, -((config["x"] - 0.7) ** 2)))
    best = max(obs, key=lambda o: o.value)
    assert abs(best.config["x"] - 0.7) < 0.02


def test_mixed_space_suggestions_stay_in_the_space() -> None:
    space = {
        "opt": choice("adam", "sgd"),
        "lr": loguniform(-9, 0),
        "units": quniform(16, 256, 16),
        "n": randint(4),
        "bs": choice(16, 32, 64),
        "w": normal(0, 1),
        "q": qlognormal(1, 1, 1),
    }
    sampler = BayesianParameterSampling(space, properties={"seed": 1})

    def objective(c: dict[str, Any]) -> float:
        return (
            (math.log10(c["lr"]) + 2) ** 2
            + (c["units"] - 128) ** 2 / 1e4
            + (c["opt"] == "sgd")
            + c["w"] ** 2
        )

    obs = _run(sampler, objective, 16, batch=2)
    assert all(sampler.space.contains(o.config) for o in obs)
    assert isinstance(obs[-1].config["units"], int)


# -- concurrency and duplicates -------------------------------------------------------------------


def _warm(seed: int = 0, n: int = 8) -> tuple[BayesianParameterSampling, list[Observation]]:
    sampler = BayesianParameterSampling(QUAD_SPACE, properties={"seed": seed})
    return sampler, _run(sampler, _quadratic, n)


@pytest.mark.parametrize("seed", [0, 2, 5])
def test_batch_suggestions_keep_the_batch_radius_from_each_other(seed: int) -> None:
    """Near the optimum of a quadratic the model wants the same point four times (kriging
    believer leaves neighbours of a fantasy attractive); batch-mates stay _BATCH_RADIUS apart
    in the unit square (the box spans 2 on each axis)."""
    import hypersweep.sampling.bayesian as bayesian

    sampler, obs = _warm(seed)
    configs = sampler.suggest(4, obs, MIN)
    assert len(configs) == 4
    points = np.array([[c["x"], c["y"]] for c in configs]) / 2.0
    dist = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    assert dist[np.triu_indices(4, 1)].min() >= bayesian._BATCH_RADIUS


def test_pending_runs_change_the_next_suggestion() -> None:
    sampler, obs = _warm()
    first = sampler.suggest(1, obs, MIN)[0]
    pending = Observation(first, status=RunStatus.RUNNING)
    second = sampler.suggest(1, [*obs, pending], MIN)[0]
    assert second != first
    # asking for two at once gives the same pair (up to the optimizer's tolerance)
    pair = sampler.suggest(2, obs, MIN)
    assert pair[0] == first
    assert pair[1]["x"] == pytest.approx(second["x"], abs=1e-3)
    assert pair[1]["y"] == pytest.approx(second["y"], abs=1e-3)


def test_no_duplicates_on_a_finite_space_and_fewer_when_exhausted() -> None:
    space = {"a": choice(1, 2, 3), "b": choice("x", "y")}
    sampler = BayesianParameterSampling(space, properties={"seed": 0})
    assert sampler.max_configurations() == 6
    obs: list[Observation] = []
    for _ in range(6):
        config = sampler.suggest(1, obs, MIN)[0]
        obs.append(Observation(config, float(config["a"]) + (config["b"] == "y")))
    keys = {(o.config["a"], o.config["b"]) for o in obs}
    assert len(keys) == 6
    assert sampler.suggest(3, obs, MIN) == []
    fresh = BayesianParameterSampling(space, properties={"seed": 0})
    batch = fresh.suggest(10, [], MIN)
    assert len(batch) == 6 and len({tuple(c.values()) for c in batch}) == 6


def test_no_duplicates_on_a_small_quantized_space_in_the_model_phase() -> None:
    space = {"a": quniform(0, 4, 1), "b": randint(3)}
    sampler = BayesianParameterSampling(space, properties={"seed": 2, "n_initial_points": 3})
    obs = _run(sampler, lambda c: (c["a"] - 2) ** 2 + c["b"], 15)
    assert len({(o.config["a"], o.config["b"]) for o in obs}) == 15
    assert sampler.suggest(1, obs, MIN) == []


# -- reproducibility, robustness, warm start ------------------------------------------------------


def test_same_seed_same_suggestions_and_fresh_instances_agree() -> None:
    sampler, obs = _warm(seed=5, n=25)
    again = _run(BayesianParameterSampling(QUAD_SPACE, properties={"seed": 5}), _quadratic, 25)
    assert [o.config for o in obs] == [o.config for o in again]
    fresh = BayesianParameterSampling(QUAD_SPACE, properties={"seed": 5})
    assert fresh.suggest(3, obs, MIN) == sampler.suggest(3, obs, MIN)


def test_different_seeds_differ() -> None:
    a = BayesianParameterSampling(QUAD_SPACE, properties={"seed": 1}).suggest(3, [], MIN)
    b = BayesianParameterSampling(QUAD_SPACE, properties={"seed": 2}).suggest(3, [], MIN)
    assert a != b


def test_failed_nan_and_canceled_runs_do_not_crash() -> None:
    sampler, obs = _warm(n=8)
    bad = [
        Observation({"x": 0.9, "y": 0.9}, math.nan, RunStatus.FAILED),
        Observation({"x": -0.9, "y": 0.9}, math.nan, RunStatus.COMPLETED),
        Observation({"x": 0.9, "y": -0.9}, math.nan, RunStatus.CANCELED),
        Observation({"x": 0.0, "y": 0.0}, math.inf, RunStatus.COMPLETED),
        Observation({"x": 0.5, "y": 0.5}, 0.7, RunStatus.CANCELED, history=(0.9, 0.7)),
        Observation({"bogus": 1}, 1.0),
    ]
    configs = sampler.suggest(3, obs + bad, MIN)
    assert len(configs) == 3 and all(sampler.space.contains(c) for c in configs)
    only_failures = [Observation(o.config, math.nan, RunStatus.FAILED) for o in obs]
    assert len(sampler.suggest(2, only_failures, MIN)) == 2
    assert BayesianParameterSampling.supports_early_termination is True


def test_prior_observations_are_used_as_data() -> None:
    space = {"x": uniform(0, 1)}
    xs = np.linspace(0.0, 1.0, 9)
    priors = [Observation({"x": float(x)}, (float(x) - 0.63) ** 2, prior=True) for x in xs]
    sampler = BayesianParameterSampling(space, properties={"seed": 0})
    config = sampler.suggest(1, priors, MIN)[0]
    assert abs(config["x"] - 0.63) < 0.06
    # without priors the first point is the start of the Sobol design instead
    assert sampler.suggest(1, [], MIN)[0] != config


# -- validation and serialization ----------------------------------------------------------------


@pytest.mark.parametrize(
    "space, message",
    [
        ({"a": choice(True, False)}, "must be int, float or str"),
        (
            {"a": choice((1, 2), (3, 4))},
            "must be int, float or str",
        ),  # dicts: a nested choice, supported
        (
            {"a": choice(1, "two")},
            "Either all or none of the 'choice' values should be 'str' type.",
        ),
        (None, "must be a non-empty dict"),
        ({}, "must be a non-empty dict"),
    ],
)
def test_invalid_spaces(space: Any, message: str) -> None:
    with pytest.raises(InvalidConfigError, match=message.replace("(", r"\(")):
        BayesianParameterSampling(space)


@pytest.mark.parametrize(
    "properties, message",
    [
        ({"n_initial_points": 0}, "'n_initial_points' property"),
        ({"n_initial_points": True}, "'n_initial_points' property"),
        ({"acquisition": "ei"}, "accepts the properties"),
        ({"seed": -1}, "seed"),
    ],
)
def test_invalid_properties(properties: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidConfigError, match=message):
        BayesianParameterSampling(QUAD_SPACE, properties=properties)


def test_every_expression_is_supported_and_json_names_the_method() -> None:
    space = {
        "a": uniform(0, 1),
        "b": quniform(0, 10, 1),
        "c": loguniform(-3, 0),
        "d": qloguniform(0, 3, 1),
        "e": normal(0, 1),
        "f": qnormal(0, 3, 1),
        "g": lognormal(0, 1),
        "h": qlognormal(0, 1, 1),
        "i": randint(5),
        "j": choice("x", "y"),
    }
    sampler = BayesianParameterSampling(space, properties={"seed": 0})
    assert sampler.to_json()["name"] == "BayesianOptimization"
    assert sampler.max_configurations() is None


def test_rounds_since_best_counts_the_points_after_the_best_loss() -> None:
    from hypersweep.sampling.bayesian import _rounds_since_best

    assert _rounds_since_best(np.array([])) == 0
    assert _rounds_since_best(np.array([3.0, 1.0, 2.0, 2.5])) == 2
    assert _rounds_since_best(np.array([3.0, math.nan, 0.5])) == 0
    assert _rounds_since_best(np.array([math.nan, math.nan])) == 0


def test_a_stalled_sweep_draws_from_the_acquisition_portfolio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hypersweep.sampling.bayesian as bayesian

    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, size=(30, 2))
    configs = [{"x": float(a), "y": float(b)} for a, b in xs]
    history = _done(configs, _quadratic)
    # the best run comes first: every later point is "no improvement"
    history.sort(key=lambda o: o.value)
    history = history[:1] + history[1:][::-1]

    def suggestions() -> list[tuple[float, float]]:
        out = []
        for k in range(6):
            s = BayesianParameterSampling(QUAD_SPACE, properties={"seed": k})
            c = s.suggest(1, history, MIN)[0]
            out.append((c["x"], c["y"]))
        return out

    monkeypatch.setattr(bayesian, "_STALL_MIN", 5)
    with_portfolio = suggestions()
    assert with_portfolio == suggestions()  # still a pure function of seed and observations
    monkeypatch.setattr(bayesian, "_STALL_MIN", None)
    ei_only = suggestions()
    assert with_portfolio != ei_only
    monkeypatch.setattr(bayesian, "_STALL_MIN", 40)  # the best is only 29 points old
    assert suggestions() == ei_only


@pytest.mark.parametrize(
    "options",
    [{"_WARP": True}, {"_N_EDGE": 64}, {"_WARP": True, "_STALL_MIN": 3}],
)
def test_measured_options_keep_suggestions_valid_and_reproducible(
    monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    import hypersweep.sampling.bayesian as bayesian

    space = {
        "lr": loguniform(-6, -1),
        "width": quniform(16, 256, 16),
        "act": choice("relu", "tanh"),
        "depth": choice(1, 2, 4),
    }

    def objective(c: dict[str, Any]) -> float:
        return (math.log(c["lr"]) + 3) ** 2 + (c["width"] - 64) ** 2 / 1e4 + (c["act"] == "tanh")

    def run() -> list[Observation]:
        s = BayesianParameterSampling(space, properties={"seed": 4})
        return _run(s, objective, 14, batch=2)

    monkeypatch.setattr(bayesian, "_WARP", False)
    monkeypatch.setattr(bayesian, "_N_EDGE", 0)
    monkeypatch.setattr(bayesian, "_STALL_MIN", None)
    plain = [o.config for o in run()]
    for name, value in options.items():
        monkeypatch.setattr(bayesian, name, value)
    first = run()
    assert [o.config for o in first] == [o.config for o in run()]
    assert [o.config for o in first] != plain
    for obs in first:
        assert 16 <= obs.config["width"] <= 256 and obs.config["width"] % 16 == 0
        assert obs.config["act"] in ("relu", "tanh") and obs.config["depth"] in (1, 2, 4)
        assert math.exp(-6) <= obs.config["lr"] <= math.exp(-1)
    assert len({tuple(sorted(o.config.items())) for o in first}) == len(first)


# -- repeat guard -------------------------------------------------------------------------------

BRANIN_SPACE = {"x0": uniform(-5, 10), "x1": uniform(0, 15)}


def _branin(config: dict[str, Any]) -> float:
    x0, x1 = config["x0"], config["x1"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x1 - b * x0**2 + c * x0 - 6) ** 2 + 10 * (1 - t) * math.cos(x0) + 10


def _branin_unit_distance(config: dict[str, Any], observations: list[Observation]) -> float:
    """Nearest distance to the data in the unit square of BRANIN_SPACE (both axes span 15)."""
    p = np.array([config["x0"], config["x1"]])
    data = np.array([[o.config["x0"], o.config["x1"]] for o in observations])
    return float(np.min(np.linalg.norm((data - p) / 15.0, axis=1)))


def test_a_streak_of_repeats_sends_the_next_pick_away_from_the_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Branin, seed 7, without the guard: from the 15th run on, the model keeps refining
    (10, 3.0) on the box edge. With the guard, the pick after such a streak is far from the data;
    without a streak at the end of the history, the guard changes nothing."""
    import hypersweep.sampling.bayesian as bayesian

    def pick(history: list[Observation]) -> dict[str, Any]:
        sampler = BayesianParameterSampling(BRANIN_SPACE, properties={"seed": 7})
        return sampler.suggest(1, history, MIN)[0]

    monkeypatch.setattr(bayesian, "_REPEAT_RADIUS", None)
    stalled = _run(BayesianParameterSampling(BRANIN_SPACE, properties={"seed": 7}), _branin, 18)
    for k in (16, 17):  # the last two runs each repeat an earlier one
        assert _branin_unit_distance(stalled[k].config, stalled[:k]) < 0.003
    unguarded = pick(stalled)
    assert _branin_unit_distance(unguarded, stalled) < 0.003  # and the model wants one more
    reordered = stalled[-3:] + stalled[:-3]  # same data, the repeats no longer last
    unguarded_reordered = pick(reordered)

    monkeypatch.setattr(bayesian, "_REPEAT_RADIUS", 0.003)
    guarded = pick(stalled)
    assert _branin_unit_distance(guarded, stalled) >= bayesian._AWAY_RADIUS
    assert pick(stalled) == guarded  # still a pure function of seed and observations
    assert pick(reordered) == unguarded_reordered


@pytest.mark.parametrize("guard, stalls", [(0.003, False), (None, True)])
def test_the_repeat_guard_gets_branin_off_the_box_edge(
    monkeypatch: pytest.MonkeyPatch, guard: float | None, stalls: bool
) -> None:
    """Seed 7 on Branin (budget 40): without the guard the sampler refines (10, 3.0) on the box
    edge (value 1.943) to the end; with it, it finds a global minimum (0.397887)."""
    import hypersweep.sampling.bayesian as bayesian

    monkeypatch.setattr(bayesian, "_REPEAT_RADIUS", guard)
    sampler = BayesianParameterSampling(BRANIN_SPACE, properties={"seed": 7})
    best = min(o.value for o in _run(sampler, _branin, 40))
    assert (best > 1.5) is stalls
    if not stalls:
        assert best < 0.397887 + 0.01
