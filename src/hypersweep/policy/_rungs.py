"""The rung schedule that successive-halving policies share: where runs are judged, and in which bracket.

Rungs lie at intervals ``min_interval * reduction_factor**i`` (i = 0, 1, ...) below ``max_interval``.
With ``brackets=b > 1`` (asynchronous Hyperband), each run is assigned a bracket s in ``[0, b)`` from a
hash of its id; bracket s starts its rungs at ``min_interval * reduction_factor**s``.
"""

from __future__ import annotations

import zlib
from typing import Any

from hypersweep._validation import check_int
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy._common import Setting
from hypersweep.policy.base import Histories


class RungSchedule:
    """The settings and the rung arithmetic of a successive-halving policy (a mixin).

    Args:
        owner: the policy's name, for validation messages.
        reduction_factor: eta, an integer >= 2.
        min_interval: the first rung (grace period), an integer >= 1.
        max_interval: the length of a full run if known (no rung at or beyond it); optional.
        brackets: the number of Hyperband brackets, an integer >= 1.
        min_runs: stop nobody at a rung until this many runs have reached it.
    """

    _index: Any  # the policy's HistoryIndex, set by its constructor

    def _init_rungs(
        self,
        owner: str,
        reduction_factor: int,
        min_interval: int,
        max_interval: int | None,
        brackets: int,
        min_runs: int,
    ) -> None:
        self._eta = check_int(reduction_factor, "reduction_factor", owner, low=2)
        self._min_interval = check_int(min_interval, "min_interval", owner, low=1)
        self._max_interval = (
            None
            if max_interval is None
            else check_int(max_interval, "max_interval", owner, low=self._min_interval + 1)
        )
        self._brackets = check_int(brackets, "brackets", owner, low=1)
        self._min_runs = check_int(min_runs, "min_runs", owner, low=1)

    reduction_factor = Setting[int]("_eta", "eta: 1/eta of the runs survive each rung.")
    min_interval = Setting[int]("_min_interval", "The first rung (grace period).")
    max_interval = Setting[int | None](
        "_max_interval", "The length of a full run, if given (no rung at or beyond it)."
    )
    brackets = Setting[int]("_brackets", "The number of Hyperband brackets.")
    min_runs = Setting[int]("_min_runs", "Runs that must reach a rung before anyone stops there.")

    def _group_of(self) -> Any:
        """The bracket of each run, for the history index (None with a single bracket)."""
        return self._bracket_of if self._brackets > 1 else None

    def _bracket_of(self, run_id: str) -> int:
        return zlib.crc32(run_id.encode("utf-8")) % self._brackets

    def _is_rung(self, interval: int, bracket: int) -> bool:
        if self._max_interval is not None and interval >= self._max_interval:
            return False
        rung = self._min_interval
        for _ in range(bracket):
            rung *= self._eta
        while rung < interval:
            rung *= self._eta
        return rung == interval

    def should_evaluate(self, interval: int) -> bool:
        """True at the rungs of any bracket."""
        return any(self._is_rung(interval, b) for b in range(self._brackets))

    def _rung_population(
        self,
        run_id: str,
        interval: int,
        histories: Histories,
        goal: PrimaryMetricGoal,
        kind: Any,
    ) -> list[float] | None:
        """The ranked ``kind`` values of the runs at ``run_id``'s rung, with the history index (``self._index``)
        synced; None when the run is not judged here (not a rung of its bracket, or fewer than ``min_runs`` runs
        at the rung)."""
        bracket = self._bracket_of(run_id) if self._brackets > 1 else 0
        if not self._is_rung(interval, bracket):
            return None
        index = self._index
        index.sync(histories, goal)
        ranked = index.series(kind, interval, bracket)
        return ranked if len(ranked) >= self._min_runs else None
