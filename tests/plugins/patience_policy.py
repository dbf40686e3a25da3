"""An early-termination policy defined outside hypersweep: stop a run that stopped improving.

Usable as ``early_termination: {type: patience, patience: 2}`` in a sweep file, as
``PatiencePolicy(...)`` in ``HyperDriveConfig`` and from a stored sweep (``"name": "Patience"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hypersweep._validation import check_int, check_number, invalid
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy.base import CONTINUE, Decision, EarlyTerminationPolicy, RunHistory


class PatiencePolicy(EarlyTerminationPolicy):
    """Stop a run whose best value has not improved by more than ``min_delta`` for ``patience`` intervals.

    Args:
        patience: how many intervals without improvement a run may report.
        min_delta: the least change that counts as an improvement.
    """

    policy_name = "Patience"
    yaml_type = "patience"

    def __init__(self, patience: int = 3, *, min_delta: float = 0.0) -> None:
        self.patience = check_int(patience, "patience", "PatiencePolicy", low=1)
        self.min_delta = check_number(min_delta, "min_delta", "PatiencePolicy")
        if self.min_delta < 0:
            raise invalid("min_delta", "PatiencePolicy", "a finite number >= 0", min_delta)

    def properties(self) -> dict[str, Any]:
        return {"patience": self.patience, "min_delta": self.min_delta}

    def evaluate(
        self,
        run_id: str,
        interval: int,
        histories: Mapping[str, RunHistory],
        goal: PrimaryMetricGoal,
    ) -> Decision:
        sign = 1.0 if goal is PrimaryMetricGoal.MAXIMIZE else -1.0
        best, since = -math.inf, 0
        for value in histories[run_id].values[:interval]:
            if value == value and sign * value > best + self.min_delta:
                best, since = sign * value, 0
            else:
                since += 1
        if since >= self.patience:
            return Decision(True, f"Patience: no improvement for {since} intervals")
        return CONTINUE
