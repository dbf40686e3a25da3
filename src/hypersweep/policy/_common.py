"""Helpers the policies share (private): validation of the scheduling arguments, the scheduled
policies' base class, and number formatting in reasons."""

from __future__ import annotations

from typing import Any, Generic, NoReturn, TypeVar, overload

from hypersweep._validation import check_int
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy._index import HistoryIndex
from hypersweep.policy.base import EarlyTerminationPolicy, Histories

T = TypeVar("T")


def check_interval_args(
    evaluation_interval: Any, delay_evaluation: Any, owner: str
) -> tuple[int, int]:
    """Validate the scheduling arguments every policy shares; an interval of 0 reads as 1."""
    interval = check_int(evaluation_interval, "evaluation_interval", owner, low=0)
    delay = check_int(delay_evaluation, "delay_evaluation", owner, low=0)
    return max(interval, 1), delay


class Setting(Generic[T]):
    """A policy's setting, read-only: the constructor stores it in ``attr``, and reading returns it.

    Args:
        attr: the instance attribute that holds the value.
        doc: what the setting means (the attribute's docstring).
    """

    def __init__(self, attr: str, doc: str) -> None:
        self._attr = attr
        self._name = attr
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Setting[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> T | Setting[T]:
        if obj is None:
            return self
        value: T = getattr(obj, self._attr)
        return value

    def __set__(self, obj: object, value: Any) -> NoReturn:
        raise AttributeError(f"{type(obj).__name__}.{self._name} is read-only")


class ScheduledPolicy(EarlyTerminationPolicy):
    """A policy with read-only ``evaluation_interval`` and ``delay_evaluation`` and a
    :class:`HistoryIndex` in ``_index``, which :meth:`_synced` brings up to date."""

    _evaluation_interval: int = 1
    _delay_evaluation: int = 0
    _index: HistoryIndex

    def _synced(self, histories: Histories, goal: PrimaryMetricGoal) -> HistoryIndex:
        """The history index, up to date with ``histories``."""
        self._index.sync(histories, goal)
        return self._index

    @property
    def evaluation_interval(self) -> int:  # type: ignore[override]
        """Evaluate every this many intervals."""
        return self._evaluation_interval

    @property
    def delay_evaluation(self) -> int:  # type: ignore[override]
        """The first interval evaluated."""
        return self._delay_evaluation


def fmt(x: float) -> str:
    """A number as reasons show it (4 significant digits)."""
    return f"{x:.4g}"
