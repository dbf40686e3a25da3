"""HyperDrive's Bandit policy: stop runs that fall too far behind the best run."""

from __future__ import annotations

from typing import Any

from hypersweep._validation import check_number, invalid
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy._common import ScheduledPolicy, Setting, check_interval_args, fmt
from hypersweep.policy._index import VALUE, HistoryIndex, below
from hypersweep.policy.base import CONTINUE, Decision, Histories

_OWNER = "BanditPolicy"


def _check_slack(value: Any, param: str) -> float:
    slack = check_number(value, param, _OWNER)
    if slack < 0:
        raise invalid(param, _OWNER, "a finite number >= 0", value)
    return slack


class BanditPolicy(ScheduledPolicy):
    """Stop a run whose best value falls outside a slack of the best value at that interval.

    At an evaluated interval k, B is the best value any run (running, finished or canceled, warm-start
    priors included) reported at interval k. A run r whose best value over 1..k is below
    ``B / (1 + slack_factor)`` or ``B - slack_amount`` (maximize), or above ``B * (1 + slack_factor)``
    or ``B + slack_amount`` (minimize), is stopped. The best run is never stopped; a NaN at k never
    stops a run. ``slack_factor`` reads as a ratio, so it assumes a metric of one sign (as in HyperDrive);
    use ``slack_amount`` for metrics that cross zero.

    Args:
        evaluation_interval: evaluate every this many intervals (0 reads as 1).
        slack_factor: allowed ratio to the best value; exactly one of the two slacks is set.
        slack_amount: allowed absolute distance to the best value.
        delay_evaluation: first interval evaluated.

    Raises:
        InvalidConfigError: neither or both slacks are set, or an argument is out of range.

    Example:
        >>> from hypersweep.goal import PrimaryMetricGoal
        >>> from hypersweep.policy import BanditPolicy, RunHistory
        >>> policy = BanditPolicy(slack_factor=0.2)
        >>> runs = {"a": RunHistory("a", [0.8]), "b": RunHistory("b", [0.6])}
        >>> policy.evaluate("b", 1, runs, PrimaryMetricGoal.MAXIMIZE).stop
        True
    """

    policy_name = "Bandit"
    yaml_type = "bandit"

    def __init__(
        self,
        evaluation_interval: int = 1,
        slack_factor: float | None = None,
        slack_amount: float | None = None,
        delay_evaluation: int = 0,
    ) -> None:
        self._evaluation_interval, self._delay_evaluation = check_interval_args(
            evaluation_interval, delay_evaluation, _OWNER
        )
        rule = "set when slack_amount is None (exactly one of slack_factor and slack_amount)"
        if slack_factor is None and slack_amount is None:
            raise invalid("slack_factor", _OWNER, rule, slack_factor)
        if slack_factor is not None and slack_amount is not None:
            raise invalid(
                "slack_amount",
                _OWNER,
                "None when slack_factor is set (exactly one of slack_factor and slack_amount)",
                slack_amount,
            )
        self._slack_factor = (
            None if slack_factor is None else _check_slack(slack_factor, "slack_factor")
        )
        self._slack_amount = (
            None if slack_amount is None else _check_slack(slack_amount, "slack_amount")
        )
        self._index = HistoryIndex((VALUE,))

    slack_factor = Setting[float | None](
        "_slack_factor",
        "The allowed ratio to the best value, or None when ``slack_amount`` is used.",
    )
    slack_amount = Setting[float | None](
        "_slack_amount",
        "The allowed absolute distance to the best value, or None when ``slack_factor`` is used.",
    )

    def properties(self) -> dict[str, Any]:
        """HyperDrive's properties: the intervals plus whichever slack is set."""
        slack = "slack_factor" if self._slack_factor is not None else "slack_amount"
        return {
            "evaluation_interval": self._evaluation_interval,
            "delay_evaluation": self._delay_evaluation,
            slack: getattr(self, slack),
        }

    def decide(
        self, run_id: str, interval: int, histories: Histories, goal: PrimaryMetricGoal
    ) -> Decision:
        """Stop ``run_id`` if its best value so far lies outside the slack of the best at ``interval``."""
        index = self._synced(histories, goal)
        at_k = index.series(VALUE, interval)
        mine = index.best(run_id, interval)
        if not at_k or mine >= at_k[-1]:  # the best run is never stopped
            return CONTINUE
        top = at_k[-1]
        maximize = index.sign > 0
        sign = index.sign
        if self._slack_factor is not None:
            s = self._slack_factor
            threshold = top / (1.0 + s) if maximize else top * (1.0 + s)
            formula = f"{fmt(sign * top)} {'/' if maximize else '*'} (1 + {s:g})"
        else:
            a = self._slack_amount or 0.0
            threshold = top - a
            formula = f"{fmt(sign * top)} {'-' if maximize else '+'} {a:g}"
        if not below(mine, threshold):
            return CONTINUE
        return Decision(
            True,
            f"Bandit: best {fmt(sign * mine)} at interval {interval} is "
            f"{'below' if maximize else 'above'} {fmt(sign * threshold)} = {formula}",
        )
