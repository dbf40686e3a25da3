"""HyperDrive's median stopping policy: stop runs doing worse than the median run."""

from __future__ import annotations

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy._common import ScheduledPolicy, check_interval_args, fmt
from hypersweep.policy._index import AVERAGE, HistoryIndex, median_of_sorted
from hypersweep.policy.base import CONTINUE, Decision, Histories


class MedianStoppingPolicy(ScheduledPolicy):
    """Stop a run whose best value is worse than the median of the runs' running averages.

    At an evaluated interval k, take every run that reached k (the evaluated run included; running,
    finished and canceled runs and warm-start priors alike) and its average over intervals 1..k.
    The evaluated run stops if its best value over 1..k is strictly worse than the median of those
    averages. A lone run is never stopped; NaN values are left out of averages and bests.

    Args:
        evaluation_interval: evaluate every this many intervals (0 reads as 1).
        delay_evaluation: first interval evaluated.

    Raises:
        InvalidConfigError: an argument is not an integer >= 0.

    Example:
        >>> from hypersweep.goal import PrimaryMetricGoal
        >>> from hypersweep.policy import MedianStoppingPolicy, RunHistory
        >>> policy = MedianStoppingPolicy(delay_evaluation=2)
        >>> runs = {"a": RunHistory("a", [0.7, 0.9]), "b": RunHistory("b", [0.6, 0.7]),
        ...         "c": RunHistory("c", [0.2, 0.3])}
        >>> policy.evaluate("c", 2, runs, PrimaryMetricGoal.MAXIMIZE).stop
        True
    """

    policy_name = "MedianStopping"
    yaml_type = "median_stopping"

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        self._evaluation_interval, self._delay_evaluation = check_interval_args(
            evaluation_interval, delay_evaluation, "MedianStoppingPolicy"
        )
        self._index = HistoryIndex((AVERAGE,))

    def decide(
        self, run_id: str, interval: int, histories: Histories, goal: PrimaryMetricGoal
    ) -> Decision:
        """Stop ``run_id`` if its best so far is worse than the median running average at ``interval``."""
        index = self._synced(histories, goal)
        averages = index.series(AVERAGE, interval)
        if len(averages) < 2:
            return CONTINUE
        median = median_of_sorted(averages)
        mine = index.best(run_id, interval)
        if not mine < median:
            return CONTINUE
        sign = index.sign
        return Decision(
            True,
            f"MedianStopping: best {fmt(sign * mine)} at interval {interval} is "
            f"{'below' if sign > 0 else 'above'} {fmt(sign * median)}, the median of the running "
            f"averages of the {len(averages)} runs that reached interval {interval}",
        )
