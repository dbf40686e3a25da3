"""A small Gaussian process for the Bayesian sampler (numpy and scipy only).

The model works on encoded points: one column per parameter, continuous columns in [0, 1] and
categorical columns holding a level index. The kernel is Matérn-5/2 with one length scale per
column (ARD); a categorical column contributes ``[a != b] / l**2`` to the squared distance
(a Hamming distance, as if each category were a corner of a simplex).

Hyperparameters (log length scales, log signal variance, log noise variance) are fitted by
maximizing the log marginal likelihood plus weak log priors (maximum a posteriori) with L-BFGS-B
and analytic gradients. Targets are expected to be standardized (mean 0, variance 1); the prior
mean is 0.

Example:
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 8)[:, None]
    >>> y = np.sin(6 * X[:, 0]); y = (y - y.mean()) / y.std()
    >>> params = fit_kernel_params(X, y, np.array([False]), rng=np.random.default_rng(0))
    >>> gp = GaussianProcess(X, y, np.array([False]), params)
    >>> mean, var = gp.predict(np.array([[0.5]]))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["GaussianProcess", "KernelParams", "fit_kernel_params", "kumaraswamy", "matern52"]

_SQRT5 = math.sqrt(5.0)
MIN_NOISE = 1e-6  # lower bound of the noise variance (targets are standardized)
_JITTER = 1e-9
_LOG_LS_BOUNDS = (math.log(5e-3), math.log(50.0))
_LOG_SCALE_BOUNDS = (math.log(1e-2), math.log(20.0))
_LOG_NOISE_BOUNDS = (math.log(MIN_NOISE), math.log(1.0))
_LOG_WARP_BOUNDS = (-1.5, 1.5)  # log of the Kumaraswamy shapes a and b
_WARP_PRIOR_SD = 0.75  # normal prior on log a and log b (centered on the identity map)
_WARP_EPS = 1e-6


@dataclass(frozen=True)
class KernelParams:
    """Hyperparameters of the Matérn-5/2 ARD kernel plus Gaussian noise.

    Attributes:
        lengthscales: one per column (for categorical columns: the distance between two levels).
        scale: signal variance.
        noise: noise variance (at least ``MIN_NOISE``).
        warp: ``(d, 2)`` Kumaraswamy shapes ``(a, b)`` of each column (``(1, 1)`` is the
            identity; categorical columns must keep it), or None for no warping.
    """

    lengthscales: np.ndarray
    scale: float
    noise: float
    warp: np.ndarray | None = None

    def to_vector(self) -> np.ndarray:
        """``[log lengthscales..., log scale, log noise]`` (the optimizer's coordinates)."""
        return np.concatenate(
            [np.log(self.lengthscales), [math.log(self.scale), math.log(self.noise)]]
        )

    @classmethod
    def from_vector(cls, theta: np.ndarray) -> KernelParams:
        d = len(theta) - 2
        return cls(np.exp(theta[:d]).copy(), float(np.exp(theta[d])), float(np.exp(theta[d + 1])))

    @classmethod
    def default(cls, dim: int) -> KernelParams:
        return cls(np.full(dim, 0.5), 1.0, 1e-3)


def kumaraswamy(X: np.ndarray, warp: np.ndarray | None) -> np.ndarray:
    """Columns mapped through the Kumaraswamy CDF ``1 - (1 - x**a)**b`` (a monotone bijection of
    [0, 1] that can stretch either end: HEBO's and BoTorch's input warping)."""
    if warp is None:
        return X
    a, b = warp[:, 0], warp[:, 1]
    U = 1.0 - (1.0 - np.clip(X, 0.0, 1.0) ** a) ** b
    identity = (a == 1.0) & (b == 1.0)
    U[:, identity] = X[:, identity]
    return U


def _dkumaraswamy_dx(X: np.ndarray, warp: np.ndarray) -> np.ndarray:
    a, b = warp[:, 0], warp[:, 1]
    x = np.clip(X, _WARP_EPS, 1.0 - _WARP_EPS)
    xa = x**a
    return a * b * xa / x * (1.0 - xa) ** (b - 1.0)


def matern52(r2: np.ndarray) -> np.ndarray:
    """The Matérn-5/2 correlation as a function of the squared scaled distance."""
    r = np.sqrt(np.maximum(r2, 0.0))
    return (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * np.exp(-_SQRT5 * r)


def _dmatern52_dr2(r2: np.ndarray) -> np.ndarray:
    """d matern52 / d r2 (finite at r = 0)."""
    r = np.sqrt(np.maximum(r2, 0.0))
    return -(5.0 / 6.0) * (1.0 + _SQRT5 * r) * np.exp(-_SQRT5 * r)


def scaled_sqdist(a: np.ndarray, b: np.ndarray, inv_ls2: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Squared scaled distances between the rows of ``a`` and ``b`` (exact, one column at a time)."""
    r2 = np.zeros((a.shape[0], b.shape[0]))
    for j in range(a.shape[1]):
        diff = a[:, j, None] - b[None, :, j]
        r2 += inv_ls2[j] * ((diff != 0) if cat[j] else diff * diff)
    return r2


def _pairwise_components(X: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Per-column squared differences, shape ``(n*n, d)`` (Hamming for categorical columns)."""
    diff = X[:, None, :] - X[None, :, :]
    comp = diff * diff
    if cat.any():
        comp[:, :, cat] = (diff[:, :, cat] != 0).astype(float)
    return comp.reshape(-1, X.shape[1])


def _log_prior(theta: np.ndarray, d: int) -> tuple[float, np.ndarray]:
    """Weak priors: inverse squared length scales near 1, signal variance ~ Gamma(2, 1),
    noise variance ~ Gamma(1.1, 30) (favours small noise: most objectives are nearly deterministic)."""
    grad = np.zeros_like(theta)
    lam = np.exp(-2.0 * theta[:d])  # inverse squared length scales
    value = float(-np.sum(0.1 / lam + 0.1 * lam))
    grad[:d] = -0.2 / lam + 0.2 * lam
    s2, noise = math.exp(theta[d]), math.exp(theta[d + 1])
    value += theta[d] - s2  # (2 - 1) log s2 - s2
    grad[d] = 1.0 - s2
    value += 0.1 * theta[d + 1] - 30.0 * noise
    grad[d + 1] = 0.1 - 30.0 * noise
    return value, grad


def _neg_log_posterior(
    theta: np.ndarray, comp: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    value, grad, _ = _neg_log_posterior_core(theta, comp, y)
    return value, grad


def _neg_log_posterior_core(
    theta: np.ndarray, comp: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Negative log posterior, its gradient, and ``G = W * dK/dr2 * (-2)`` (for the warping)."""
    from scipy.linalg import cho_solve

    n, d = y.shape[0], comp.shape[1]
    w = np.exp(-2.0 * theta[:d])
    s2, noise = math.exp(theta[d]), math.exp(theta[d + 1])
    r2 = (comp @ w).reshape(n, n)
    r = np.sqrt(r2)
    e = np.exp(-_SQRT5 * r)
    corr = (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * e
    K = s2 * corr
    K[np.diag_indices(n)] += noise + _JITTER
    try:
        L = np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        return 1e25, np.zeros_like(theta), None
    alpha = cho_solve((L, True), y)
    lml = (
        -0.5 * float(y @ alpha)
        - float(np.sum(np.log(np.diag(L))))
        - 0.5 * n * math.log(2 * math.pi)
    )
    Kinv = cho_solve((L, True), np.eye(n))
    W = np.outer(alpha, alpha) - Kinv
    grad = np.empty_like(theta)
    G = W * (s2 * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e)
    grad[:d] = 0.5 * (G.ravel() @ comp) * w
    grad[d] = 0.5 * float(np.sum(W * K)) - 0.5 * (noise + _JITTER) * float(np.trace(W))
    grad[d + 1] = 0.5 * noise * float(np.trace(W))
    prior, gprior = _log_prior(theta, d)
    return -(lml + prior), -(grad + gprior), G


def _neg_log_posterior_warped(
    theta: np.ndarray, X: np.ndarray, cat: np.ndarray, cols: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """As :func:`_neg_log_posterior`, with the log Kumaraswamy shapes of the columns ``cols``
    appended to ``theta`` (``[..., log a..., log b...]``) and a normal prior on them."""
    d, k = X.shape[1], len(cols)
    base = theta[: d + 2]
    la, lb = theta[d + 2 : d + 2 + k], theta[d + 2 + k :]
    a, b = np.exp(la), np.exp(lb)
    x = np.clip(X[:, cols], _WARP_EPS, 1.0 - _WARP_EPS)
    xa = x**a
    om = 1.0 - xa
    omb = om**b
    U = X.copy()
    U[:, cols] = 1.0 - (1.0 - np.clip(X[:, cols], 0.0, 1.0) ** a) ** b
    du_dla = b * om ** (b - 1.0) * xa * np.log(x) * a  # d u / d log a
    du_dlb = -omb * np.log(om) * b  # d u / d log b
    value, gbase, G = _neg_log_posterior_core(base, _pairwise_components(U, cat), y)
    grad = np.zeros_like(theta)
    grad[: d + 2] = gbase
    if G is None:
        return value, grad
    w = np.exp(-2.0 * theta[:d])
    rows = G.sum(axis=1)
    for i, j in enumerate(cols):
        u = U[:, j]
        h = u * rows - G @ u  # sum_k G_ik (u_i - u_k)
        # d lml / d theta = -w_j * sum_i du_i * h_i; the returned gradient is of -lml
        grad[d + 2 + i] = w[j] * float(du_dla[:, i] @ h)
        grad[d + 2 + k + i] = w[j] * float(du_dlb[:, i] @ h)
    warp = theta[d + 2 :]
    value += 0.5 * float(warp @ warp) / _WARP_PRIOR_SD**2
    grad[d + 2 :] += warp / _WARP_PRIOR_SD**2
    return value, grad


def fit_kernel_params(
    X: np.ndarray,
    y: np.ndarray,
    cat: np.ndarray,
    *,
    rng: np.random.Generator,
    starts: Sequence[KernelParams] = (),
    n_random_starts: int = 1,
    maxiter: int = 200,
    warp_cols: np.ndarray | None = None,
) -> KernelParams:
    """Maximum-a-posteriori kernel hyperparameters for standardized targets ``y``.

    Args:
        X: encoded points, shape ``(n, d)``.
        y: standardized targets, shape ``(n,)``.
        cat: boolean mask of the categorical columns.
        rng: source of the random restarts.
        starts: starting points (e.g. the previous fit); when empty, the default point is used.
        n_random_starts: extra starts drawn at random (log length scales uniform in [log 0.1, log 2]).
        maxiter: L-BFGS-B iteration limit per start.
        warp_cols: columns (continuous, in [0, 1]) whose Kumaraswamy input warping is fitted
            with the other hyperparameters (every start begins at the identity map, or at the
            start's own warping).

    Returns:
        The best hyperparameters found.
    """
    from scipy.optimize import minimize

    d = X.shape[1]
    cols = np.asarray([] if warp_cols is None else warp_cols, dtype=int)
    k = len(cols)
    bounds = (
        [_LOG_LS_BOUNDS] * d + [_LOG_SCALE_BOUNDS, _LOG_NOISE_BOUNDS] + [_LOG_WARP_BOUNDS] * (2 * k)
    )
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])

    def vector(p: KernelParams) -> np.ndarray:
        v = p.to_vector()
        if not k:
            return v
        warp = np.ones((d, 2)) if p.warp is None else p.warp
        return np.concatenate([v, np.log(warp[cols, 0]), np.log(warp[cols, 1])])

    inits = [vector(p) for p in starts] or [vector(KernelParams.default(d))]
    for _ in range(n_random_starts):
        theta = vector(KernelParams.default(d))
        theta[:d] = rng.uniform(math.log(0.1), math.log(2.0), d)
        theta[d + 1] = rng.uniform(math.log(1e-5), math.log(1e-2))
        inits.append(theta)
    if k:
        fun = _neg_log_posterior_warped
        args: tuple[object, ...] = (X, cat, cols, y)
    else:
        fun = _neg_log_posterior  # type: ignore[assignment]
        args = (_pairwise_components(X, cat), y)
    best_theta, best_value = inits[0], math.inf
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        for theta0 in inits:
            theta0 = np.clip(theta0, lo, hi)
            res = minimize(
                fun,
                theta0,
                args=args,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": maxiter},
            )
            value = float(res.fun)
            if math.isfinite(value) and value < best_value:
                best_theta, best_value = np.asarray(res.x, dtype=float), value
    params = KernelParams.from_vector(best_theta[: d + 2])
    if not k:
        return params
    warp = np.ones((d, 2))
    warp[cols, 0] = np.exp(best_theta[d + 2 : d + 2 + k])
    warp[cols, 1] = np.exp(best_theta[d + 2 + k :])
    return KernelParams(params.lengthscales, params.scale, params.noise, warp)


class GaussianProcess:
    """The posterior of a zero-mean GP given noisy observations ``(X, y)``.

    Args:
        X: encoded points, shape ``(n, d)``.
        y: targets, shape ``(n,)``.
        cat: boolean mask of the categorical columns.
        params: kernel hyperparameters.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, cat: np.ndarray, params: KernelParams) -> None:
        from scipy.linalg import cho_solve

        self.X = np.asarray(X, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.cat = np.asarray(cat, dtype=bool)
        self.params = params
        self._inv_ls2 = 1.0 / params.lengthscales**2
        self._U = kumaraswamy(self.X, params.warp)
        K = self._kernel_warped(self._U, self._U)
        K[np.diag_indices_from(K)] += params.noise + _JITTER
        self.L = self._cholesky(K)
        self.alpha = cho_solve((self.L, True), self.y)

    @staticmethod
    def _cholesky(K: np.ndarray) -> np.ndarray:
        jitter = 0.0
        for _ in range(6):
            try:
                return np.linalg.cholesky(K + jitter * np.eye(K.shape[0]))
            except np.linalg.LinAlgError:
                jitter = max(1e-8, jitter * 10)
        raise np.linalg.LinAlgError("kernel matrix is not positive definite")

    def kernel(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Prior covariance between the rows of ``a`` and ``b``."""
        warp = self.params.warp
        return self._kernel_warped(kumaraswamy(a, warp), kumaraswamy(b, warp))

    def _kernel_warped(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.params.scale * matern52(scaled_sqdist(a, b, self._inv_ls2, self.cat))

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance (of the latent function, without noise) at ``Xs``."""
        from scipy.linalg import solve_triangular

        Ks = self._kernel_warped(kumaraswamy(Xs, self.params.warp), self._U)
        mean = Ks @ self.alpha
        v = solve_triangular(self.L, Ks.T, lower=True, check_finite=False)
        var = self.params.scale - np.einsum("ij,ij->j", v, v)
        return mean, np.maximum(var, 1e-12)

    def predict_with_grad(
        self, Xs: np.ndarray, cols: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, variance and their gradients with respect to the (continuous) columns ``cols``.

        Returns:
            ``mean (m,)``, ``var (m,)``, ``dmean (m, len(cols))``, ``dvar (m, len(cols))``.
        """
        from scipy.linalg import cho_solve

        warp = self.params.warp
        Us = kumaraswamy(Xs, warp)
        du = None if warp is None else _dkumaraswamy_dx(Xs, warp)
        r2 = scaled_sqdist(Us, self._U, self._inv_ls2, self.cat)
        Ks = self.params.scale * matern52(r2)
        dk_dr2 = self.params.scale * _dmatern52_dr2(r2)  # (m, n)
        mean = Ks @ self.alpha
        Kinv_ks = cho_solve((self.L, True), Ks.T, check_finite=False)  # (n, m)
        var = self.params.scale - np.einsum("nm,mn->m", Kinv_ks, Ks)
        dmean = np.empty((Xs.shape[0], len(cols)))
        dvar = np.empty_like(dmean)
        for i, j in enumerate(cols):
            dK = (
                dk_dr2 * (2.0 * self._inv_ls2[j]) * (Us[:, j, None] - self._U[None, :, j])
            )  # (m, n)
            if du is not None:
                dK *= du[:, j, None]
            dmean[:, i] = dK @ self.alpha
            dvar[:, i] = -2.0 * np.einsum("mn,nm->m", dK, Kinv_ks)
        clipped = var < 1e-12
        var = np.where(clipped, 1e-12, var)
        dvar[clipped] = 0.0
        return mean, var, dmean, dvar

    def condition(self, Xn: np.ndarray, yn: np.ndarray) -> GaussianProcess:
        """This GP with the observations ``(Xn, yn)`` added (a block update of the Cholesky factor)."""
        from scipy.linalg import cho_solve, solve_triangular

        Xn = np.atleast_2d(np.asarray(Xn, dtype=float))
        yn = np.atleast_1d(np.asarray(yn, dtype=float))
        new = object.__new__(GaussianProcess)
        new.cat, new.params, new._inv_ls2 = self.cat, self.params, self._inv_ls2
        new.X = np.vstack([self.X, Xn])
        new.y = np.concatenate([self.y, yn])
        Un = kumaraswamy(Xn, self.params.warp)
        new._U = np.vstack([self._U, Un])
        k = self._kernel_warped(self._U, Un)
        S = solve_triangular(self.L, k, lower=True, check_finite=False)
        C = self._kernel_warped(Un, Un) - S.T @ S
        C[np.diag_indices_from(C)] += self.params.noise + _JITTER
        n, p = self.L.shape[0], Xn.shape[0]
        L = np.zeros((n + p, n + p))
        L[:n, :n] = self.L
        L[n:, :n] = S.T
        L[n:, n:] = self._cholesky(C)
        new.L = L
        new.alpha = cho_solve((L, True), new.y)
        return new
