"""Log expected improvement and its optimization over a mixed (continuous + categorical) box.

``log EI`` is computed in a numerically stable way for very unlikely improvements (the
formulation of Ament et al., 2023, "Unexpected Improvements to Expected Improvement"), so the
optimizer keeps a useful gradient far from the incumbent.

The optimizer scores many candidates (random points of the whole box plus Gaussian perturbations
of the best observed points), refines the best few of each kind with one batched L-BFGS-B run
over the continuous columns (categorical columns held fixed), tries every level of each categorical column
at the refined points, and returns every scored point sorted best first, so the caller can skip
configurations that already exist.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hypersweep.sampling._gp import GaussianProcess

__all__ = ["AcquisitionProblem", "log_ei", "log_h", "optimize_log_ei", "pareto_pick"]

_LOG_2PI_HALF = 0.5 * math.log(2 * math.pi)
_LOG_PI_2_HALF = 0.5 * math.log(math.pi / 2)
_INV_SQRT_EPS = 1.0 / math.sqrt(np.finfo(float).eps)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x < 0, accurate near 0 and for very negative x."""
    return np.where(
        x > -math.log(2), np.log(-np.expm1(np.minimum(x, -1e-300))), np.log1p(-np.exp(x))
    )


def log_h(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z * Phi(z)), the log of the standardized expected improvement, for any z."""
    from scipy.special import erfcx, ndtr

    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    big = z > -1.0
    zb = z[big]
    out[big] = np.log(np.exp(-0.5 * zb * zb) / math.sqrt(2 * math.pi) + zb * ndtr(zb))
    mid = ~big & (z > -_INV_SQRT_EPS)
    zm = z[mid]
    out[mid] = (
        -0.5 * zm * zm
        - _LOG_2PI_HALF
        + _log1mexp(np.log(erfcx(-zm / math.sqrt(2)) * np.abs(zm)) + _LOG_PI_2_HALF)
    )
    small = ~big & ~mid
    zs = z[small]
    out[small] = -0.5 * zs * zs - _LOG_2PI_HALF - 2.0 * np.log(np.abs(zs))
    return out


def log_ei(
    mean: np.ndarray, var: np.ndarray, best: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log expected improvement below ``best`` (minimization).

    Returns:
        ``log EI``, and its derivatives with respect to the mean and to the variance.
    """
    from scipy.special import log_ndtr

    sd = np.sqrt(var)
    z = (best - mean) / sd
    lh = log_h(z)
    dlh_dz = np.exp(log_ndtr(z) - lh)  # h'(z) = Phi(z)
    value = np.log(sd) + lh
    d_mean = -dlh_dz / sd
    d_var = (0.5 - 0.5 * dlh_dz * z) / var
    return value, d_mean, d_var


@dataclass
class AcquisitionProblem:
    """What the optimizer needs to know about the encoded box.

    Attributes:
        cont: indices of the continuous columns (in [0, 1]; quantized ones included, relaxed).
        cat_levels: ``{column: number of levels}`` for the categorical columns.
        snap: maps encoded rows to the nearest representable rows (quantization, ordinal choices).
    """

    cont: np.ndarray
    cat_levels: dict[int, int]
    snap: Callable[[np.ndarray], np.ndarray]


def _random_points(
    problem: AcquisitionProblem, dim: int, n: int, rng: np.random.Generator
) -> np.ndarray:
    X = rng.random((n, dim))
    for j, levels in problem.cat_levels.items():
        X[:, j] = rng.integers(levels, size=n)
    return X


