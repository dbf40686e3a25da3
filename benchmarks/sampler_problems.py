"""Extra sampler-benchmark problems: the kinds where a GP-based sampler tends to be weak.

Loaded by the shared sampler harness through ``BENCH_EXTRA_PROBLEMS=benchmarks/sampler_problems.py``
(the harness calls :func:`extra` with its ``Problem`` class). Every problem is pure numpy, has a
known global minimum (``optimum``) and a stated argmin (``meta["argmin"]``), and uses the
harness's HyperDrive-style neutral space (``uniform``, ``loguniform`` with log-space bounds,
``quniform``, ``choice``).

Problems (budget = 20 x dim, as the harness sets it):

* ``schwefel4``: Schwefel, 4-D on [-500, 500]; deceptive, the best local minima lie far apart
  and the global one is close to the upper edge (x = 420.97).
* ``rastrigin6``: shifted Rastrigin, 6-D on [-5.12, 5.12]; ~10^6 regularly spaced local minima.
* ``shekel4``: Shekel with 10 foxholes, 4-D on [0, 10]; narrow basins on a flat plateau.
* ``griewank10``: shifted Griewank, 10-D on [-100, 100]; a wide bowl with many small ripples.
* ``face6``: rotated, ill-conditioned ellipsoid with cosine ripples whose minimum lies on a
  4-codimensional face of [0, 1]^6 (four coordinates on the bounds).
* ``styblinski8``: Styblinski-Tang, 8-D on [-5, 5]; 2^8 local minima, the global one in a
  single orthant.
* ``mixed6``: a mixed space (choice + loguniform + two quniform + loguniform + uniform) whose
  best learning rate depends on the batch size and on the category.
* ``noisy_hartmann6``: Hartmann-6 plus Gaussian noise (sd 0.05). The noise is drawn from a
  generator seeded by a hash of the configuration, so every run is deterministic; the
  noise-free value is ``meta["noise_free"](params)`` and regret on it is computed by
  ``benchmarks/sampler_extra_regret.py``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

Params = dict[str, Any]


def _vec(params: Params, n: int) -> np.ndarray:
    return np.array([float(params[f"x{i}"]) for i in range(n)])


def _box(n: int, low: float, high: float) -> dict[str, list[Any]]:
    return {f"x{i}": ["uniform", low, high] for i in range(n)}


def _point(x: list[float]) -> Params:
    return {f"x{i}": float(v) for i, v in enumerate(x)}


# --------------------------------------------------------------------------
# Multimodal functions
# --------------------------------------------------------------------------

_SCHWEFEL_X = 420.9687483919706  # 1-D argmin of -x sin(sqrt|x|)
_SCHWEFEL_F = 418.9828872724331  # minus its 1-D minimum


def schwefel(params: Params, n: int = 4) -> float:
    """Schwefel function, offset so that its minimum is 0."""
    x = _vec(params, n)
    return float(_SCHWEFEL_F * n - np.sum(x * np.sin(np.sqrt(np.abs(x)))))


_RASTRIGIN_SHIFT = np.array([1.2, -2.3, 0.7, 3.1, -1.6, 2.5])


def rastrigin(params: Params) -> float:
    """Rastrigin function shifted so that its minimum (0) is not at the box centre."""
    z = _vec(params, 6) - _RASTRIGIN_SHIFT
    return float(10.0 * len(z) + np.sum(z**2 - 10.0 * np.cos(2.0 * np.pi * z)))


_SHEKEL_A = np.array(
    [
        [4, 4, 4, 4],
        [1, 1, 1, 1],
        [8, 8, 8, 8],
        [6, 6, 6, 6],
        [3, 7, 3, 7],
        [2, 9, 2, 9],
        [5, 5, 3, 3],
        [8, 1, 8, 1],
        [6, 2, 6, 2],
        [7, 3.6, 7, 3.6],
    ],
    dtype=float,
)
_SHEKEL_C = np.array([1, 2, 2, 4, 4, 6, 3, 7, 5, 5], dtype=float) / 10.0
_SHEKEL_ARGMIN = [4.000746530253313, 4.000592936779709, 3.9996633957714787, 3.9995097993299975]
_SHEKEL_OPT = -10.536409816692045


def shekel(params: Params) -> float:
    """Shekel function with m = 10 foxholes (4-D)."""
    x = _vec(params, 4)
    return float(-np.sum(1.0 / (np.sum((x - _SHEKEL_A) ** 2, axis=1) + _SHEKEL_C)))


_GRIEWANK_SHIFT = np.array([37.0, -52.0, 14.0, 61.0, -23.0, -45.0, 8.0, 50.0, -66.0, 29.0])


def griewank(params: Params) -> float:
    """Griewank function shifted so that its minimum (0) is off centre (10-D)."""
    z = _vec(params, 10) - _GRIEWANK_SHIFT
    i = np.arange(1, len(z) + 1)
    return float(1.0 + np.sum(z**2) / 4000.0 - np.prod(np.cos(z / np.sqrt(i))))


_ST_X = -2.9035340314007785  # 1-D argmin of 0.5 (x^4 - 16 x^2 + 5 x)
_ST_F = -39.16616570377141  # its 1-D minimum


def styblinski_tang(params: Params) -> float:
    """Styblinski-Tang function (8-D)."""
    x = _vec(params, 8)
    return float(0.5 * np.sum(x**4 - 16.0 * x**2 + 5.0 * x))


# --------------------------------------------------------------------------
# Optimum on the boundary
# --------------------------------------------------------------------------

_FACE_C = np.array([1.0, 0.0, 1.0, 0.3, 0.0, 0.7])
_FACE_W = 10.0 ** np.linspace(0.0, 2.0, 6)


def _rotation(n: int) -> np.ndarray:
    """A fixed orthogonal matrix (QR of a deterministic, dense matrix)."""
    m = np.array(
        [[math.sin(1.0 + 7.0 * i + 3.0 * j + 0.5 * i * j) for j in range(n)] for i in range(n)]
    )
    q, r = np.linalg.qr(m)
    return q * np.sign(np.diag(r))


_FACE_R = _rotation(6)


def face(params: Params) -> float:
    """Rotated ellipsoid (condition 100) with cosine ripples; minimum 0 at a point on a face."""
    z = 3.0 * (_FACE_R @ (_vec(params, 6) - _FACE_C))
    return float(np.sum(_FACE_W * z**2) + np.sum(1.0 - np.cos(2.0 * np.pi * z)))


# --------------------------------------------------------------------------
# Mixed integer-categorical space
# --------------------------------------------------------------------------

# category: floor, log10 best lr at batch 128, lr width, best layers, log10 best wd, best subsample
_MIX6 = {
    "gbtree": (0.10, -2.0, 1.2, 3, -3.0, 0.6),
    "dart": (0.00, -1.3, 0.3, 6, -4.5, 0.85),
    "linear": (0.30, -3.0, 0.8, 1, -2.0, 1.0),
}


def _mix6_best_log_lr(booster: str, batch: float) -> float:
    return _MIX6[booster][1] + 0.5 * math.log10(batch / 128.0)


def mixed6(params: Params) -> float:
    """Mixed problem: the best learning rate grows with the batch size, per category."""
    floor, _, lr_w, layers_opt, wd_opt, sub_opt = _MIX6[params["booster"]]
    batch = float(params["batch"])
    lr_term = (
        (math.log10(float(params["lr"])) - _mix6_best_log_lr(params["booster"], batch)) / lr_w
    ) ** 2
    batch_term = math.log2(batch / 256.0) ** 2 / 8.0
    layers_term = 0.03 * abs(int(round(float(params["layers"]))) - layers_opt)
    wd_term = 0.05 * ((math.log10(float(params["wd"])) - wd_opt) / 1.5) ** 2
    sub_term = 1.5 * (float(params["subsample"]) - sub_opt) ** 2
    return floor + lr_term + batch_term + layers_term + wd_term + sub_term


_MIX6_ARGMIN: Params = {
    "booster": "dart",
    "lr": 10.0 ** _mix6_best_log_lr("dart", 256.0),
    "layers": 6,
    "batch": 256,
    "wd": 10.0**-4.5,
    "subsample": 0.85,
}


# --------------------------------------------------------------------------
# Noisy objective
# --------------------------------------------------------------------------

_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_ARGMIN = [0.20168952, 0.15001069, 0.47687398, 0.27533243, 0.31165162, 0.65730054]
_H6_OPT = -3.32236801141551
NOISE_SD = 0.05


def hartmann6(params: Params) -> float:
    """Hartmann-6 (noise-free)."""
    x = _vec(params, 6)
    return float(-np.sum(_H_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def config_noise(params: Params, sd: float) -> float:
    """Gaussian noise drawn from a generator seeded by a hash of the configuration.

    The harness reuses one problem object for many runs in a worker process and does not pass the
    run's seed to the objective, so a call counter would make results depend on scheduling; a
    hash of the parameter values makes every run reproducible."""
    key = json.dumps({k: repr(v) for k, v in sorted(params.items())}).encode()
    seed = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")
    return float(sd * np.random.default_rng(seed).standard_normal())


def noisy_hartmann6(params: Params) -> float:
    """Hartmann-6 plus deterministic Gaussian noise of sd :data:`NOISE_SD`."""
    return hartmann6(params) + config_noise(params, NOISE_SD)


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------


def _make(
    problem_cls: Any,
    name: str,
    space: dict[str, list[Any]],
    fn: Callable[[Params], float],
    optimum: float,
    argmin: Params,
    notes: str,
    **meta: Any,
) -> Any:
    return problem_cls(name, space, fn, optimum, notes=notes, meta={"argmin": argmin, **meta})


def extra(problem_cls: Any) -> dict[str, Any]:
    """The extra problems, built with the harness's ``Problem`` class, keyed by name."""
    problems = [
        _make(
            problem_cls,
            "schwefel4",
            _box(4, -500.0, 500.0),
            schwefel,
            0.0,
            _point([_SCHWEFEL_X] * 4),
            "Schwefel, minimum 0 at x_i = 420.97 (near the upper edge); deceptive",
        ),
        _make(
            problem_cls,
            "rastrigin6",
            _box(6, -5.12, 5.12),
            rastrigin,
            0.0,
            _point(_RASTRIGIN_SHIFT.tolist()),
            "shifted Rastrigin, minimum 0 at the shift vector; highly multimodal",
        ),
        _make(
            problem_cls,
            "shekel4",
            _box(4, 0.0, 10.0),
            shekel,
            _SHEKEL_OPT,
            _point(_SHEKEL_ARGMIN),
            "Shekel-10, minimum -10.5364 near (4, 4, 4, 4); narrow foxholes on a plateau",
        ),
        _make(
            problem_cls,
            "griewank10",
            _box(10, -100.0, 100.0),
            griewank,
            0.0,
            _point(_GRIEWANK_SHIFT.tolist()),
            "shifted Griewank 10-D, minimum 0 at the shift vector; bowl with ripples",
        ),
        _make(
            problem_cls,
            "face6",
            _box(6, 0.0, 1.0),
            face,
            0.0,
            _point(_FACE_C.tolist()),
            "rotated ill-conditioned ellipsoid + ripples, minimum 0 at (1, 0, 1, 0.3, 0, 0.7) "
            "(four coordinates on the bounds)",
        ),
        _make(
            problem_cls,
            "styblinski8",
            _box(8, -5.0, 5.0),
            styblinski_tang,
            8 * _ST_F,
            _point([_ST_X] * 8),
            "Styblinski-Tang 8-D, minimum -313.33 at x_i = -2.9035; 2^8 local minima",
        ),
        _make(
            problem_cls,
            "mixed6",
            {
                "booster": ["choice", ["gbtree", "dart", "linear"]],
                "lr": ["loguniform", math.log(1e-4), math.log(1.0)],
                "layers": ["quniform", 1, 8, 1],
                "batch": ["quniform", 16, 512, 16],
                "wd": ["loguniform", math.log(1e-6), math.log(1e-1)],
                "subsample": ["uniform", 0.3, 1.0],
            },
            mixed6,
            0.0,
            _MIX6_ARGMIN,
            "mixed space; minimum 0 at booster=dart, batch=256, lr=0.0709 (best lr grows with "
            "batch), layers=6, wd=3.2e-5, subsample=0.85; 'gbtree' is a wide basin with floor 0.1",
        ),
        _make(
            problem_cls,
            "noisy_hartmann6",
            _box(6, 0.0, 1.0),
            noisy_hartmann6,
            _H6_OPT,
            _point(_H6_ARGMIN),
            f"Hartmann-6 + N(0, {NOISE_SD}^2) noise seeded by the configuration; regret on the "
            "noise-free value at the best observed configuration",
            noise_free=hartmann6,
            noise_sd=NOISE_SD,
        ),
    ]
    return {p.name: p for p in problems}


NAMES = (
    "schwefel4",
    "rastrigin6",
    "shekel4",
    "griewank10",
    "face6",
    "styblinski8",
    "mixed6",
    "noisy_hartmann6",
)
"""The problems :func:`extra` defines, in table order."""
