"""Helpers the policies share (private): validation of the scheduling arguments, the prologue
of every decision, and number formatting in reasons."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from hypersweep._validation import check_int
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy._index import HistoryIndex
from hypersweep.policy.base import CONTINUE, Decision, EarlyTerminationPolicy, RunHistory


def check_interval_args(
    evaluation_interval: Any, delay_evaluation: Any, owner: str
) -> tuple[int, int]:
    """Validate the scheduling arguments every policy shares; an interval of 0 reads as 1."""
    interval = check_int(evaluation_interval, "evaluation_interval", owner, low=0)
    delay = check_int(delay_evaluation, "delay_evaluation", owner, low=0)
    return max(interval, 1), delay


class ScheduledPolicy(EarlyTerminationPolicy):
    """A policy with read-only ``evaluation_interval`` and ``delay_evaluation``.

    Subclasses that keep a :class:`HistoryIndex` in ``_index`` implement :meth:`_decide`; the
    shared prologue (only a reporting run with a real value at ``interval`` is judged, and the
    index is brought up to date first) is :meth:`evaluate`'s.
    """

    _evaluation_interval: int = 1
    _delay_evaluation: int = 0
    _index: HistoryIndex

    def properties(self) -> dict[str, Any]:
        """The two intervals, as HyperDrive serializes them; subclasses add their own settings."""
        return {
            "evaluation_interval": self.evaluation_interval,
            "delay_evaluation": self.delay_evaluation,
        }

    def evaluate(
        self,
        run_id: str,
        interval: int,
        histories: Mapping[str, RunHistory],
        goal: PrimaryMetricGoal,
    ) -> Decision:
        if judged_value(run_id, interval, histories) is None:
            return CONTINUE
        self._index.sync(histories, goal)
        return self._decide(run_id, interval, histories, self._index)

    def _decide(
        self, run_id: str, interval: int, histories: Mapping[str, RunHistory], index: HistoryIndex
    ) -> Decision:
        """The rule itself, on an up-to-date index, for a run that has a value at ``interval``."""
        raise NotImplementedError

    @property
    def evaluation_interval(self) -> int:  # type: ignore[override]
        """Evaluate every this many intervals."""
        return self._evaluation_interval

    @property
    def delay_evaluation(self) -> int:  # type: ignore[override]
        """The first interval evaluated."""
        return self._delay_evaluation


def judged_value(run_id: str, interval: int, histories: Mapping[str, RunHistory]) -> float | None:
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


def fmt(x: float) -> str:
    """A number as reasons show it (4 significant digits)."""
    return f"{x:.4g}"