def _local_points(
    problem: AcquisitionProblem, centers: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Gaussian perturbations (three scales) of ``centers``; categorical values resampled rarely."""
    idx = rng.integers(len(centers), size=n)
    X = centers[idx].copy()
    scales = np.array([0.01, 0.05, 0.2])[rng.integers(3, size=n)]
    if len(problem.cont):
        X[:, problem.cont] += rng.normal(size=(n, len(problem.cont))) * scales[:, None]
        X[:, problem.cont] = np.clip(X[:, problem.cont], 0.0, 1.0)
    for j, levels in problem.cat_levels.items():
        flip = rng.random(n) < 0.15
        X[flip, j] = rng.integers(levels, size=int(flip.sum()))
    return X


def _edge_points(
    problem: AcquisitionProblem, centers: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Points on the faces, edges and corners of the box: continuous coordinates of random points
    and of the centers pushed onto a bound (each with probability 1/2 and at least one).

    Uniform sampling almost never proposes a point exactly on a face, where optima of
    hyperparameter problems often sit (a learning rate at its bound, no regularization)."""
    cont = problem.cont
    dim = centers.shape[1] if len(centers) else 0
    if not len(cont) or not len(centers) or n <= 0:
        return np.empty((0, dim))
    half = n // 2
    X = np.vstack(
        [
            _random_points(problem, dim, n - half, rng),
            centers[rng.integers(len(centers), size=half)],
        ]
    )
    push = rng.random((n, len(cont))) < 0.5
    push[np.arange(n), rng.integers(len(cont), size=n)] = True
    sub = X[:, cont]
    bound = np.where(rng.random((n, len(cont))) < 0.5, 0.0, 1.0)
    # the centers' coordinates go to their nearer bound, the random points' to either
    near = np.where(sub < 0.5, 0.0, 1.0)
    bound[n - half :] = near[n - half :]
    sub = np.where(push, bound, sub)
    X[:, cont] = sub
    return X


def optimize_log_ei(
    gp: GaussianProcess,
    best: float,
    problem: AcquisitionProblem,
    rng: np.random.Generator,
    *,
    centers: np.ndarray,
    n_random: int = 1024,
    n_local: int = 1024,
    n_starts: int = 6,
    maxiter: int = 60,
    candidates: np.ndarray | None = None,
    n_edge: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Score points by log EI and return them best first.

    Args:
        gp: the (possibly fantasized) posterior.
        best: the incumbent (smallest target so far).
        problem: the column layout.
        rng: source of the random candidates.
        centers: encoded points around which to search locally (the best observations).
        n_random, n_local: candidate counts (global and local).
        n_starts: how many candidates L-BFGS-B refines: the best half of the global ones and the
            best half of the local ones.
        maxiter: L-BFGS-B iteration limit.
        candidates: a fixed candidate set (a fully enumerated finite space): scored as is, no
            refinement.
        n_edge: extra candidates on the faces, edges and corners of the box (counted with the
            global ones when choosing which to refine).

    Returns:
        ``(points, scores)`` sorted by decreasing log EI (snapped to representable values).
    """
    if candidates is not None:
        mean, var = gp.predict(candidates)
        scores = log_ei(mean, var, best)[0]
        order = np.argsort(-scores, kind="stable")
        return candidates[order], scores[order]
    dim = gp.X.shape[1]
    parts = [_random_points(problem, dim, n_random, rng)]
    if n_edge:
        edge = _edge_points(problem, centers, n_edge, rng)
        parts[0] = np.vstack([parts[0], edge])
        n_random += len(edge)
    if n_local and len(centers):
        parts.append(_local_points(problem, centers, n_local, rng))
    X = problem.snap(np.vstack(parts))
    mean, var = gp.predict(X)
    scores = log_ei(mean, var, best)[0]
    if len(parts) == 2:
        # refine the best global and the best local candidates alike, so a distant basin with a
        # high acquisition value is refined even when the incumbent's neighbourhood dominates
        half = n_starts // 2
        g = np.argsort(-scores[:n_random], kind="stable")[:half]
        loc = n_random + np.argsort(-scores[n_random:], kind="stable")[: n_starts - half]
        top = np.concatenate([g, loc])
    else:
        top = np.argsort(-scores, kind="stable")[:n_starts]
    refined = X[top].copy()
    if len(problem.cont) and maxiter > 0:
        refined = _refine(gp, best, problem, refined, maxiter)
    # every level of every categorical column at the refined points
    variants = [refined]
    for j, levels in problem.cat_levels.items():
        for level in range(levels):
            v = refined.copy()
            v[:, j] = level
            variants.append(v)
    extra = problem.snap(np.vstack(variants))
    mean, var = gp.predict(extra)
    extra_scores = log_ei(mean, var, best)[0]
    X = np.vstack([extra, X])
    scores = np.concatenate([extra_scores, scores])
    order = np.argsort(-scores, kind="stable")
    return X[order], scores[order]


def _refine(
    gp: GaussianProcess, best: float, problem: AcquisitionProblem, starts: np.ndarray, maxiter: int
) -> np.ndarray:
    """One L-BFGS-B run over the continuous columns of all starts at once (their sum is separable)."""
    from scipy.optimize import minimize

    cont = problem.cont
    k, c = starts.shape[0], len(cont)
    base = starts.copy()

    def fun(flat: np.ndarray) -> tuple[float, np.ndarray]:
        Xs = base.copy()
        Xs[:, cont] = flat.reshape(k, c)
        mean, var, dmean, dvar = gp.predict_with_grad(Xs, cont)
        value, d_mean, d_var = log_ei(mean, var, best)
        grad = d_mean[:, None] * dmean + d_var[:, None] * dvar
        return -float(np.sum(value)), -grad.ravel()

    x0 = base[:, cont].ravel()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = minimize(
            fun,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, 1.0)] * (k * c),
            options={"maxiter": maxiter},
        )
    out = base.copy()
    x = np.asarray(res.x, dtype=float)
    if np.all(np.isfinite(x)):
        out[:, cont] = np.clip(x.reshape(k, c), 0.0, 1.0)
    return out


def pareto_pick(
    gp: GaussianProcess,
    best: float,
    points: np.ndarray,
    rng: np.random.Generator,
    *,
    beta: float = 2.0,
    pool: int = 512,
) -> np.ndarray:
    """The points in the order to try them when one of an ensemble of acquisitions is chosen.

    As in HEBO's MACE: ``points`` (sorted by log EI) are scored by log EI, log probability of
    improvement and the lower confidence bound ``mean - beta * sd`` (which favours uncertain
    regions); one point of their Pareto front (no point is better on all three) is drawn with
    ``rng``, and the other points follow in their log EI order. Only the best ``pool`` points by
    log EI are compared, plus a sample of as many others, so the draw stays cheap.
    """
    from scipy.special import log_ndtr

    n = len(points)
    if n <= 1:
        return points
    idx = np.arange(min(n, pool))
    if n > pool:
        idx = np.concatenate(
            [idx, np.sort(rng.choice(np.arange(pool, n), size=min(pool, n - pool), replace=False))]
        )
    mean, var = gp.predict(points[idx])
    sd = np.sqrt(var)
    obj = np.column_stack(
        [log_ei(mean, var, best)[0], log_ndtr((best - mean) / sd), -(mean - beta * sd)]
    )  # larger is better in every column
    front = _pareto_front(obj)
    pick = int(idx[front[int(rng.integers(len(front)))]])
    order = np.concatenate([[pick], np.delete(np.arange(n), pick)])
    return points[order]


def _pareto_front(obj: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``obj`` that no other row dominates (maximization)."""
    keep = np.ones(len(obj), dtype=bool)
    for i in range(len(obj)):
        if not keep[i]:
            continue
        dominated = np.all(obj <= obj[i], axis=1) & np.any(obj < obj[i], axis=1)
        keep &= ~dominated
    return np.flatnonzero(keep)
