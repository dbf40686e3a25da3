"""An incremental index over metric histories, shared by the policies (private).

Every rule compares one run with the runs that reached the same interval k. Recomputing that from
the raw histories costs O(runs x intervals) per decision; this index keeps, per interval, sorted
lists of what the rules look at (the value at k, the best value through k, the running average
through k) and per run its prefix bests and averages, and only ingests what was appended since
the last call. A decision then costs one pass over the runs to spot appended values (a length
check each) plus O(log runs) lookups.

Everything is held in *score space*: ``score = goal.sign * value``, so larger is always better
and one rule serves both goals. NaN values are recorded as gaps: they never enter a sorted list,
a best or an average.

Correctness does not depend on call order: after :meth:`HistoryIndex.sync` the index equals what a
from-scratch build over the given histories would give. It assumes histories only grow by
appending (as a sweep's do); a run whose list shrank, was replaced by a list that disagrees with
what was ingested, or that disappeared triggers a full rebuild, as does a change of goal. It is
not thread-safe: one policy object is meant to be called from one thread (the controller's loop).
"""

from __future__ import annotations

import math
from bisect import bisect_right, insort
from collections.abc import Callable, Mapping

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy.base import RunHistory
from hypersweep.status import RunStatus

NAN = math.nan

# Kinds of per-interval series the index can keep.
VALUE = "value"  # the run's score at interval k
BEST = "best"  # the run's best score over intervals 1..k
AVERAGE = "average"  # the run's mean score over intervals 1..k (NaNs skipped)

_REL_TOL = 1e-9


def below(score: float, threshold: float) -> bool:
    """``score < threshold`` beyond rounding noise (relative tolerance 1e-9).

    ``0.8 - 0.2`` is ``0.6000000000000001`` in floating point; a run at exactly 0.6 must not count
    as below it.
    """
    return score < threshold - _REL_TOL * abs(threshold)


def median_of_sorted(values: list[float]) -> float:
    """The median of an already sorted, non-empty list (mean of the two middle ones if even)."""
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2.0


class _Run:
    """What the index holds for one run."""

    __slots__ = (
        "values",
        "n",
        "last",
        "total",
        "count",
        "best",
        "bests",
        "avgs",
        "group",
        "completed",
    )

    def __init__(self, values: list[float], group: int) -> None:
        self.values = values  # the list object last seen (to spot a replaced list cheaply)
        self.n = 0  # values ingested
        self.last = NAN  # the raw value at interval n
        self.total = 0.0
        self.count = 0
        self.best = NAN
        self.bests: list[float] = []  # bests[k - 1]: best score over 1..k (NaN if none)
        self.avgs: list[float] = []  # avgs[k - 1]: mean score over 1..k (NaN if none)
        self.group = group
        self.completed = False


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


