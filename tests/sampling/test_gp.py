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
