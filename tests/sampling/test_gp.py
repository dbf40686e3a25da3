"""The Gaussian process and the acquisition function behind BayesianParameterSampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from hypersweep.sampling._acquisition import AcquisitionProblem, log_ei, log_h, optimize_log_ei
from hypersweep.sampling._gp import (
    GaussianProcess,
    KernelParams,
    _neg_log_posterior,
    _pairwise_components,
    fit_kernel_params,
    matern52,
    scaled_sqdist,
)


def _standardize(y: np.ndarray) -> np.ndarray:
    return (y - y.mean()) / y.std()


def test_matern52_is_one_at_zero_and_decreasing() -> None:
    r2 = np.array([0.0, 0.1, 1.0, 4.0])
    k = matern52(r2)
    assert k[0] == pytest.approx(1.0)
    assert np.all(np.diff(k) < 0)


def test_categorical_columns_use_hamming_distance() -> None:
    a = np.array([[0.0, 2.0]])
    b = np.array([[0.0, 2.0], [0.0, 0.0], [0.5, 1.0]])
    r2 = scaled_sqdist(a, b, np.array([4.0, 1.0]), np.array([False, True]))
    assert r2[0].tolist() == pytest.approx([0.0, 1.0, 4.0 * 0.25 + 1.0])


def test_fit_recovers_a_1d_function() -> None:
    X = np.linspace(0, 1, 12)[:, None]
    f = np.sin(6 * X[:, 0])
    y = _standardize(f)
    params = fit_kernel_params(X, y, np.array([False]), rng=np.random.default_rng(0))
    gp = GaussianProcess(X, y, np.array([False]), params)
    Xt = np.linspace(0.04, 0.96, 9)[:, None]
    truth = (np.sin(6 * Xt[:, 0]) - f.mean()) / f.std()
    mean, var = gp.predict(Xt)
    assert np.max(np.abs(mean - truth)) < 0.05
    assert np.all(var < 0.05)
    assert 0.05 < params.lengthscales[0] < 2.0
    assert params.noise < 1e-2


def test_fit_recovers_a_2d_function_and_ard_ignores_a_useless_input() -> None:
    rng = np.random.default_rng(1)
    X = rng.random((40, 2))
    f = (X[:, 0] - 0.3) ** 2 + np.sin(3 * X[:, 0])  # x1 is irrelevant
    y = _standardize(f)
    params = fit_kernel_params(X, y, np.array([False, False]), rng=rng, n_random_starts=1)
    gp = GaussianProcess(X, y, np.array([False, False]), params)
    Xt = rng.random((20, 2))
    truth = ((Xt[:, 0] - 0.3) ** 2 + np.sin(3 * Xt[:, 0]) - f.mean()) / f.std()
    mean, _ = gp.predict(Xt)
    assert np.max(np.abs(mean - truth)) < 0.05
    assert params.lengthscales[1] > 5 * params.lengthscales[0]


def test_log_posterior_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(2)
    X = rng.random((15, 3))
    X[:, 2] = rng.integers(3, size=15)
    cat = np.array([False, False, True])
    y = _standardize(np.sin(4 * X[:, 0]) + X[:, 1] + 0.5 * X[:, 2])
    comp = _pairwise_components(X, cat)
    theta = np.array([math.log(0.4), math.log(0.8), math.log(1.5), 0.2, math.log(1e-3)])
    _, grad = _neg_log_posterior(theta, comp, y)
    eps = 1e-6
    numeric = [
        (_neg_log_posterior(theta + e, comp, y)[0] - _neg_log_posterior(theta - e, comp, y)[0])
        / (2 * eps)
        for e in np.eye(len(theta)) * eps
    ]
    assert grad == pytest.approx(numeric, rel=1e-5, abs=1e-5)


def test_posterior_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(3)
    X = rng.random((10, 2))
    y = _standardize(np.cos(3 * X[:, 0]) * X[:, 1])
    gp = GaussianProcess(
        X, y, np.array([False, False]), KernelParams(np.array([0.3, 0.5]), 1.2, 1e-4)
    )
    Xs = rng.random((4, 2))
    _, _, dmean, dvar = gp.predict_with_grad(Xs, np.array([0, 1]))
    for j in range(2):
        e = np.zeros(2)
        e[j] = 1e-6
        m1, v1 = gp.predict(Xs + e)
        m0, v0 = gp.predict(Xs - e)
        assert dmean[:, j] == pytest.approx((m1 - m0) / 2e-6, rel=1e-4, abs=1e-6)
        assert dvar[:, j] == pytest.approx((v1 - v0) / 2e-6, rel=1e-4, abs=1e-6)


def test_condition_equals_refitting_with_the_new_points() -> None:
    rng = np.random.default_rng(4)
    X, Xn, Xs = rng.random((8, 2)), rng.random((2, 2)), rng.random((5, 2))
    y, yn = rng.normal(size=8), rng.normal(size=2)
    params = KernelParams(np.array([0.4, 0.6]), 1.0, 1e-3)
    cat = np.array([False, False])
    updated = GaussianProcess(X, y, cat, params).condition(Xn, yn)
    refit = GaussianProcess(np.vstack([X, Xn]), np.concatenate([y, yn]), cat, params)
    assert updated.predict(Xs)[0] == pytest.approx(refit.predict(Xs)[0])
    assert updated.predict(Xs)[1] == pytest.approx(refit.predict(Xs)[1])


def test_log_h_is_accurate_and_finite_far_in_the_tail() -> None:
    z = np.array([-3.0, -1.5, -0.5, 0.0, 2.0])
    direct = np.log(norm.pdf(z) + z * norm.cdf(z))
    assert log_h(z) == pytest.approx(direct, rel=1e-9)
    tail = log_h(np.array([-40.0, -1e3, -1e9]))
    assert np.all(np.isfinite(tail))
    assert np.all(np.diff(tail) < 0)


def test_log_ei_gradients() -> None:
    mean, var = np.array([0.3, 1.0, 6.0]), np.array([0.2, 0.01, 0.5])
    _, d_mean, d_var = log_ei(mean, var, 0.0)
    num_mean = (log_ei(mean + 1e-6, var, 0.0)[0] - log_ei(mean - 1e-6, var, 0.0)[0]) / 2e-6
    num_var = (log_ei(mean, var + 1e-7, 0.0)[0] - log_ei(mean, var - 1e-7, 0.0)[0]) / 2e-7
    assert d_mean == pytest.approx(num_mean, rel=1e-5)
    assert d_var == pytest.approx(num_var, rel=1e-5)


def test_acquisition_optimizer_finds_the_promising_region() -> None:
    X = np.array([[0.1], [0.3], [0.5], [0.7], [0.9]])
    y = _standardize((X[:, 0] - 0.62) ** 2)
    gp = GaussianProcess(X, y, np.array([False]), KernelParams(np.array([0.3]), 1.0, 1e-6))
    problem = AcquisitionProblem(cont=np.array([0]), cat_levels={}, snap=lambda a: a)
    points, scores = optimize_log_ei(
        gp, float(y.min()), problem, np.random.default_rng(0), centers=X[np.argsort(y)[:2]]
    )
    assert np.all(np.diff(scores) <= 0)
    assert 0.5 < points[0, 0] < 0.75


def _problem(dim: int, cat: dict[int, int] | None = None) -> AcquisitionProblem:
    cat = cat or {}
    return AcquisitionProblem(
        cont=np.array([j for j in range(dim) if j not in cat]), cat_levels=cat, snap=lambda X: X
    )


def test_edge_points_lie_on_the_faces_of_the_box_and_keep_categories_valid() -> None:
    from hypersweep.sampling._acquisition import _edge_points

    problem = _problem(3, {2: 4})
    centers = np.array([[0.2, 0.7, 1.0], [0.6, 0.4, 3.0]])
    X = _edge_points(problem, centers, 200, np.random.default_rng(0))
    assert X.shape == (200, 3)
    cont = X[:, :2]
    on_bound = (cont == 0.0) | (cont == 1.0)
    assert on_bound.any(axis=1).all()  # every point has at least one coordinate on a bound
    assert on_bound.all(axis=1).any()  # and some are corners
    assert set(np.unique(X[:, 2])) <= {0.0, 1.0, 2.0, 3.0}
    # the centers' coordinates go to their nearer bound
    half = X[100:, :2]
    assert np.all((half != 1.0) | (np.isin(half, [1.0])))
    assert np.all(np.isin(X[100:, 0], [0.0, 0.2, 0.6, 1.0]))


def test_edge_candidates_are_scored_with_the_others() -> None:
    rng = np.random.default_rng(1)
    X = rng.uniform(0.2, 0.8, size=(12, 4))
    y = _standardize(np.sum((X - 1.0) ** 2, axis=1))
    gp = GaussianProcess(X, y, np.zeros(4, dtype=bool), KernelParams(np.full(4, 1.0), 1.0, 1e-4))

    def corners(n_edge: int) -> int:
        points, scores = optimize_log_ei(
            gp,
            float(y.min()),
            _problem(4),
            np.random.default_rng(0),
            centers=X[:2],
            n_random=256,
            n_local=256,
            maxiter=0,
            n_edge=n_edge,
        )
        assert np.all(np.diff(scores) <= 0)
        return int(np.sum(np.any((points == 0.0) | (points == 1.0), axis=1)))

    assert corners(64) >= corners(0) + 32


def test_pareto_pick_draws_from_the_front_of_ei_pi_and_lcb() -> None:
    from hypersweep.sampling._acquisition import _pareto_front, pareto_pick

    obj = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.5, 0.5, -1.0], [1.0, 1.0, 0.0]])
    assert _pareto_front(obj).tolist() == [0, 1, 3]
    X = np.linspace(0, 1, 6)[:, None]
    y = _standardize(np.sin(5 * X[:, 0]))
    gp = GaussianProcess(X, y, np.array([False]), KernelParams(np.array([0.2]), 1.0, 1e-4))
    points = np.linspace(0, 1, 101)[:, None]
    firsts = {
        float(pareto_pick(gp, float(y.min()), points, np.random.default_rng(s))[0, 0])
        for s in range(30)
    }
    assert len(firsts) > 1  # different draws give different members of the front
    out = pareto_pick(gp, float(y.min()), points, np.random.default_rng(3))
    assert sorted(out[:, 0].tolist()) == points[:, 0].tolist()  # a permutation of the points
    again = pareto_pick(gp, float(y.min()), points, np.random.default_rng(3))
    assert np.array_equal(out, again)  # deterministic given the generator


def test_kumaraswamy_warping_is_a_monotone_bijection_and_identity_at_one() -> None:
    from hypersweep.sampling._gp import kumaraswamy

    x = np.linspace(0, 1, 101)[:, None].repeat(3, axis=1)
    x[:, 2] = np.arange(101) % 3  # a categorical column keeps its levels
    warp = np.array([[0.5, 2.0], [1.0, 1.0], [1.0, 1.0]])
    u = kumaraswamy(x, warp)
    assert np.all(np.diff(u[:, 0]) > 0)
    assert u[0, 0] == pytest.approx(0.0, abs=1e-5) and u[-1, 0] == pytest.approx(1.0)
    assert np.array_equal(u[:, 1:], x[:, 1:])
    assert kumaraswamy(x, None) is x


def test_warped_log_posterior_gradient_matches_finite_differences() -> None:
    from hypersweep.sampling._gp import _neg_log_posterior_warped

    rng = np.random.default_rng(0)
    X = rng.random((15, 3))
    X[:, 2] = rng.integers(3, size=15)
    cat, cols, y = np.array([False, False, True]), np.array([0, 1]), rng.normal(size=15)
    theta = np.concatenate(
        [np.log([0.4, 0.7, 1.0]), [0.1, math.log(1e-3)], [0.3, -0.2], [0.5, -0.4]]
    )
    _, grad = _neg_log_posterior_warped(theta, X, cat, cols, y)
    eps = 1e-6
    numeric = [
        (
            _neg_log_posterior_warped(theta + e, X, cat, cols, y)[0]
            - _neg_log_posterior_warped(theta - e, X, cat, cols, y)[0]
        )
        / (2 * eps)
        for e in np.eye(len(theta)) * eps
    ]
    assert grad == pytest.approx(numeric, rel=1e-4, abs=1e-5)


def test_warped_posterior_gradients_and_updates_are_consistent() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((15, 3))
    X[:, 2] = rng.integers(3, size=15)
    cat, y = np.array([False, False, True]), rng.normal(size=15)
    warp = np.array([[0.6, 1.8], [1.5, 0.7], [1.0, 1.0]])
    gp = GaussianProcess(X, y, cat, KernelParams(np.array([0.4, 0.7, 1.0]), 1.1, 1e-3, warp))
    Xs = rng.random((4, 3))
    Xs[:, 2] = 1
    mean, var, dmean, dvar = gp.predict_with_grad(Xs, np.array([0, 1]))
    assert np.allclose(gp.predict(Xs)[0], mean) and np.allclose(gp.predict(Xs)[1], var)
    for j in (0, 1):
        e = np.zeros(3)
        e[j] = 1e-6
        (mp, vp), (mm, vm) = gp.predict(Xs + e), gp.predict(Xs - e)
        assert np.allclose((mp - mm) / 2e-6, dmean[:, j], rtol=1e-4, atol=1e-6)
        assert np.allclose((vp - vm) / 2e-6, dvar[:, j], rtol=1e-4, atol=1e-6)
    updated = gp.condition(Xs[:2], np.array([0.1, 0.2]))
    full = GaussianProcess(np.vstack([X, Xs[:2]]), np.concatenate([y, [0.1, 0.2]]), cat, gp.params)
    assert np.allclose(updated.predict(Xs[2:])[0], full.predict(Xs[2:])[0])


def test_fitted_warping_stretches_where_the_function_varies() -> None:
    rng = np.random.default_rng(2)
    X = rng.random((40, 2))
    y = _standardize(np.sin(12 * X[:, 0] ** 3) + 0.1 * X[:, 1])  # fast near x0 = 1, slow near 0
    cat = np.array([False, False])
    params = fit_kernel_params(X, y, cat, rng=rng, warp_cols=np.array([0, 1]))
    assert params.warp is not None and params.warp.shape == (2, 2)
    a, b = params.warp[0]
    assert a > 1.0  # the map expands the region near x0 = 1
    plain = fit_kernel_params(X, y, cat, rng=np.random.default_rng(2))
    assert plain.warp is None
