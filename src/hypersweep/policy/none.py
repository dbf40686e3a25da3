"""HyperDrive's NoTerminationPolicy: every run runs to completion."""

from __future__ import annotations

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy.base import CONTINUE, Decision, EarlyTerminationPolicy, Histories


class NoTerminationPolicy(EarlyTerminationPolicy):
    """Never stop a run (HyperDrive's default, what ``policy=None`` means).

    Example:
        >>> from hypersweep.policy import NoTerminationPolicy
        >>> NoTerminationPolicy().to_json()
        {'name': 'Default'}
    """

    policy_name = "Default"
    yaml_type = "none"
    yaml_aliases = ("default",)

    def should_evaluate(self, interval: int) -> bool:
        """Never: there is nothing to decide."""
        return False

    def decide(
        self, run_id: str, interval: int, histories: Histories, goal: PrimaryMetricGoal
    ) -> Decision:
        """Always continue."""
        return CONTINUE
