"""The early-termination interface: "which of these runs stops now, and why".

A policy is a pure decision object. It sees plain data (each run's primary-metric history and
status), never the controller, the store or a process, so every executor shares it and tests need
no processes.
"""

from __future__ import annotations

import abc
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypersweep._registry import Registry, constructor_keys
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.status import RunStatus


@dataclass
class RunHistory:
    """One run's primary-metric history as a policy sees it.

    Attributes:
        run_id: the run's id.
        values: every value the run logged for the primary metric; ``values[k - 1]`` is interval k.
            NaN values may occur.
        status: the run's status (Running for runs still reporting).
        prior: True for runs of a warm-start sweep (comparison points only, never stopped).
    """

    run_id: str
    values: list[float] = field(default_factory=list)
    status: RunStatus = RunStatus.RUNNING
    prior: bool = False


@dataclass(frozen=True)
class Decision:
    """What a policy decided for one report: stop or not, and why (shown to the user)."""

    stop: bool
    reason: str = ""


CONTINUE = Decision(False)

#: Every run of a sweep and of its warm-start sweeps, by run id.
Histories = Mapping[str, RunHistory]


class EarlyTerminationPolicy(abc.ABC):
    """Base class of the early-termination policies.

    The controller calls :meth:`evaluate` each time a run logs its primary metric at an interval
    that :meth:`should_evaluate` selects. A subclass that sets ``policy_name`` is registered
    (:data:`POLICIES`): the stored sweep names it so, and the sweep file's ``early_termination.type``
    is its ``yaml_type`` (or one of its ``yaml_aliases``), with its constructor's keyword parameters
    as the other keys. :meth:`properties` must return keyword arguments of the constructor. A
    subclass defined outside the package that sets no name is registered under its import path
    (``module.Class``; see CONTRIBUTING.md).
    """

    #: HyperDrive's name of the policy: the ``name`` of the stored form (``to_json``).
    policy_name: ClassVar[str]
    POLICY_NAME: ClassVar[str]
    #: The sweep file's ``early_termination.type`` (``bandit``, ``median_stopping``, ...).
    yaml_type: ClassVar[str | None] = None
    #: Other spellings of ``yaml_type`` the sweep file accepts.
    yaml_aliases: ClassVar[tuple[str, ...]] = ()
    evaluation_interval: int = 1
    delay_evaluation: int = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        POLICIES.declare(cls, "policy_name")

    def should_evaluate(self, interval: int) -> bool:
        """True when interval k is selected: ``k % evaluation_interval == 0 and k >= delay_evaluation``."""
        return interval % self.evaluation_interval == 0 and interval >= self.delay_evaluation

    def evaluate(
        self,
        run_id: str,
        interval: int,
        histories: Histories,
        goal: PrimaryMetricGoal,
    ) -> Decision:
        """Decide whether ``run_id``, which just logged its ``interval``-th value, stops now.

        Only a run with a real value at ``interval`` is judged (see :func:`judged_value`): its
        decision is :meth:`decide`'s, and every other report continues. A policy implements
        :meth:`decide`; one that must see every report may override this method instead.

        Args:
            run_id: the reporting run; ``histories[run_id].values`` has ``interval`` values.
            interval: the 1-based interval just reported.
            histories: every run of the sweep (and of warm-start sweeps), finished or not.
            goal: whether larger or smaller values are better.
        """
        if judged_value(run_id, interval, histories) is None:
            return CONTINUE
        return self.decide(run_id, interval, histories, goal)

    def decide(
        self, run_id: str, interval: int, histories: Histories, goal: PrimaryMetricGoal
    ) -> Decision:
        """The policy's rule, for a reporting run that has a real value at ``interval``.

        The arguments are :meth:`evaluate`'s; ``histories[run_id].values[interval - 1]`` is a
        number (not NaN) and ``run_id`` is not a warm-start prior.
        """
        raise NotImplementedError(f"{type(self).__name__} implements neither decide nor evaluate")

    def properties(self) -> dict[str, Any]:
        """The policy's settings, as HyperDrive serializes them: the constructor's arguments.

        By default, each keyword parameter of the constructor in its order, read from the
        attribute of the same name; a policy whose settings are stored otherwise overrides this.
        """
        keys, _ = constructor_keys(type(self))
        missing = [key for key in keys if not hasattr(self, key)]
        if missing:
            raise TypeError(
                f"{type(self).__name__} keeps its constructor's parameter {missing[0]!r} under another "
                f"name: store it as self.{missing[0]}, or define properties() (see CONTRIBUTING.md)."
            )
        return {key: getattr(self, key) for key in keys}

    def to_json(self) -> dict[str, Any]:
        """``{"name": ..., "properties": {...}}`` (HyperDrive's ``policy_config``)."""
        props = self.properties()
        return (
            {"name": self.policy_name, "properties": props} if props else {"name": self.policy_name}
        )

    def to_data(self) -> dict[str, Any]:
        """The sweep file's ``early_termination`` mapping of this policy: ``{"type": yaml_type, **properties()}``.

        ``policy_from_data`` reads it back into an equal policy.
        """
        return {"type": self.yaml_type, **self.properties()}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.properties().items())
        return f"{type(self).__name__}({args})"


POLICIES: Registry[type[EarlyTerminationPolicy]] = Registry("early-termination policy")
"""Every policy defined so far, by ``policy_name`` and by ``yaml_type``."""


def values_at(history: RunHistory, interval: int) -> Sequence[float]:
    """The run's values for intervals 1..interval (fewer if it has not reached it)."""
    return history.values[:interval]


def judged_value(run_id: str, interval: int, histories: Histories) -> float | None:
    """The reporting run's value at ``interval``, or None when no rule may judge it there.

    None when the run is unknown, is a warm-start prior (comparison point only), has not reached
    ``interval``, or logged NaN at it (a NaN never drives a decision).
    """
    history = histories.get(run_id)
    if history is None or history.prior:
        return None
    if isinstance(interval, bool) or not isinstance(interval, numbers.Integral):
        return None
    if interval < 1 or interval > len(history.values):
        return None
    value = history.values[interval - 1]
    return None if value != value else value
