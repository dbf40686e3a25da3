"""Early-termination policies: pure decisions on metric histories.

HyperDrive's ``BanditPolicy``, ``MedianStoppingPolicy``, ``TruncationSelectionPolicy`` and
``NoTerminationPolicy``, plus ``AshaPolicy`` (asynchronous successive halving) and
``RobustAshaPolicy`` (successive halving that stops a run only when it is behind beyond its
noise). Which one to pick: see :mod:`hypersweep.policy.asha`. ``policy_from_data`` reads a sweep file's
``early_termination`` mapping.
"""

from hypersweep.policy._from_data import policy_from_data
from hypersweep.policy.asha import AshaPolicy
from hypersweep.policy.bandit import BanditPolicy
from hypersweep.policy.base import CONTINUE, Decision, EarlyTerminationPolicy, RunHistory
from hypersweep.policy.median import MedianStoppingPolicy
from hypersweep.policy.none import NoTerminationPolicy
from hypersweep.policy.robust_asha import RobustAshaPolicy
from hypersweep.policy.truncation import TruncationSelectionPolicy

__all__ = [
    "CONTINUE",
    "AshaPolicy",
    "BanditPolicy",
    "Decision",
    "EarlyTerminationPolicy",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "RobustAshaPolicy",
    "RunHistory",
    "TruncationSelectionPolicy",
    "policy_from_data",
]
