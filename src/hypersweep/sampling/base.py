"""The sampler interface: "give me n configurations, given these runs".

A sampler sees plain data only (configurations, values, statuses): never the controller, the store
or a process. The controller passes every run the sweep has created so far, pending ones included,
so a sampler can derive its state from them (that is what makes a resumed sweep continue where it
stopped).
"""

from __future__ import annotations

import abc
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypersweep._validation import check_int
from hypersweep.errors import InvalidConfigError
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.space import ParameterExpression, SearchSpace
from hypersweep.status import RunStatus


@dataclass(frozen=True)
class Observation:
    """One run as a sampler sees it.

    Attributes:
        config: the sampled values, keyed by the search space's names.
        value: the run's best primary-metric value so far (NaN when it logged none).
        status: the run's status; Queued or Running means the run is pending.
        history: every primary-metric value the run logged, in order.
        prior: True for runs of an earlier sweep (warm start); they are evidence, not suggestions.
    """

    config: Mapping[str, Any]
    value: float = math.nan
    status: RunStatus = RunStatus.COMPLETED
    history: Sequence[float] = field(default_factory=tuple)
    prior: bool = False

    @property
    def is_pending(self) -> bool:
        return not self.status.is_terminal


class HyperParameterSampling(abc.ABC):
    """Base class of the sampling methods.

    Args:
        parameter_space: ``{name: expression}``, e.g. ``{"--lr": loguniform(-6, -1)}``.
        properties: method options; all methods accept ``{"seed": int}``.
    """

    sampling_name: ClassVar[str]
    supported_distributions: ClassVar[frozenset[str] | None] = None

    def __init__(self, parameter_space: Mapping[str, Any], properties: Mapping[str, Any] | None = None) -> None:
        owner = type(self).__name__
        if properties is not None and not isinstance(properties, Mapping):
            raise InvalidConfigError(
                f"The 'properties' parameter of {owner} must be a dict such as {{'seed': 42}}. "
                f"Got {properties!r} instead."
            )
        self.properties: dict[str, Any] = dict(properties or {})
        self.space = SearchSpace(parameter_space, owner=owner)
        allowed = self.supported_distributions
        if allowed is not None:
            for name, expr in self.space.items():
                if expr.kind not in allowed:
                    raise InvalidConfigError(
                        f"{owner} supports only {', '.join(sorted(allowed))} expressions; "
                        f"parameter {name!r} is {expr!r}."
                    )
        seed = self.properties.get("seed")
        if seed is None:
            self.seed = secrets.randbelow(2**31)
        else:
            self.seed = check_int(seed, "properties['seed']", owner, low=0)

    @property
    def parameter_space(self) -> dict[str, ParameterExpression]:
        return dict(self.space)

    @abc.abstractmethod
    def suggest(
        self, n: int, observations: Sequence[Observation], goal: PrimaryMetricGoal
    ) -> list[dict[str, Any]]:
        """Return up to ``n`` new configurations (fewer when the space is exhausted).

        Args:
            n: how many configurations are wanted now.
            observations: every run of this sweep so far (pending ones included) and the prior
                runs of warm-start sweeps.
            goal: whether larger or smaller primary-metric values are better.
        """

    def max_configurations(self) -> int | None:
        """How many configurations the method can produce, or None for unlimited."""
        return None

    def to_json(self) -> dict[str, Any]:
        """HyperDrive's ``generator_config``: ``{"name", "parameter_space"[, "properties"]}``."""
        data: dict[str, Any] = {"name": self.sampling_name, "parameter_space": self.space.to_list()}
        properties = {**self.properties, "seed": self.seed}
        data["properties"] = properties
        return data

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_json() == other.to_json()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.space.to_list()!r}, properties={self.properties!r})"


def own_count(observations: Sequence[Observation]) -> int:
    """Number of runs this sweep has created (warm-start runs excluded)."""
    return sum(1 for o in observations if not o.prior)
