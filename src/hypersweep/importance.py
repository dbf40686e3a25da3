"""Hyperparameter importance for a sweep's primary metric: functional ANOVA on a random forest.

The estimate is the one Optuna's default ``FanovaImportanceEvaluator`` makes (Hutter, Hoos and
Leyton-Brown, "An Efficient Approach for Assessing Hyperparameter Importance", ICML 2014): a random
forest (scikit-learn's ``RandomForestRegressor``, 64 trees, fixed seed) is fitted to the runs'
values, and a parameter's importance is the share of each tree's variance that the parameter's main
effect explains (its marginal prediction, every other parameter integrated out), averaged over the
trees and normalized so that the importances sum to 1.

Which runs are used: every Completed or Canceled run that logged a finite primary-metric value, with
the value the results API ranks it by (its best value, ``best_primary_metric``). A Canceled run was
mostly stopped early by the policy because its curve looked worse than others at the same interval;
the value it reached is what a user sees in every ranking, and leaving such runs out would leave only
the survivors, all from good regions of the space, and measure what varies among good configurations
alone. Failed runs and runs still going are left out. With fewer than :data:`MIN_RUNS` usable runs
there is no estimate: the result has no importances and a ``message`` that says why.

How parameters are encoded (the space's own view of them, which is also the measure the variance
is taken over):

- numeric expressions on the space's unit scale (``to_unit``): log-scaled ones on their log scale,
  normal ones by their distribution, so the variance is over the distribution the space samples;
- ``choice`` values (and a nested choice's fixed values) one-hot, each option with an equal share;
  unlike Optuna's, the integration counts only the options themselves, not the other corners of
  the one-hot cube;
- a conditional parameter (a key of only some branches of a nested choice) has an "inactive" value
  (-1 for a number, no option for a choice), weighted by the share of runs in which it is inactive.
  Its importance therefore includes whether it is active at all, which is its branch's choice.

Results are cached by the data they use (the encoded values of the usable runs): a second call on a
sweep that has not changed costs only reading its runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from hypersweep.space import Choice, ParameterExpression
from hypersweep.space_nested import flat_parameters, flat_values

__all__ = ["MIN_RUNS", "Importances", "compute_importances", "sweep_importances", "usable_runs"]

MIN_RUNS = 3
"""The fewest usable runs an estimate needs."""

N_TREES = 64
MAX_DEPTH = 64
SEED = 0
_INACTIVE = (
    -1.0
)  # a numeric column's value where its parameter is inactive (below the unit interval)
_USED_STATUSES = ("Completed", "Canceled")
_CACHE_SIZE = 64


class SupportsGetItem(Protocol):
    """A record read by column name: a store record or a mapping."""

    def __getitem__(self, key: str, /) -> Any: ...


@dataclass(frozen=True)
class Importances:
    """What :func:`compute_importances` found.

    Attributes:
        importances: ``{parameter: share}``, most important first; the shares sum to 1 (all 0 when
            the metric does not vary). Empty when there is no estimate (see ``message``).
        std: ``{parameter: standard deviation of the share across the forest's trees}``.
        n_runs: the runs the estimate used.
        counts: why the other runs were left out: ``{"failed", "unfinished", "no_metric"}``.
        message: None, or why there is no estimate or why it says little.
    """

    importances: dict[str, float]
    std: dict[str, float] = field(default_factory=dict)
    n_runs: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: ``{"importances": [{"name", "importance", "std"}], "n_runs", "counts", "message"}``."""
        return {
            "method": "fanova",
            "importances": [
                {"name": name, "importance": share, "std": self.std.get(name, 0.0)}
                for name, share in self.importances.items()
            ],
            "n_runs": self.n_runs,
            "counts": dict(self.counts),
            "message": self.message,
        }


def usable_runs(
    runs: Iterable[SupportsGetItem],
) -> tuple[list[tuple[dict[str, Any], float]], dict[str, int]]:
    """The runs an estimate uses, as ``(flat hyperparameters, value)``, and the count of each kind left out.

    Args:
        runs: rows with ``status``, ``hyperparameters`` (JSON text or a dict) and ``best_value``.
    """
    used: list[tuple[dict[str, Any], float]] = []
    counts = {"failed": 0, "unfinished": 0, "no_metric": 0}
    for row in runs:
        status = row["status"]
        if status == "Failed":
            counts["failed"] += 1
            continue
        if status not in _USED_STATUSES:
            counts["unfinished"] += 1
            continue
        value = row["best_value"]
        if value is None or not math.isfinite(float(value)):
            counts["no_metric"] += 1
            continue
        hp = row["hyperparameters"]
        used.append((flat_values(json.loads(hp) if isinstance(hp, str) else hp), float(value)))
    return used, counts


class _Column:
    """One parameter's encoding: its columns of the design matrix and the measure over them."""

    def __init__(self, name: str, expr: ParameterExpression | list[Any], values: list[Any]) -> None:
        self.name = name
        inactive = [v is _MISSING for v in values]
        self.p_inactive = sum(inactive) / len(values) if values else 0.0
        self.options: list[Any] | None = None
        if isinstance(expr, ParameterExpression) and not isinstance(expr, Choice):
            self.expr: ParameterExpression | None = expr
            self.width = 1
        else:
            self.expr = None
            self.options = list(expr.options() if isinstance(expr, Choice) else expr)
            self.width = len(self.options)

    def encode(self, value: Any) -> list[float]:
        """The row's entries for this parameter; ValueError if the value is not one of the space."""
        if self.expr is not None:
            if value is _MISSING:
                return [_INACTIVE]
            return [float(self.expr.to_unit(value))]
        row = [0.0] * self.width
        assert self.options is not None  # a column without an expression always has its options
        if value is not _MISSING:
            row[_option_index(self.options, value)] = 1.0
        return row

    def vertices(self) -> tuple[np.ndarray, np.ndarray]:
        """For a choice: each option's one-hot point and its share (the inactive point last, if any)."""
        points = list(np.eye(self.width))
        masses = [(1.0 - self.p_inactive) / self.width] * self.width
        if self.p_inactive > 0:
            points.append(np.zeros(self.width))
            masses.append(self.p_inactive)
        return np.array(points), np.array(masses)


class _Missing:
    def __repr__(self) -> str:
        return "INACTIVE"


_MISSING = _Missing()


def _option_index(options: Sequence[Any], value: Any) -> int:
    for i, option in enumerate(options):
        if type(option) is type(value) and option == value:
            return i
    for i, option in enumerate(options):
        if option == value:
            return i
    raise ValueError(f"{value!r} is not one of {list(options)!r}")


def _leaf_boxes(tree: Any, n_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each leaf's box (``lo < x <= hi`` per column, as scikit-learn splits) and its value."""
    left, right = tree.children_left, tree.children_right
    feature, threshold = tree.feature, tree.threshold
    n = tree.node_count
    lo = np.full((n, n_cols), -np.inf)
    hi = np.full((n, n_cols), np.inf)
    frontier = np.array([0])
    while frontier.size:
        inner = frontier[left[frontier] >= 0]
        if not inner.size:
            break
        lc, rc, f, t = left[inner], right[inner], feature[inner], threshold[inner]
        lo[lc], hi[lc] = lo[inner], hi[inner]
        lo[rc], hi[rc] = lo[inner], hi[inner]
        hi[lc, f] = t
        lo[rc, f] = t
        frontier = np.concatenate([lc, rc])
    leaves = np.nonzero(left < 0)[0]
    return lo[leaves], hi[leaves], tree.value[leaves].reshape(len(leaves), -1)[:, 0]


def _tree_shares(
    tree: Any, columns: list[_Column], offsets: list[int], n_cols: int
) -> np.ndarray | None:
    """Each parameter's main-effect variance over the tree's variance (None if the tree is constant)."""
    lo, hi, values = _leaf_boxes(tree, n_cols)
    n_leaves, n_params = len(values), len(columns)
    fracs = np.empty((n_leaves, n_params))
    members: list[
        Any
    ] = []  # per parameter: what a_p needs (interval indices or a membership matrix)
    for j, (col, start) in enumerate(zip(columns, offsets, strict=True)):
        if col.options is None:
            cuts = np.unique(_thresholds(tree, start))
            cuts = cuts[(cuts > 0.0) & (cuts < 1.0)]
            edges = np.concatenate([[0.0], cuts, [1.0]])
            points = np.concatenate([[_INACTIVE], 0.5 * (edges[1:] + edges[:-1])])
            masses = np.concatenate([[col.p_inactive], np.diff(edges) * (1.0 - col.p_inactive)])
            first = np.searchsorted(points, lo[:, start], side="right")
            last = np.searchsorted(points, hi[:, start], side="right")
            cum = np.concatenate([[0.0], np.cumsum(masses)])
            fracs[:, j] = cum[last] - cum[first]
            members.append(("interval", first, last, masses))
        else:
            points, masses = col.vertices()
            block = slice(start, start + col.width)
            inside = (
                (lo[:, None, block] < points[None]) & (points[None] <= hi[:, None, block])
            ).all(axis=2)
            fracs[:, j] = inside @ masses
            members.append(("points", inside, masses))
    weights = fracs.prod(axis=1)
    total = weights.sum()
    if total <= 0:
        return None
    mean = float(weights @ values / total)
    variance = float(weights @ (values - mean) ** 2 / total)
    if variance <= 1e-300 * max(1.0, mean * mean):
        return None
    shares = np.zeros(n_params)
    ones = np.ones((n_leaves, 1))
    before = np.cumprod(
        np.hstack([ones, fracs[:, :-1]]), axis=1
    )  # product of the fractions left of j
    after = np.cumprod(np.hstack([ones, fracs[:, :0:-1]]), axis=1)[:, ::-1]  # ... and right of j
    for j in range(n_params):
        contrib = values * before[:, j] * after[:, j] / total
        if members[j][0] == "interval":
            _, first, last, masses = members[j]
            size = len(masses) + 1
            diff = np.bincount(first, contrib, size) - np.bincount(last, contrib, size)
            marginal = np.cumsum(diff)[:-1]
        else:
            _, inside, masses = members[j]
            marginal = contrib @ inside
        shares[j] = max(0.0, float(masses @ (marginal - mean) ** 2)) / variance
    return shares


def _thresholds(tree: Any, column: int) -> np.ndarray:
    """The thresholds of a tree's splits on ``column``."""
    return tree.threshold[tree.feature == column]


def _too_few(what: str, n_runs: int, counts: dict[str, int]) -> Importances:
    """No importances: fewer than :data:`MIN_RUNS` runs of the kind ``what`` names."""
    return Importances(
        {},
        n_runs=n_runs,
        counts=counts,
        message=f"Importance needs at least {MIN_RUNS} {what}; this sweep has {n_runs}.",
    )


def compute_importances(
    parameter_space: Mapping[str, Any],
    runs: Sequence[tuple[Mapping[str, Any], float]],
    *,
    counts: Mapping[str, int] | None = None,
    n_trees: int = N_TREES,
    max_depth: int = MAX_DEPTH,
    seed: int = SEED,
) -> Importances:
    """The importance of each parameter of ``parameter_space`` for the values of ``runs``.

    Args:
        parameter_space: the stored search space, ``{name: expression or its list form}``.
        runs: ``(flat hyperparameters, value)`` pairs (see :func:`usable_runs`).
        counts: runs left out, passed through to the result.
        n_trees, max_depth, seed: the random forest's settings (Optuna's defaults; a fixed seed makes
            the estimate reproducible).

    Returns:
        :class:`Importances`; with fewer than :data:`MIN_RUNS` runs, none and a message.

    Example:
        >>> from hypersweep import uniform
        >>> runs = [({"x": x / 9, "y": (x * 7 % 10) / 9}, 10 * x / 9 + (x * 7 % 10) / 90) for x in range(10)]
        >>> list(compute_importances({"x": uniform(0, 1), "y": uniform(0, 1)}, runs).importances)
        ['x', 'y']
    """
    counts = dict(counts or {})
    params = flat_parameters(parameter_space)
    if not params:
        return Importances(
            {}, n_runs=len(runs), counts=counts, message="The sweep has no hyperparameters."
        )
    if len(runs) < MIN_RUNS:
        return _too_few(
            "Completed or Canceled runs that logged the primary metric", len(runs), counts
        )
    key = _key(params, runs, n_trees, max_depth, seed)
    cached = _cache_get(key)
    if cached is not None:
        skipped_before = {k: v for k, v in cached.counts.items() if k == "outside_space"}
        return Importances(
            cached.importances,
            cached.std,
            cached.n_runs,
            {**counts, **skipped_before},
            cached.message,
        )
    values = [[hp.get(name, _MISSING) for hp, _ in runs] for name, _ in params]
    columns = [_Column(name, expr, vals) for (name, expr), vals in zip(params, values, strict=True)]
    rows, ys, skipped = [], [], 0
    for i, (_, metric) in enumerate(runs):
        try:
            rows.append(
                [x for col, vals in zip(columns, values, strict=True) for x in col.encode(vals[i])]
            )
            ys.append(metric)
        except (TypeError, ValueError):  # a value this space cannot place (e.g. edited by hand)
            skipped += 1
    if skipped:
        counts["outside_space"] = skipped
    zero = {col.name: 0.0 for col in columns}
    if len(ys) < MIN_RUNS:
        return _too_few("runs whose values lie in the search space", len(ys), counts)
    X, y = np.array(rows, dtype=float), np.array(ys, dtype=float)
    if np.ptp(y) == 0:
        result = Importances(
            zero,
            dict(zero),
            len(ys),
            counts,
            "The primary metric has the same value in every run used: no parameter explains any of it.",
        )
        _cache_put(key, result)
        return result
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(
        n_estimators=n_trees,
        max_depth=max_depth,
        min_samples_split=2,
        min_samples_leaf=1,
        random_state=seed,
    )
    forest.fit(X, y)
    offsets = list(np.cumsum([0] + [c.width for c in columns])[:-1])
    per_tree = [
        s
        for s in (_tree_shares(e.tree_, columns, offsets, X.shape[1]) for e in forest.estimators_)
        if s is not None
    ]
    if not per_tree:
        result = Importances(
            zero,
            dict(zero),
            len(ys),
            counts,
            "The forest found no variation in the primary metric: no parameter explains any of it.",
        )
    else:
        shares = np.array(per_tree)
        mean: np.ndarray = shares.mean(axis=0)
        std: np.ndarray = shares.std(axis=0)
        scale = mean.sum()
        if scale > 0:
            mean, std = mean / scale, std / scale
        order = sorted(range(len(columns)), key=lambda j: (-mean[j], j))
        result = Importances(
            {columns[j].name: float(mean[j]) for j in order},
            {columns[j].name: float(std[j]) for j in order},
            len(ys),
            counts,
            None if len(ys) >= 10 else f"Only {len(ys)} runs: the estimate is rough.",
        )
    _cache_put(key, result)
    return result


def sweep_importances(sweep: SupportsGetItem, runs: Iterable[SupportsGetItem]) -> Importances:
    """The importances for a sweep's record (``config`` as stored) and its runs' records (see :func:`usable_runs`)."""
    rows = list(runs)
    # the records as stored are the key: a sweep that has not changed is not even parsed again
    digest = hashlib.sha256(repr(("sweep", sweep["config"])).encode())
    for row in rows:
        digest.update(repr((row["status"], row["hyperparameters"], row["best_value"])).encode())
    key = digest.hexdigest()
    cached = _cache_get(key)
    if cached is not None:
        return cached
    config = sweep["config"]
    config = json.loads(config) if isinstance(config, str) else config
    space = config.get("generator_config", {}).get("parameter_space", {})
    used, counts = usable_runs(rows)
    result = compute_importances(space, used, counts=counts)
    _cache_put(key, result)
    return result


_cache: OrderedDict[str, Importances] = OrderedDict()
_lock = threading.Lock()


def _key(
    params: list[tuple[str, Any]], runs: Sequence[tuple[Mapping[str, Any], float]], *settings: int
) -> str:
    """The cache key: the space, every run's values and the forest's settings (what the estimate depends on)."""
    digest = hashlib.sha256(repr((params, settings)).encode())
    for hp, y in runs:
        digest.update(repr((sorted(hp.items(), key=lambda kv: kv[0]), y)).encode())
    return digest.hexdigest()


def _cache_get(key: str) -> Importances | None:
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
        return found


def _cache_put(key: str, value: Importances) -> None:
    with _lock:
        _cache[key] = value
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
