"""Early-termination policies: pure decisions on metric histories."""

from hypersweep.policy.base import CONTINUE, Decision, EarlyTerminationPolicy, RunHistory

__all__ = ["CONTINUE", "Decision", "EarlyTerminationPolicy", "RunHistory"]
