"""Early-termination policies: pure decisions on metric histories.

HyperDrive's ``BanditPolicy``, ``MedianStoppingPolicy``, ``TruncationSelectionPolicy`` and
``NoTerminationPolicy``, plus ``AshaPolicy`` (asynchronous successive halving) and
``RobustAshaPolicy`` (successive halving that stops a run only when it is behind beyond its
noise). Which one to pick: see :mod:`hypersweep.policy.asha`. ``policy_from_data`` reads a sweep file's
``early_termination`` mapping.

Each policy is one module whose class sets ``policy_name`` (HyperDrive's) and ``yaml_type`` (the
sweep file's); defining it registers it (``hypersweep.policy.base.POLICIES``), and importing it
here exports it.
"""

# The policies are imported first, in the order the sweep file's types are listed in messages.
# isort: off
from hypersweep.policy.bandit import BanditPolicy
from hypersweep.policy.median import MedianStoppingPolicy
from hypersweep.policy.truncation import TruncationSelectionPolicy
from hypersweep.policy.asha import AshaPolicy
from hypersweep.policy.robust_asha import RobustAshaPolicy
from hypersweep.policy.none import NoTerminationPolicy

# isort: on
from hypersweep.policy._from_data import policy_from_data
from hypersweep.policy.base import CONTINUE, Decision, EarlyTerminationPolicy, RunHistory

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
