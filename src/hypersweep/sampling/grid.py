"""Grid sampling: every combination of the ``choice`` values, once, in odometer order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypersweep.errors import InvalidConfigError
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.sampling.base import FreshSequence, HyperParameterSampling, Observation, own_count
from hypersweep.space import Choice, SearchSpace


def grid_config(space: SearchSpace, index: int) -> dict[str, Any]:
    """The configuration at ``index`` of the odometer enumeration (last parameter fastest)."""
    config: dict[str, Any] = {}
    for name in reversed(list(space)):
        values = space[name].options()  # type: ignore[attr-defined]
        index, pos = divmod(index, len(values))
        config[name] = values[pos]
    return {name: config[name] for name in space}


class GridParameterSampling(HyperParameterSampling):
    """Every combination of the ``choice`` expressions, once each.

    The sweep ends when the grid is exhausted, even below ``max_total_runs``.

    Example:
        >>> from hypersweep import GridParameterSampling, choice
        >>> g = GridParameterSampling({"--lr": choice(0.01, 0.1), "--n": choice(10, 100)})
        >>> g.max_configurations()
        4
    """

    sampling_name = "GRID"
    yaml_type = "grid"

    def __init__(
        self, parameter_space: Mapping[str, Any], properties: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(parameter_space, properties)
        for name, expr in self.space.items():
            if not isinstance(expr, Choice) or not expr.enumerable:
                raise InvalidConfigError(
                    "GridParameterSampling supports only choice expressions (a grid needs a finite "
                    f"list of values); parameter {name!r} is {expr!r}. Use choice(...) or "
                    "RandomParameterSampling."
                )
        self._fresh = FreshSequence(
            lambda k: grid_config(self.space, k), limit=self.space.grid_size()
        )

    def max_configurations(self) -> int:
        return self.space.grid_size()

    def suggest(
        self, n: int, observations: Sequence[Observation], goal: PrimaryMetricGoal
    ) -> list[dict[str, Any]]:
        # a warm-started sweep leaves out the grid points its parents ran
        return self._fresh.take(own_count(observations), n, observations)
