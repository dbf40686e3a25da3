"""The sampler interface: "give me n configurations, given these runs".

A sampler sees plain data only (configurations, values, statuses): never the controller, the store
or a process. The controller passes every run the sweep has created so far, pending ones included,
so a sampler can derive its state from them (that is what makes a resumed sweep continue where it
stopped).
"""

from __future__ import annotations

import abc
import json
import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypersweep._registry import Registry, unknown_note
from hypersweep._validation import check_int
from hypersweep.errors import InvalidConfigError
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.space import ParameterExpression, SearchSpace, plain_name
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

    #: HyperDrive's name of the method: the ``name`` of the stored form (``to_json``). A class that
    #: sets it is registered (see :data:`SAMPLERS`) and usable by name in a stored sweep.
    sampling_name: ClassVar[str]
    SAMPLING_NAME: ClassVar[str]
    #: The sweep file's ``sampling_algorithm.type`` (``random``, ``grid``, ``bayesian``).
    yaml_type: ClassVar[str | None] = None
    #: The ``properties`` the method accepts: the keys of its sweep file form besides ``type``.
    property_names: ClassVar[tuple[str, ...]] = ("seed",)
    #: The expression kinds it supports (None: all of them).
    supported_distributions: ClassVar[frozenset[str] | None] = None
    #: True when its suggestions are fitted to the observed values (a model of the objective):
    #: ``HyperDriveConfig`` then warns below 20 runs per parameter, and warm-start sweeps must share
    #: its search space (their runs are data for the model, not only comparison points).
    uses_observations: ClassVar[bool] = False
    #: Every method may be combined with an early-termination policy: a canceled run is an
    #: observation at its best value so far.
    supports_early_termination: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        SAMPLERS.declare(cls, "sampling_name")

    def __init__(
        self, parameter_space: Mapping[str, Any], properties: Mapping[str, Any] | None = None
    ) -> None:
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
        #: True when the caller gave no seed: each sweep it is submitted with then draws its own.
        self.seeded = seed is not None
        if seed is None:
            self.seed = secrets.randbelow(2**31)
        else:
            self.seed = check_int(seed, "properties['seed']", owner, low=0)

    def for_sweep(self) -> HyperParameterSampling:
        """The sampler one submitted sweep uses.

        With a seed, this object itself (sweeps repeat). Without one, as in HyperDrive, a copy with a
        seed drawn now, so every sweep the object is submitted with draws new configurations; the seed
        is recorded with the sweep (``to_json``), so a resumed sweep continues exactly.
        """
        if self.seeded:
            return self
        properties = {**self.properties, "seed": secrets.randbelow(2**31)}
        return type(self)(self.space.to_list(), properties=properties)

    @property
    def sampling_title(self) -> str:
        """The method's name in messages: its ``yaml_type``, capitalized (``"Bayesian"``)."""
        return (self.yaml_type or self.sampling_name).capitalize()

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
        return type(self) is type(other) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.space.to_list()!r}, properties={self.properties!r})"


SAMPLERS: Registry[type[HyperParameterSampling]] = Registry("sampling method")
"""Every sampling method defined so far, by ``sampling_name`` and by ``yaml_type``."""


def sampling_from_json(data: Mapping[str, Any]) -> HyperParameterSampling:
    """Rebuild a sampling method from its ``to_json()`` form (``{"name", "parameter_space", "properties"}``).

    Raises:
        InvalidConfigError: no sampling method of that name is defined (its module is not imported).
    """
    cls = SAMPLERS.by_name(data.get("name"))
    if cls is None:
        raise InvalidConfigError(
            f"Unknown sampling method {data.get('name')!r} in the stored sweep."
            f"{unknown_note(data.get('name'))}"
        )
    return cls(data["parameter_space"], properties=data.get("properties"))


def own_count(observations: Sequence[Observation]) -> int:
    """Number of runs this sweep has created (warm-start runs excluded)."""
    return sum(1 for o in observations if not o.prior)


def config_key(config: Mapping[str, Any]) -> str:
    """A configuration as a hashable key: names without dashes, values with their JSON types."""
    return json.dumps({plain_name(k): v for k, v in config.items()}, sort_keys=True, default=repr)


class FreshSequence:
    """A sampler's sequence of configurations with those a warm-start parent already ran left out.

    ``raw(k)`` is the sampler's k-th configuration (a pure function of its seed and k); position ``i``
    of this sequence is the i-th raw configuration that no prior run has. The positions found so far
    are kept, so each raw configuration is computed about once per sweep (and once more on resume).

    Args:
        raw: the sampler's configuration at raw index k.
        limit: how many raw indices exist (None: unlimited).
        space: the search space, when it is finite and the raw sequence repeats it without end:
            once the parents have run all of it, nothing is left.
    """

    def __init__(
        self,
        raw: Callable[[int], dict[str, Any]],
        limit: int | None = None,
        space: SearchSpace | None = None,
    ) -> None:
        self.raw, self.limit, self.space = raw, limit, space
        self._priors: frozenset[str] | None = None
        self._found: list[dict[str, Any]] = []
        self._next = 0

    def take(self, start: int, n: int, observations: Sequence[Observation]) -> list[dict[str, Any]]:
        """Positions ``start`` to ``start + n`` (fewer when the raw sequence ends)."""
        priors = frozenset(config_key(o.config) for o in observations if o.prior)
        if not priors:
            stop = start + n if self.limit is None else min(start + n, self.limit)
            return [self.raw(k) for k in range(start, stop)]
        if priors != self._priors:
            self._priors, self._found, self._next = priors, [], 0
        if self.space is not None and self.limit is None:
            ran = {
                config_key(o.config)
                for o in observations
                if o.prior and self.space.contains(o.config)
            }
            if len(ran) >= self.space.grid_size():
                return []  # the parents ran every configuration there is
        while len(self._found) < start + n and (self.limit is None or self._next < self.limit):
            config = self.raw(self._next)
            self._next += 1
            if config_key(config) not in priors:
                self._found.append(config)
        return self._found[start : start + n]