class HistoryIndex:
    """Per-interval sorted series over a sweep's histories, kept up to date incrementally.

    Args:
        kinds: which series to keep (``VALUE``, ``BEST``, ``AVERAGE``).
        track_completed: also keep the ``VALUE`` series of Completed runs only (to leave them out).
        group_of: puts each run in a population (ASHA brackets); ``None`` puts all in one.
    """

    def __init__(
        self,
        kinds: tuple[str, ...],
        *,
        track_completed: bool = False,
        group_of: Callable[[str], int] | None = None,
    ) -> None:
        self._kinds = kinds
        self._track_completed = track_completed
        self._group_of = group_of
        self._goal: PrimaryMetricGoal | None = None
        self._reset(PrimaryMetricGoal.MAXIMIZE)

    # -- building ---------------------------------------------------------------------------
    def _reset(self, goal: PrimaryMetricGoal) -> None:
        self._goal = goal
        self._sign = goal.sign
        self._runs: dict[str, _Run] = {}
        # series[(group, kind)][k - 1] is a sorted list of scores at interval k.
        self._series: dict[tuple[int, str], list[list[float]]] = {}
        self._completed_values: list[list[float]] = []

    def sync(self, histories: Mapping[str, RunHistory], goal: PrimaryMetricGoal) -> None:
        """Bring the index up to date with ``histories`` (ingest appended values, statuses)."""
        if goal is not self._goal:
            self._reset(goal)
        if not self._sync(histories):
            self._reset(goal)
            self._sync(histories)

    def _sync(self, histories: Mapping[str, RunHistory]) -> bool:
        """One pass; False when the histories are not an append-only extension of the index."""
        runs = self._runs
        get = runs.get
        track = self._track_completed
        completed = RunStatus.COMPLETED
        for run_id, history in histories.items():
            rec = get(run_id)
            values = history.values
            if rec is None:
                group = self._group_of(run_id) if self._group_of is not None else 0
                rec = runs[run_id] = _Run(values, group)
            elif values is rec.values and len(values) == rec.n:
                # The common case: nothing new for this run.
                if track and (history.status is completed) is not rec.completed:
                    self._set_completed(rec, not rec.completed)
                continue
            elif values is not rec.values:
                if len(values) < rec.n or (rec.n and not _same(values[rec.n - 1], rec.last)):
                    return False
                rec.values = values
            elif len(values) < rec.n:
                return False
            if len(values) > rec.n:
                self._ingest(rec, values)
            if track and (history.status is completed) is not rec.completed:
                self._set_completed(rec, not rec.completed)
        # Every run of ``histories`` is now indexed; any other indexed run has disappeared.
        return len(runs) == len(histories)

    def _lists(self, group: int, kind: str, n: int) -> list[list[float]]:
        series = self._series.get((group, kind))
        if series is None:
            series = self._series[(group, kind)] = []
        while len(series) < n:
            series.append([])
        return series

    def _ingest(self, rec: _Run, values: list[float]) -> None:
        sign = self._sign
        start, stop = rec.n, len(values)
        kinds = self._kinds
        value_lists = self._lists(rec.group, VALUE, stop) if VALUE in kinds else None
        best_lists = self._lists(rec.group, BEST, stop) if BEST in kinds else None
        avg_lists = self._lists(rec.group, AVERAGE, stop) if AVERAGE in kinds else None
        if rec.completed:
            while len(self._completed_values) < stop:
                self._completed_values.append([])
        total, count, best = rec.total, rec.count, rec.best
        bests, avgs = rec.bests, rec.avgs
        for i in range(start, stop):
            score = sign * values[i]
            if score == score:  # not NaN
                total += score
                count += 1
                if not best >= score:  # also true while best is NaN
                    best = score
                if value_lists is not None:
                    insort(value_lists[i], score)
                if rec.completed:
                    insort(self._completed_values[i], score)
            avg = total / count if count else NAN
            bests.append(best)
            avgs.append(avg)
            if best_lists is not None and best == best:
                insort(best_lists[i], best)
            if avg_lists is not None and avg == avg:
                insort(avg_lists[i], avg)
        rec.total, rec.count, rec.best = total, count, best
        rec.n = stop
        rec.last = values[stop - 1]

    def _set_completed(self, rec: _Run, completed: bool) -> None:
        rec.completed = completed
        lists = self._completed_values
        while len(lists) < rec.n:
            lists.append([])
        sign = self._sign
        for i in range(rec.n):
            score = sign * rec.values[i]
            if score == score:
                if completed:
                    insort(lists[i], score)
                else:
                    lists[i].pop(bisect_right(lists[i], score) - 1)

    # -- queries ----------------------------------------------------------------------------
    @property
    def sign(self) -> float:
        """+1 (maximize) or -1 (minimize): ``value = sign * score``."""
        return self._sign

    def group(self, run_id: str) -> int:
        """The population (bracket) of a run."""
        return self._runs[run_id].group

    def score(self, run_id: str, interval: int) -> float:
        """The run's score at ``interval`` (NaN if it logged NaN there)."""
        rec = self._runs[run_id]
        return self._sign * rec.values[interval - 1]

    def best(self, run_id: str, interval: int) -> float:
        """The run's best score over intervals 1..interval (NaN if all NaN)."""
        return self._runs[run_id].bests[interval - 1]

    def series(self, kind: str, interval: int, group: int = 0) -> list[float]:
        """Sorted scores of ``kind`` at ``interval`` over the runs of ``group`` that reached it."""
        lists = self._series.get((group, kind))
        if lists is None or len(lists) < interval:
            return []
        return lists[interval - 1]

    def completed_values(self, interval: int) -> list[float]:
        """Sorted scores at ``interval`` of the Completed runs (``track_completed`` only)."""
        lists = self._completed_values
        return lists[interval - 1] if len(lists) >= interval else []


def count_better(sorted_scores: list[float], score: float) -> int:
    """How many entries of ``sorted_scores`` are strictly larger than ``score``."""
    return len(sorted_scores) - bisect_right(sorted_scores, score)
