"""Robust successive halving: ASHA that stops a run only when it is behind beyond noise and trend.

Plain ASHA ranks runs by one number at each rung and stops everything below the top 1/eta. On
learning curves it was never tuned on, that kills late bloomers: a run whose accuracy wobbles by a
point from epoch to epoch, or that is still climbing fast, is judged on one noisy, early reading.
``RobustAshaPolicy`` keeps ASHA's rungs and its cutoff but judges each run by an optimistic bound:

    bound = best + noise_factor * noise + trend_factor * gain

where ``best`` is the run's best value up to the rung, ``noise`` its own epoch-to-epoch noise and
``gain`` how much its best improved since the previous rung. A run stops only when even that bound
is below the cutoff, i.e. when it is behind by more than its noise and its recent progress explain.

Two settings, measured on the shared replay benchmark (recorded scikit-learn MLP learning curves,
the four public tasks plus held-out tasks made by the same generator; figures and commands in
``benchmarks/results/early_stop.md``):

* ``RobustAshaPolicy()``, "recommended", is ``RobustAshaPolicy(reduction_factor=4,
  min_interval=2, noise_factor=0.5, noise_window=3)``. It saves about 82% of the compute, against
  75% for Optuna's HyperbandPruner. Its mean regret is lower than Hyperband's, or both are zero,
  on every task but one held-out task: there it loses 0.25 pp, against Hyperband's 0.13.
* ``RobustAshaPolicy(reduction_factor=3, min_interval=1, noise_factor=0.25)``, "aggressive",
  saves about 87%, with lower mean regret than Optuna's SuccessiveHalvingPruner (89% saved) on
  every task where that pruner loses anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hypersweep._validation import check_int, check_number, invalid
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy._common import fmt
from hypersweep.policy._index import BEST, HistoryIndex
from hypersweep.policy._rungs import RungSchedule
from hypersweep.policy.base import CONTINUE, Decision, EarlyTerminationPolicy, RunHistory

_OWNER = "RobustAshaPolicy"


class RobustAshaPolicy(RungSchedule, EarlyTerminationPolicy):
    """Successive halving that stops a run only when it is confidently outside the top 1/eta.

    Rungs lie at intervals ``min_interval * reduction_factor**i`` (i = 0, 1, ...) below
    ``max_interval``. When run R reaches rung r, let the population be every run that has reached
    r (running, finished, canceled, warm-start priors) and, for each, ``best(r)``: its best value
    over intervals 1..r. With n runs in the population and ``keep = max(1, n // reduction_factor)``,
    the cutoff is the keep-th best ``best(r)``. R stops when n >= ``min_runs`` and

        best_R(r) + noise_factor * noise_R(r) + trend_factor * gain_R(r)  <  cutoff

    (in the goal's direction: for a minimized metric, "best" is the lowest value and the bound is
    subtracted), where

    * ``noise_R(r)`` is the mean absolute difference between consecutive values of R over its last
      ``noise_window`` values up to r (NaNs skipped; 0 with fewer than two values), and
    * ``gain_R(r) = best_R(r) - best_R(r // reduction_factor)``: the improvement of R's best since
      the previous rung (0 at the first rung, or when ``r // reduction_factor`` is 0).

    With ``noise_factor = trend_factor = 0`` this is ASHA ranking by the best value so far
    (``AshaPolicy(compare="best")``). The decision is a pure function of the histories (no
    promotion state), costs O(log runs + noise_window), and is the same at any concurrency.

    With ``brackets=b > 1`` (asynchronous Hyperband), each run is assigned a bracket s in
    ``[0, b)`` from a hash of its id; bracket s starts its rungs at ``min_interval *
    reduction_factor**s`` and ranks runs only against runs of the same bracket.

    Args:
        reduction_factor: eta, an integer >= 2; at most 1/eta of a rung's runs are sure to go on.
        min_interval: the first rung (grace period), an integer >= 1.
        max_interval: the length of a full run if known (no rung at or beyond it); optional.
        brackets: the number of Hyperband brackets, an integer >= 1.
        noise_factor: how many times its own epoch-to-epoch noise a run may be behind, >= 0.
        trend_factor: how many times its gain since the previous rung a run may be behind, >= 0.
        noise_window: how many latest values the noise estimate uses, an integer >= 2.
        min_runs: stop nobody at a rung until this many runs have reached it, an integer >= 1.

    Raises:
        InvalidConfigError: an argument is out of range or of the wrong type.

    Example:
        >>> from hypersweep.goal import PrimaryMetricGoal
        >>> from hypersweep.policy import RobustAshaPolicy, RunHistory
        >>> policy = RobustAshaPolicy(reduction_factor=2, min_interval=2)
        >>> runs = {"a": RunHistory("a", [0.80, 0.90]), "b": RunHistory("b", [0.30, 0.31])}
        >>> policy.evaluate("b", 2, runs, PrimaryMetricGoal.MAXIMIZE).stop
        True
    """

    policy_name = "RobustAsha"
    yaml_type = "robust_asha"

    def __init__(
        self,
        reduction_factor: int = 4,
        min_interval: int = 2,
        max_interval: int | None = None,
        brackets: int = 1,
        *,
        noise_factor: float = 0.5,
        trend_factor: float = 0.0,
        noise_window: int = 3,
        min_runs: int = 1,
    ) -> None:
        self._init_rungs(_OWNER, reduction_factor, min_interval, max_interval, brackets, min_runs)
        self._noise_factor = _check_factor(noise_factor, "noise_factor")
        self._trend_factor = _check_factor(trend_factor, "trend_factor")
        self._noise_window = check_int(noise_window, "noise_window", _OWNER, low=2)
        self._index = HistoryIndex((BEST,), group_of=self._group_of())

    @property
    def noise_factor(self) -> float:
        """Multiples of a run's own epoch-to-epoch noise it may be behind the cutoff."""
        return self._noise_factor

    @property
    def trend_factor(self) -> float:
        """Multiples of a run's gain since the previous rung it may be behind the cutoff."""
        return self._trend_factor

    @property
    def noise_window(self) -> int:
        """How many latest values the noise estimate uses."""
        return self._noise_window

    def properties(self) -> dict[str, Any]:
        """The settings, in the shape of HyperDrive's policy properties."""
        return {
            **self._rung_properties(),
            "noise_factor": self._noise_factor,
            "trend_factor": self._trend_factor,
            "noise_window": self._noise_window,
            "min_runs": self._min_runs,
        }

    def _noise(self, values: list[float], interval: int) -> float:
        """Mean absolute difference of consecutive non-NaN values among the last window ones."""
        window = [v for v in values[max(0, interval - self._noise_window) : interval] if v == v]
        if len(window) < 2:
            return 0.0
        steps = (abs(window[i] - window[i - 1]) for i in range(1, len(window)))
        return sum(steps) / (len(window) - 1)

    def evaluate(
        self,
        run_id: str,
        interval: int,
        histories: Mapping[str, RunHistory],
        goal: PrimaryMetricGoal,
    ) -> Decision:
        """Stop ``run_id`` at a rung when its optimistic bound is below the rung's cutoff."""
        ranked = self._rung_population(run_id, interval, histories, goal, BEST)
        if ranked is None:
            return CONTINUE
        index, n = self._index, len(ranked)
        keep = max(1, n // self._eta)
        cutoff = ranked[n - keep]
        best = index.best(run_id, interval)
        if not best < cutoff:
            return CONTINUE
        previous = interval // self._eta
        gain = 0.0
        if previous >= 1:
            earlier = index.best(run_id, previous)
            if earlier == earlier:
                gain = best - earlier
        noise = self._noise(histories[run_id].values, interval)
        bound = best + self._noise_factor * noise + self._trend_factor * gain
        if not bound < cutoff:
            return CONTINUE
        sign = index.sign
        return Decision(
            True,
            f"RobustASHA: best {fmt(sign * best)} at rung {interval} (noise {fmt(noise)}, gain "
            f"{fmt(gain)}, bound {fmt(sign * bound)}) is behind the cutoff {fmt(sign * cutoff)} of "
            f"the top {keep} of {n} (1/{self._eta})",
        )


def _check_factor(value: Any, param: str) -> float:
    number = check_number(value, param, _OWNER)
    if number < 0 or not math.isfinite(number):
        raise invalid(param, _OWNER, "a finite number >= 0", value)
    return number
