"""Bayesian sampling: a Gaussian process with log expected improvement.

How it works (numpy and scipy only):

* **Encoding.** Each parameter is one column. Numeric expressions use the search space's unit
  maps (log scale for the log expressions, the normal CDF for the normal family; quantized values
  are suggested on their grid and modelled at their exact grid position). A ``choice`` of strings
  is categorical: its column holds the level index and the kernel sees a Hamming distance. A
  ``choice`` of numbers is ordinal: the values are sorted and encoded by rank, so
  ``choice(16, 32, 64, 128)`` or ``choice(1e-4, 1e-3, 1e-2)`` become evenly spaced (the usual
  intent of such lists) and the model can learn a trend across them.
* **Model.** A zero-mean GP with a Matérn-5/2 ARD kernel (:mod:`hypersweep.sampling._gp`). The
  hyperparameters are fitted by maximum a posteriori (L-BFGS-B, random restarts; weak priors
  on the length scales, signal and noise variances). Values become losses with the goal's sign
  (so the model always minimizes); losses above the median are compressed logarithmically (a
  diverged run cannot squash the others together), a Yeo-Johnson transform with ``lambda >= 1``
  keeps a few outstanding runs from making the model over-confident, and the result is
  standardized. Last, the targets are shifted so that their 0.9 quantile is 0
  (``_PRIOR_MEAN_QUANTILE``): the prior mean is a pessimistic value, so the model predicts an
  unexplored region to be poor rather than average. On multimodal problems the average observed
  loss is better than most of the space, and with a zero prior mean at the average, expected
  improvement kept drawing picks to unexplored box corners; the shift made Levy-4 3.3x, Branin
  5x and Shekel-4 6x better at batch 1 (10 seeds; the benchmark's design notes give every
  problem). Failed runs, and completed runs without a value, are imputed with the worst
  observed loss; canceled runs without a value carry no information and are left out of the
  model (but their configurations are never suggested again).
* **Initial design.** The first ``n_initial_points`` configurations (default ``d + 1`` for ``d``
  parameters, at least 5 and at most 10) come from a scrambled Sobol sequence seeded with the
  sampler's seed; the benchmark preferred this to 10 points. Warm-start (prior) runs are used as
  data exactly like this sweep's own runs, and each one that has been seen (not pending) counts
  toward the initial design, so a sweep warm-started from enough runs is model-based at once.
* **Repeat guard.** When each of the last two configurations lies within 0.003 (distance in the
  encoded unit cube, a changed category counting 1) of an earlier one, the model is refining one
  point; if the acquisition's best pick would be one more such repeat, the best-scored candidate
  at least 0.1 from every data point is taken instead (``_REPEAT_RADIUS``, ``_REPEAT_STREAK``,
  ``_AWAY_RADIUS``). On the benchmark this removed the one Branin seed in ten that stalled on the
  box edge (mean regret 0.155 -> 4.1e-4), made Hartmann-3 1.2x better and changed no other
  synthetic problem by more than 2 % (batch 1 and 4); it cost 1.6x on the boundary-optimum
  problem ``face6`` and 1.08x on the real task ``hgb_cancer`` (one seed).
* **Measured options, off by default** (the benchmark's design notes in
  ``benchmarks/results/samplers.md`` give the figures). Each is a module switch, and each keeps
  suggestions a pure function of the seed and the observations:

  - *input warping* (``_WARP``, as in HEBO and BoTorch): every non-categorical column goes
    through a Kumaraswamy CDF ``1 - (1 - u**a)**b`` before the kernel sees it, its two shapes per
    column fitted with the kernel hyperparameters (same MAP fit, analytic gradients, a normal
    prior on ``log a`` and ``log b`` centred on the identity map);
  - *an acquisition portfolio when progress stalls* (``_STALL_MIN``, after HEBO's MACE): once the
    best loss is ``max(_STALL_MIN, d)`` data points old, the scored candidates are compared by
    log EI, log probability of improvement and the lower confidence bound ``mean - 2 sd``, and one
    point of their Pareto front is drawn with the call's seeded generator;
  - *box-edge candidates* (``_N_EDGE``): extra candidates with coordinates pushed onto the faces,
    edges and corners of the box.

  Warping plus the portfolio removed the Branin boundary stall and helped Levy-4 and Ackley-5, but
  cost precision on Hartmann-3, Rosenbrock-4 and Mixed-5, so none is on yet.
* **Concurrency.** Pending runs (Queued, Running) and the configurations already picked in the
  same call are added to the GP as "kriging believer" fantasies (their value is the posterior
  mean), which removes their uncertainty so the next pick goes elsewhere. With the pessimistic
  prior mean the neighbours of a fantasy near the optimum stay attractive, so a pick also keeps
  ``_BATCH_RADIUS = 0.005`` (unit cube) from the pending and already-picked points when any
  candidate does (without it, four picks on a quadratic could land within 1e-5 of each other). A configuration that
  already exists (pending, finished, or from a prior sweep) is never suggested again; on a
  finite space that has been fully tried, fewer (or no) configurations are returned.
* **Early termination.** A canceled run that logged values is an observation at its best value so
  far. For a training curve that still improves, that value is pessimistic, which agrees with the
  policy's verdict that the region is poor, so Bayesian sampling can be combined with an early
  termination policy (``supports_early_termination = True``).
* **Reproducibility.** Suggestions are a pure function of the seed and of the observations
  passed in (in their order): the fitted hyperparameters are cached only as a speed-up (a full
  multi-start fit at geometric checkpoints of the data size, computed on that prefix of the data,
  and a warm-started local refit in between), so a resumed sweep with a new sampler object
  continues exactly as the original would have.
* **Speed.** Hyperparameters are fitted on at most 250 points (the best half plus a random
  half) and the posterior uses at most 600, so one suggestion stays well under a second even
  with 1000 observations (``benchmarks/bayes_latency.py``).

HyperDrive restricts Bayesian sampling to ``choice``, ``uniform`` and ``quniform``; hypersweep
supports all ten expressions. HyperDrive's checks on ``choice`` values are kept: every value must
be an int, a float or a string (booleans and dicts are rejected) and the values are either all
strings or none.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from hypersweep.errors import InvalidConfigError
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.sampling._acquisition import AcquisitionProblem, optimize_log_ei, pareto_pick
from hypersweep.sampling._gp import (
    GaussianProcess,
    KernelParams,
    fit_kernel_params,
    scaled_sqdist,
)
from hypersweep.sampling.base import HyperParameterSampling, Observation, own_count
from hypersweep.space import Choice, ParameterExpression, Randint, Uniform
from hypersweep.space_nested import INACTIVE, UnitView
from hypersweep.status import RunStatus

__all__ = ["BayesianParameterSampling"]

logger = logging.getLogger(__name__)

_ENUM_LIMIT = 4096  # discrete spaces up to this size are scored exhaustively
_FIT_CAP = 250  # points used to fit the kernel hyperparameters (best half + a random half)
_MODEL_CAP = 600  # points in the posterior used by the acquisition function
_FULL_FIT_EVERY = 20  # below this many points every fit is a full multi-start fit
_CHECKPOINT_GROWTH = 1.2
_N_CENTERS = 5
_PRIOR_MEAN_QUANTILE = 0.9  # targets are shifted so that this quantile of them is 0
# Options measured on the benchmark, off (design notes in benchmarks/results/samplers.md):
_WARP = False  # fit a Kumaraswamy input warping of the non-categorical columns with the GP
_N_EDGE = 0  # extra acquisition candidates on the faces, edges and corners of the box
_STALL_MIN: int | None = None  # when set: draw from the acquisition portfolio once the best
_STALL_PER_DIM = 1  # loss is max(_STALL_MIN, _STALL_PER_DIM * d) data points old
# The repeat guard (on; the module docstring describes it):
_REPEAT_RADIUS: float | None = 0.003
_BATCH_RADIUS = 0.005  # a pick keeps this distance from pending runs and its batch-mates
_REPEAT_STREAK = 2
_AWAY_RADIUS = 0.1


def _rounds_since_best(loss: np.ndarray) -> int:
    """How many data points came after the best (finite) loss; 0 without one."""
    finite = np.isfinite(loss)
    if not finite.any():
        return 0
    return int(len(loss) - 1 - np.argmin(np.where(finite, loss, np.inf)))


def _checkpoint(n: int) -> int:
    """The largest data size <= n at which the hyperparameters get a full multi-start fit."""
    if n <= _FULL_FIT_EVERY:
        return n
    m = _FULL_FIT_EVERY
    while int(m * _CHECKPOINT_GROWTH) <= n:
        m = int(m * _CHECKPOINT_GROWTH)
    return m


class _Column:
    """How one parameter is encoded: ``cont`` (unit map), ``ord`` (rank) or ``cat`` (index)."""

    def __init__(self, name: str, expr: ParameterExpression) -> None:
        self.name = name
        self.expr = expr
        self.levels: list[Any] = []
        if isinstance(expr, Choice):
            seen: list[Any] = []
            for v in expr.values:
                if not any(type(v) is type(s) and v == s for s in seen):
                    seen.append(v)
            if all(isinstance(v, str) for v in seen):
                self.kind = "cat"
                self.levels = seen
            else:
                self.kind = "ord"
                self.levels = sorted(seen, key=float)
        else:
            self.kind = "cont"
        self.discrete = self.kind != "cont" or expr.is_discrete

    # -- single values ----------------------------------------------------------------------

    def _level(self, value: Any) -> int:
        for i, level in enumerate(self.levels):
            if type(level) is type(value) and level == value:
                return i
        for i, level in enumerate(self.levels):
            if level == value:
                return i
        raise ValueError(f"{value!r} is not one of {self.levels!r}")

    def encode(self, value: Any) -> float:
        if value is INACTIVE:  # a nested choice's branch that is not the chosen one: a fixed value
            return 0.0 if self.kind == "cat" else 0.5
        if self.kind == "cat":
            return float(self._level(value))
        if self.kind == "ord":
            n = len(self.levels)
            return 0.5 if n == 1 else self._level(value) / (n - 1)
        return float(self.expr.to_unit(value))

    def decode(self, u: float) -> Any:
        if self.kind == "cat":
            return self.levels[int(np.clip(round(u), 0, len(self.levels) - 1))]
        if self.kind == "ord":
            n = len(self.levels)
            return self.levels[0 if n == 1 else int(np.clip(round(u * (n - 1)), 0, n - 1))]
        return self.expr.from_unit([u])[0]

    # -- columns ---------------------------------------------------------------------------

    def snap(self, u: np.ndarray) -> np.ndarray:
        """The nearest representable encodings of a column of values."""
        if self.kind == "cat":
            return np.clip(np.round(u), 0, len(self.levels) - 1)
        if self.kind == "ord":
            n = len(self.levels)
            return (
                np.full_like(u, 0.5) if n == 1 else np.round(np.clip(u, 0, 1) * (n - 1)) / (n - 1)
            )
        if not self.discrete:
            return u
        return np.array([self.expr.to_unit(v) for v in self.expr.from_unit(u)], dtype=float)

    def grid(self) -> np.ndarray | None:
        """Every encoded value of a finite column (None when too many or infinite)."""
        if self.kind == "cat":
            return np.arange(len(self.levels), dtype=float)
        if self.kind == "ord":
            return self.snap(np.linspace(0, 1, len(self.levels)))
        expr = self.expr
        if isinstance(expr, Randint):
            if expr.upper > _ENUM_LIMIT:
                return None
            values: list[Any] = list(range(expr.upper))
        elif isinstance(expr, Uniform) and expr.q is not None:
            lo, hi = expr.bounds
            k_lo, k_hi = round(lo / expr.q), round(hi / expr.q)
            if k_hi - k_lo + 1 > _ENUM_LIMIT:
                return None
            values = expr.from_unit([expr.to_unit(k * expr.q) for k in range(k_lo, k_hi + 1)])
        else:
            return None
        return np.unique([expr.to_unit(v) for v in values])


def _check_choice_values(name: str, expr: Choice, owner: str) -> None:
    for value in expr.values:
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
            raise InvalidConfigError(
                f"The 'choice' values of parameter {name!r} of {owner} must be int, float or str "
                f"(bool, dict and other types are not supported by Bayesian sampling). "
                f"Got {value!r} ({type(value).__name__}) instead."
            )
    n_str = sum(isinstance(v, str) for v in expr.values)
    if 0 < n_str < len(expr.values):
        raise InvalidConfigError(
            "Either all or none of the 'choice' values should be 'str' type. "
            f"Parameter {name!r} of {owner} has {expr!r}."
        )


class BayesianParameterSampling(HyperParameterSampling):
    """Bayesian optimization with a Gaussian process and log expected improvement.

    Supports every parameter expression (HyperDrive allowed only ``choice``, ``uniform`` and
    ``quniform``); see the module docstring for the model, the encoding and how pending,
    failed, canceled and warm-start runs are used.

    Args:
        parameter_space: ``{name: expression}``.
        properties: ``{"seed": N}`` makes the sweep reproducible; ``{"n_initial_points": N}``
            sets the size of the initial Sobol design (default ``max(5, d + 1)`` for ``d``
            parameters, capped at 10).

    Raises:
        InvalidConfigError: a ``choice`` has values other than int, float or str, or mixes
            strings with numbers; or a property is unknown or invalid.

    Example:
        >>> from hypersweep import BayesianParameterSampling, choice, uniform
        >>> from hypersweep.goal import PrimaryMetricGoal
        >>> s = BayesianParameterSampling({"--x": uniform(-1, 1), "--act": choice("relu", "tanh")},
        ...                               properties={"seed": 0})
        >>> configs = s.suggest(2, [], PrimaryMetricGoal.MINIMIZE)
        >>> len(configs)
        2
    """

    sampling_name = "BayesianOptimization"
    yaml_type = "bayesian"
    property_names = ("seed", "n_initial_points")
    uses_observations: ClassVar[bool] = True

    def __init__(
        self, parameter_space: Mapping[str, Any], properties: Mapping[str, Any] | None = None
    ) -> None:
        owner = type(self).__name__
        if parameter_space is None:
            raise InvalidConfigError(
                f"The 'parameter_space' parameter of {owner} must be a non-empty dict of "
                "name -> expression. Got None instead."
            )
        super().__init__(parameter_space, properties)
        unknown = set(self.properties) - {"seed", "n_initial_points"}
        if unknown:
            raise InvalidConfigError(
                f"{owner} accepts the properties 'seed' and 'n_initial_points'. "
                f"Got {sorted(unknown)[0]!r} instead."
            )
        # A nested choice is its branch index (a categorical column) plus one column per expression of
        # every branch; a branch's columns sit at a fixed value where another branch is chosen.
        self._view = UnitView(self.space)
        for name, expr in self._view.columns.items():
            if isinstance(expr, Choice):
                _check_choice_values(name, expr, owner)
        d = len(self.space)
        n_init = self.properties.get("n_initial_points")
        if n_init is None:
            self.n_initial_points = min(10, max(5, d + 1))
        else:
            if isinstance(n_init, bool) or not isinstance(n_init, numbers.Integral) or n_init < 1:
                raise InvalidConfigError(
                    f"The 'n_initial_points' property of {owner} must be a positive integer. "
                    f"Got {n_init!r} instead."
                )
            self.n_initial_points = int(n_init)
        self._columns = [_Column(name, expr) for name, expr in self._view.columns.items()]
        self._cat = np.array([c.kind == "cat" for c in self._columns])
        self._problem = AcquisitionProblem(
            cont=np.flatnonzero(~self._cat),
            cat_levels={j: len(c.levels) for j, c in enumerate(self._columns) if c.kind == "cat"},
            snap=self._snap,
        )
        self._encoded: dict[tuple[Any, ...], np.ndarray] = {}  # memo of _encode (a pure function)
        self._grid = self._enumerate()
        self._grid_keys = [] if self._grid is None else [self._key(r) for r in self._grid]
        self._fit_cache: dict[bytes, KernelParams] = {}

    # -- encoding ------------------------------------------------------------------------------

    def _encode(self, config: Mapping[str, Any]) -> np.ndarray | None:
        try:
            config = self._view.flatten(config)
        except (KeyError, ValueError, TypeError):
            return None
        try:
            values = tuple((type(config[c.name]), config[c.name]) for c in self._columns)
            row = self._encoded.get(values)
        except (KeyError, TypeError):  # a missing name, or an unhashable value
            return None
        if row is None:
            try:
                row = np.array(
                    [c.encode(v) for c, (_, v) in zip(self._columns, values, strict=True)]
                )
            except (ValueError, TypeError):
                return None
            if len(self._encoded) < 100_000:
                self._encoded[values] = row
        return row.copy()

    def _decode(self, row: np.ndarray) -> dict[str, Any]:
        return self._view.unflatten(
            {c.name: c.decode(float(u)) for c, u in zip(self._columns, row, strict=True)}
        )

    def _snap(self, X: np.ndarray) -> np.ndarray:
        X = X.copy()
        for j, c in enumerate(self._columns):
            if c.discrete:
                X[:, j] = c.snap(X[:, j])
        return X

    @staticmethod
    def _key(row: np.ndarray) -> tuple[float, ...]:
        return tuple(float(f"{u:.10g}") for u in row)

    def _enumerate(self) -> np.ndarray | None:
        grids = []
        size = 1
        for c in self._columns:
            g = c.grid()
            if g is None:
                return None
            size *= len(g)
            if size > _ENUM_LIMIT:
                return None
            grids.append(g)
        rows = np.array(list(itertools.product(*grids)), dtype=float)
        if len(self._columns) == len(self.space):
            return rows
        # With nested choices many rows differ only in inactive columns: keep one encoding of each configuration.
        unique: dict[tuple[float, ...], np.ndarray] = {}
        for row in rows:
            exact = self._encode(self._decode(row))
            if exact is not None:
                unique.setdefault(self._key(exact), exact)
        return np.array(list(unique.values()), dtype=float).reshape(-1, len(self._columns))

    def max_configurations(self) -> int | None:
        """The number of distinct configurations of a finite space (None when infinite or huge)."""
        return None if self._grid is None else len(self._grid)

    # -- suggestions ---------------------------------------------------------------------------

    def suggest(
        self, n: int, observations: Sequence[Observation], goal: PrimaryMetricGoal
    ) -> list[dict[str, Any]]:
        """Return up to ``n`` new, distinct configurations (fewer when a finite space is exhausted).

        Args:
            n: how many configurations are wanted now.
            observations: every run of this sweep so far (pending ones included) and the runs of
                warm-start sweeps (``prior=True``).
            goal: whether larger or smaller primary-metric values are better.
        """
        if n <= 0:
            return []
        goal = PrimaryMetricGoal.from_str(goal)
        X, loss, pending, taken, n_prior, history = self._collect(observations, goal)
        design = max(0, self.n_initial_points - n_prior)
        start = own_count(observations)
        n_finite = int(np.sum(np.isfinite(loss)))
        stalled = _STALL_MIN is not None and _rounds_since_best(loss) >= max(
            _STALL_MIN, _STALL_PER_DIM * len(self._columns)
        )
        out: list[dict[str, Any]] = []
        model: _Model | None = None
        for i in range(n):
            rng = np.random.default_rng([self.seed, len(observations), i, 17])
            if start + i < design or n_finite < 2:
                row = self._design_point(start + i, taken, rng)
            else:
                if model is None:  # design points picked in this call are pending too
                    picked = [x for x in (self._encode(c) for c in out) if x is not None]
                    model = self._model(X, loss, np.vstack([pending, *picked]))
                row = self._model_point(
                    model, taken, rng, portfolio=stalled, away=_repeat_streak(history, self._cat)
                )
            if row is None:
                break
            history = np.vstack([history, row[None, :]])
            taken.add(self._key(row))
            out.append(self._decode(row))
            if model is not None:
                model.believe(row)
        return out

    def _collect(
        self, observations: Sequence[Observation], goal: PrimaryMetricGoal
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, set[tuple[float, ...]], int, np.ndarray]:
        """Encoded data (losses, NaN = impute), pending points, the keys of every configuration,
        the number of data points that come from warm-start runs, and every encodable
        configuration in the order given (pending and canceled ones included)."""
        rows, losses, pending, history = [], [], [], []
        n_prior = 0
        taken: set[tuple[float, ...]] = set()
        for obs in observations:
            x = self._encode(obs.config)
            if x is None:
                logger.debug("ignoring an observation outside the search space: %r", obs.config)
                continue
            taken.add(self._key(x))
            history.append(x)
            if obs.is_pending:
                pending.append(x)
                continue
            try:
                value = float(obs.value)
            except (TypeError, ValueError):
                value = math.nan
            if math.isfinite(value):
                losses.append(-goal.sign * value)
            elif obs.status is RunStatus.CANCELED:
                continue  # stopped before reporting anything: no evidence either way
            else:
                losses.append(math.nan)  # failed or no metric: imputed with the worst loss
            rows.append(x)
            n_prior += obs.prior
        d = len(self._columns)
        return (
            np.array(rows, dtype=float).reshape(-1, d),
            np.array(losses, dtype=float),
            np.array(pending, dtype=float).reshape(-1, d),
            taken,
            n_prior,
            np.array(history, dtype=float).reshape(-1, d),
        )

    def _design_point(
        self, k: int, taken: set[tuple[float, ...]], rng: np.random.Generator
    ) -> np.ndarray | None:
        """Point k of the scrambled Sobol design, or a random unused point if it already exists."""
        from scipy.stats import qmc

        engine = qmc.Sobol(d=len(self._columns), scramble=True, seed=self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # balance warning for non-power-of-2 draws
            if k:
                engine.fast_forward(k)
            u = engine.random(1)[0]
        row = self._encode(self._view.from_unit(u))
        if row is not None and self._key(row) not in taken:
            return row
        return self._random_unused(taken, rng)

    def _random_unused(
        self, taken: set[tuple[float, ...]], rng: np.random.Generator
    ) -> np.ndarray | None:
        if self._grid is not None:
            free = [r for r, k in zip(self._grid, self._grid_keys, strict=True) if k not in taken]
            return free[int(rng.integers(len(free)))] if free else None
        for _ in range(100):
            row = self._encode(self.space.sample(rng))
            if row is not None and self._key(row) not in taken:
                return row
        return None

    def _model(self, X: np.ndarray, loss: np.ndarray, pending: np.ndarray) -> _Model:
        params = self._kernel_params(X, loss)
        y = _targets(loss)
        keep = _subset(y, _MODEL_CAP, np.random.default_rng([self.seed, len(y), 3]))
        gp = GaussianProcess(X[keep], y[keep], self._cat, params)
        if len(pending):
            gp = gp.condition(pending, gp.predict(pending)[0])
        order = np.argsort(y[keep], kind="stable")[:_N_CENTERS]
        return _Model(gp, X[keep][order], pending)

    def _kernel_params(self, X: np.ndarray, loss: np.ndarray) -> KernelParams:
        """Hyperparameters: a full fit at the checkpoint below len(loss), then a local refit."""
        n = len(loss)
        m = _checkpoint(n)
        key = hashlib.sha1(X[:m].tobytes() + loss[:m].tobytes() + bytes([m % 256])).digest()
        base = self._fit_cache.get(key)
        if base is None:
            base = self._fit(X[:m], loss[:m], starts=(), n_random=2)
            self._fit_cache = {key: base}
        if m == n:
            return base
        return self._fit(X, loss, starts=(base,), n_random=0)

    def _fit(
        self, X: np.ndarray, loss: np.ndarray, *, starts: Sequence[KernelParams], n_random: int
    ) -> KernelParams:
        rng = np.random.default_rng([self.seed, len(loss), 5])
        y = _targets(loss)
        keep = _subset(y, _FIT_CAP, rng)
        return fit_kernel_params(
            X[keep],
            y[keep],
            self._cat,
            rng=rng,
            starts=starts,
            n_random_starts=n_random,
            warp_cols=np.flatnonzero(~self._cat) if _WARP else None,
        )

    def _model_point(
        self,
        model: _Model,
        taken: set[tuple[float, ...]],
        rng: np.random.Generator,
        *,
        portfolio: bool = False,
        away: bool = False,
    ) -> np.ndarray | None:
        candidates = None
        if self._grid is not None:
            free = [k not in taken for k in self._grid_keys]
            candidates = self._grid[np.array(free, dtype=bool)]
            if not len(candidates):
                return None
        n_data = len(model.gp.y)
        scale = 1 if n_data <= 300 else 2
        points, _ = optimize_log_ei(
            model.gp,
            model.best,
            self._problem,
            rng,
            centers=model.centers,
            n_random=1024 // scale,
            n_local=1024 // scale,
            candidates=candidates,
            n_edge=_N_EDGE // scale,
        )
        if portfolio:
            points = pareto_pick(model.gp, model.best, points, rng)
        if away and len(points) and _REPEAT_RADIUS is not None:
            data = model.gp.X  # the modelled data and the fantasized pending points
            if _nearest(points[:1], data, self._cat)[0] < _REPEAT_RADIUS:
                far = _nearest(points, data, self._cat) >= _AWAY_RADIUS
                points = np.vstack([points[far], points[~far]])  # stable: best first in each
        if len(model.fantasies) and len(points):
            far = _nearest(points, model.fantasies, self._cat) >= _BATCH_RADIUS
            points = np.vstack([points[far], points[~far]])  # stable: best first in each
        for row in points:
            exact = self._encode(self._decode(row))
            if exact is not None and self._key(exact) not in taken:
                return exact
        return self._random_unused(taken, rng)


class _Model:
    """The fantasized posterior of one ``suggest`` call."""

    def __init__(self, gp: GaussianProcess, centers: np.ndarray, fantasies: np.ndarray) -> None:
        self.gp = gp
        self.centers = centers
        self.fantasies = fantasies  # pending runs and this call's picks, encoded
        self.best = float(np.min(gp.y))

    def believe(self, row: np.ndarray) -> None:
        """Kriging believer: pretend ``row`` was observed at the posterior mean."""
        mean = self.gp.predict(row[None, :])[0]
        self.gp = self.gp.condition(row[None, :], mean)
        self.best = min(self.best, float(mean[0]))
        self.fantasies = np.vstack([self.fantasies, row[None, :]])


def _nearest(points: np.ndarray, data: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Distance from each encoded point to its nearest data point (Euclidean over the encoded
    columns, a changed category counting as 1)."""
    if not len(data):
        return np.full(len(points), np.inf)
    r2 = scaled_sqdist(points, data, np.ones(points.shape[1]), cat)
    return np.sqrt(np.min(r2, axis=1))


