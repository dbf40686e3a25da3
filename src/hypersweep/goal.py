"""The primary metric's goal."""

from __future__ import annotations

import enum
import math

from hypersweep.errors import InvalidConfigError


class PrimaryMetricGoal(enum.Enum):
    """Whether the primary metric is to be maximized or minimized.

    Example:
        >>> PrimaryMetricGoal.from_str("Maximize")
        <PrimaryMetricGoal.MAXIMIZE: 'MAXIMIZE'>
    """

    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"

    @classmethod
    def from_str(cls, goal: str | PrimaryMetricGoal) -> PrimaryMetricGoal:
        """Parse ``"maximize"`` or ``"minimize"`` (any case)."""
        if isinstance(goal, PrimaryMetricGoal):
            return goal
        if isinstance(goal, str) and goal.strip().upper() in cls.__members__:
            return cls[goal.strip().upper()]
        raise InvalidConfigError(
            "The 'primary_metric_goal' parameter must be either 'maximize' or 'minimize' "
            f"(or PrimaryMetricGoal.MAXIMIZE / MINIMIZE). Got {goal!r} instead."
        )

    @property
    def sign(self) -> float:
        """+1 for MAXIMIZE, -1 for MINIMIZE: ``sign * value`` is larger-is-better."""
        return 1.0 if self is PrimaryMetricGoal.MAXIMIZE else -1.0

    def better(self, a: float, b: float) -> bool:
        """True if ``a`` is strictly better than ``b`` (NaN is never better)."""
        if math.isnan(a):
            return False
        if math.isnan(b):
            return True
        return a > b if self is PrimaryMetricGoal.MAXIMIZE else a < b

    def best(self, values: list[float] | tuple[float, ...]) -> float:
        """The best non-NaN value of ``values``, or NaN when there is none."""
        finite = [v for v in values if not math.isnan(v)]
        if not finite:
            return math.nan
        return max(finite) if self is PrimaryMetricGoal.MAXIMIZE else min(finite)
