"""Random sampling: independent draws (seeded), scrambled Sobol points, no repeats on finite spaces."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hypersweep.errors import InvalidConfigError
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.sampling.base import FreshSequence, HyperParameterSampling, Observation, own_count
from hypersweep.sampling.grid import grid_config
from hypersweep.space_nested import UnitView


class RandomParameterSampling(HyperParameterSampling):
    """Random search over any expressions.

    Args:
        parameter_space: ``{name: expression}``.
        properties: ``{"seed": N}`` makes the sweep reproducible; ``{"rule": "sobol"}`` draws a
            scrambled Sobol sequence (quasi-random: more even coverage of the space). On a space of
            only ``choice`` expressions, no configuration repeats until every one has been tried.

    Example:
        >>> from hypersweep import RandomParameterSampling, choice, loguniform
        >>> s = RandomParameterSampling({"--lr": loguniform(-6, -1), "--bs": choice(16, 32)},
        ...                             properties={"seed": 1})
    """

    sampling_name = "RANDOM"
    yaml_type = "random"
    property_names = ("seed", "rule", "logbase")  # logbase: Azure ML v2's, accepted and unused

    def __init__(
        self, parameter_space: Mapping[str, Any], properties: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(parameter_space, properties)
        rule = str(self.properties.get("rule", "random")).lower()
        if rule not in ("random", "sobol"):
            raise InvalidConfigError(
                "The 'rule' property of RandomParameterSampling must be 'random' or 'sobol'. "
                f"Got {self.properties.get('rule')!r} instead."
            )
        self.rule = rule
        self._view = UnitView(
            self.space
        )  # one Sobol coordinate per dimension, nested choices included
        unknown = set(self.properties) - set(self.property_names)
        if unknown:
            raise InvalidConfigError(
                "RandomParameterSampling accepts the properties 'seed' and 'rule'. "
                f"Got {sorted(unknown)[0]!r} instead."
            )
        self._fresh = FreshSequence(
            self.configuration, space=self.space if self.space.is_finite else None
        )

    def suggest(
        self, n: int, observations: Sequence[Observation], goal: PrimaryMetricGoal
    ) -> list[dict[str, Any]]:
        start = own_count(observations)
        if any(o.prior for o in observations):  # warm start: leave out what the parents ran
            return self._fresh.take(start, n, observations)
        if self.rule == "sobol" and not self.space.is_finite and n > 0:
            return [self._view.from_unit(point) for point in self._sobol(start, n)]
        return [self.configuration(k) for k in range(start, start + n)]

    def _sobol(self, start: int, n: int) -> np.ndarray:
        from scipy.stats import qmc

        engine = qmc.Sobol(d=len(self._view.columns), scramble=True, seed=self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's balance warning for non-power-of-2 draws
            if start:
                engine.fast_forward(start)
            return engine.random(n)

    def configuration(self, k: int) -> dict[str, Any]:
        """The k-th configuration of this sampler (0-based): a pure function of the seed and k."""
        space = self.space
        if space.is_finite:
            size = space.grid_size()
            cycle, pos = divmod(k, size)
            perm = np.random.default_rng([self.seed, cycle, 1]).permutation(size)
            return grid_config(space, int(perm[pos]))
        if self.rule == "sobol":
            return self._view.from_unit(self._sobol(k, 1)[0])
        return space.sample(np.random.default_rng([self.seed, k]))
