"""HyperDrive's truncation selection policy: stop the bottom X% of runs at each interval."""

from __future__ import annotations

from hypersweep._validation import check_int, invalid
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy._common import ScheduledPolicy, Setting, check_interval_args, fmt
from hypersweep.policy._index import VALUE, HistoryIndex, count_better
from hypersweep.policy.base import CONTINUE, Decision, Histories
from hypersweep.status import RunStatus

_OWNER = "TruncationSelectionPolicy"


class TruncationSelectionPolicy(ScheduledPolicy):
    """Stop a run whose value lies in the bottom ``truncation_percentage``% at an interval.

    At an evaluated interval k, the runs that reached k are ranked by their value at k (runs that
    went further are judged by their value at k, not later ones). With n >= 2 ranked runs, the
    evaluated run stops if at least ``ceil((100 - truncation_percentage)% of n)`` runs are strictly
    better than it. ``exclude_finished_jobs=True`` leaves Completed runs out of the ranking. NaN
    values are not ranked and never stop a run.

    Args:
        truncation_percentage: the share of runs to stop at each evaluation, an integer in [1, 99].
        evaluation_interval: evaluate every this many intervals (0 reads as 1).
        delay_evaluation: first interval evaluated.
        exclude_finished_jobs: leave Completed runs out of the comparison.

    Raises:
        InvalidConfigError: an argument is out of range or of the wrong type.

    Example:
        >>> from hypersweep.goal import PrimaryMetricGoal
        >>> from hypersweep.policy import RunHistory, TruncationSelectionPolicy
        >>> policy = TruncationSelectionPolicy(50)
        >>> runs = {"a": RunHistory("a", [0.9]), "b": RunHistory("b", [0.4])}
        >>> policy.evaluate("b", 1, runs, PrimaryMetricGoal.MAXIMIZE).stop
        True
    """

    policy_name = "TruncationSelection"
    yaml_type = "truncation_selection"

    def __init__(
        self,
        truncation_percentage: int,
        evaluation_interval: int = 1,
        delay_evaluation: int = 0,
        exclude_finished_jobs: bool = False,
    ) -> None:
        self._truncation_percentage = check_int(
            truncation_percentage, "truncation_percentage", _OWNER, low=1, high=99
        )
        self._evaluation_interval, self._delay_evaluation = check_interval_args(
            evaluation_interval, delay_evaluation, _OWNER
        )
        if not isinstance(exclude_finished_jobs, bool):
            raise invalid("exclude_finished_jobs", _OWNER, "a bool", exclude_finished_jobs)
        self._exclude_finished_jobs = exclude_finished_jobs
        self._index = HistoryIndex((VALUE,), track_completed=exclude_finished_jobs)

    truncation_percentage = Setting[int](
        "_truncation_percentage", "The share of runs (percent) stopped at each evaluation."
    )
    exclude_finished_jobs = Setting[bool](
        "_exclude_finished_jobs", "Whether Completed runs are left out of the comparison."
    )

    def decide(
        self, run_id: str, interval: int, histories: Histories, goal: PrimaryMetricGoal
    ) -> Decision:
        """Stop ``run_id`` if its value at ``interval`` ranks in the bottom percentage."""
        index = self._synced(histories, goal)
        ranked = index.series(VALUE, interval)
        mine = index.score(run_id, interval)
        n = len(ranked)
        better = count_better(ranked, mine)
        if self._exclude_finished_jobs:
            finished = index.completed_values(interval)
            n -= len(finished)
            better -= count_better(finished, mine)
            if histories[run_id].status is RunStatus.COMPLETED:
                n += 1  # the evaluated run itself always takes part
        cutoff = -(-(100 - self._truncation_percentage) * n // 100)  # ceil, in integers
        if n < 2 or better < cutoff:
            return CONTINUE
        sign = index.sign
        return Decision(
            True,
            f"TruncationSelection: value {fmt(sign * mine)} at interval {interval} ranks "
            f"{better + 1} of {n} ({better} runs are better; the bottom "
            f"{self._truncation_percentage}% are stopped)",
        )