def _repeat_streak(history: np.ndarray, cat: np.ndarray) -> bool:
    """Whether each of the last ``_REPEAT_STREAK`` configurations repeats an earlier one.

    "Repeats" means: lies within ``_REPEAT_RADIUS`` of some configuration before it. A streak of
    them is the sign of a model that keeps refining one point (on Branin, a local minimum on the
    box edge at x0 = 10, 1.5 above the global one 0.04 away).
    """
    if _REPEAT_RADIUS is None or len(history) <= _REPEAT_STREAK:
        return False
    n = len(history)
    return all(
        _nearest(history[k : k + 1], history[:k], cat)[0] < _REPEAT_RADIUS
        for k in range(n - _REPEAT_STREAK, n)
    )


def _targets(loss: np.ndarray) -> np.ndarray:
    """Losses -> model targets; NaN (failed runs) imputed with the worst target.

    The bad tail is compressed (:func:`_compress_tail`), then a Yeo-Johnson power transform
    with ``lambda >= 1`` (:func:`_flatten_good_tail`) is applied, each step followed by
    standardization. Last, the targets are shifted so that their ``_PRIOR_MEAN_QUANTILE``
    quantile is 0: the GP's zero prior mean then stands for a *poor* loss (better than only one
    observation in ten), not the average one, so a region far from every observation is
    predicted to be poor and expected improvement stops chasing unexplored box corners on
    multimodal problems, where the average observation is better than most of the space.
    """
    finite = np.isfinite(loss)
    z = np.zeros_like(loss)
    f = loss[finite]
    if len(f) >= 2 and np.ptp(f) > 0:
        f = _standardize(_compress_tail(f))
        if len(f) >= 3:
            f = _standardize(_flatten_good_tail(f))
        f = f - float(np.quantile(f, _PRIOR_MEAN_QUANTILE))
    else:
        f = np.zeros_like(f)
    z[finite] = f
    z[~finite] = f.max() if len(f) else 0.0
    return z


