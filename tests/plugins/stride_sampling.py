"""A sampling method defined outside hypersweep: every ``stride``-th draw of a seeded random stream.

Usable as ``sampling_algorithm: {type: stride, seed: 1, stride: 3}`` in a sweep file, as
``StrideParameterSampling(...)`` in ``HyperDriveConfig`` and from a stored sweep (``"name": "Stride"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hypersweep._validation import check_int
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.sampling.base import HyperParameterSampling, Observation, own_count


class StrideParameterSampling(HyperParameterSampling):
    """Configuration k is draw ``k * stride`` of the random stream seeded with ``seed``.

    Args:
        parameter_space: ``{name: expression}``.
        properties: ``{"seed": N, "stride": M}`` (stride defaults to 1).
    """

    sampling_name = "Stride"
    yaml_type = "stride"
    property_names = ("seed", "stride")

    def __init__(
        self, parameter_space: Mapping[str, Any], properties: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(parameter_space, properties)
        self.stride = check_int(
            self.properties.get("stride", 1), "properties['stride']", type(self).__name__, low=1
        )

    def suggest(
        self, n: int, observations: Sequence[Observation], goal: PrimaryMetricGoal
    ) -> list[dict[str, Any]]:
        start = own_count(observations)
        return [self.configuration(k) for k in range(start, start + n)]

    def configuration(self, k: int) -> dict[str, Any]:
        """The k-th configuration: a pure function of the seed, the stride and k."""
        return self.space.sample(np.random.default_rng([self.seed, k * self.stride]))
