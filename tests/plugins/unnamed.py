"""A user's sampler and policies written the shortest way: subclasses that declare no name.

They are stored under their import path (``plugins.unnamed.StopAtTwoPolicy``) and rebuilt from it,
in this process or in another one that can import this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy.base import EarlyTerminationPolicy, RunHistory
from hypersweep.sampling.base import HyperParameterSampling, Observation, own_count


class StopAtTwoPolicy(EarlyTerminationPolicy):
    """Stops every run at its second interval; answers with a plain bool, as an Optuna pruner does."""

    def evaluate(
        self,
        run_id: str,
        interval: int,
        histories: Mapping[str, RunHistory],
        goal: PrimaryMetricGoal,
    ) -> bool:  # type: ignore[override]
        return interval >= 2


class EveryThirdPolicy(EarlyTerminationPolicy):
    """A policy with settings and no ``properties`` of its own: the constructor's parameters are stored."""

    def __init__(self, every: int = 3, delay_evaluation: int = 0) -> None:
        self.every = every
        self.delay_evaluation = delay_evaluation

    def evaluate(
        self,
        run_id: str,
        interval: int,
        histories: Mapping[str, RunHistory],
        goal: PrimaryMetricGoal,
    ) -> bool:  # type: ignore[override]
        return interval % self.every == 0


class BrokenPolicy(EarlyTerminationPolicy):
    """A policy with a bug: it raises at every report."""

    def evaluate(
        self,
        run_id: str,
        interval: int,
        histories: Mapping[str, RunHistory],
        goal: PrimaryMetricGoal,
    ) -> bool:  # type: ignore[override]
        raise ZeroDivisionError("a bug in the policy")


class CountingSampling(HyperParameterSampling):
    """Configuration k sets every parameter to its k-th value in a fixed list (numbers only)."""

    def suggest(
        self, n: int, observations: Sequence[Observation], goal: PrimaryMetricGoal
    ) -> list[dict[str, Any]]:
        start = own_count(observations)
        return [{name: 0.1 * (k + 1) for name in self.space} for k in range(start, start + n)]