def _standardize(f: np.ndarray) -> np.ndarray:
    sd = float(f.std())
    return (f - f.mean()) / (sd if sd > 0 else 1.0)


def _compress_tail(f: np.ndarray) -> np.ndarray:
    """Keep losses below the median as they are; above it, grow only logarithmically.

    The scale is a robust spread (the median absolute deviation x 1.4826, which is sigma for
    normal data), so one diverged run (loss 1e6) cannot squeeze all the other losses together,
    while the region that matters for minimization (the good half) keeps its resolution.
    """
    med = float(np.median(f))
    scale = 1.4826 * float(np.median(np.abs(f - med)))
    if not scale > 0:
        scale = float(np.std(f)) or 1.0
    out = f.copy()
    above = f > med
    out[above] = med + scale * np.log1p((f[above] - med) / scale)
    return out


def _flatten_good_tail(f: np.ndarray) -> np.ndarray:
    """Yeo-Johnson transform with its maximum-likelihood lambda, but never below 1.

    ``lambda > 1`` pulls in a long tail of very good (low) losses, so a few outstanding runs do
    not make the model over-confident around them (more exploration: the benchmark's Hartmann-6
    and Ackley need it). ``lambda < 1`` would stretch that tail instead; on Branin that made
    the model extrapolate a dip through the edge of the box and stall there, so it is refused.
    """
    from scipy.stats import yeojohnson, yeojohnson_normmax

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # overflow warnings while searching for lambda
        try:
            lam = max(float(yeojohnson_normmax(f)), 1.0)
            out = np.asarray(yeojohnson(f, lmbda=lam), dtype=float)
        except (ValueError, FloatingPointError, ArithmeticError):
            return f
    return out if np.all(np.isfinite(out)) and np.ptp(out) > 0 else f


def _subset(y: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``cap`` points: the best half and a random sample of the rest."""
    n = len(y)
    if n <= cap:
        return np.arange(n)
    order = np.argsort(y, kind="stable")
    best = order[: cap // 2]
    rest = rng.choice(order[cap // 2 :], size=cap - cap // 2, replace=False)
    return np.sort(np.concatenate([best, rest]))
