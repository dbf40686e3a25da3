"""Build a policy from the ``early_termination`` mapping of a YAML sweep file (private)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypersweep._validation import invalid
from hypersweep.errors import InvalidConfigError
from hypersweep.policy.asha import AshaPolicy
from hypersweep.policy.bandit import BanditPolicy
from hypersweep.policy.base import EarlyTerminationPolicy
from hypersweep.policy.median import MedianStoppingPolicy
from hypersweep.policy.none import NoTerminationPolicy
from hypersweep.policy.robust_asha import RobustAshaPolicy
from hypersweep.policy.truncation import TruncationSelectionPolicy

_SCHEDULE = ("evaluation_interval", "delay_evaluation")

# type -> (class, allowed keys besides "type")
_TYPES: dict[str, tuple[type[EarlyTerminationPolicy], tuple[str, ...]]] = {
    "bandit": (BanditPolicy, (*_SCHEDULE, "slack_factor", "slack_amount")),
    "median_stopping": (MedianStoppingPolicy, _SCHEDULE),
    "truncation_selection": (
        TruncationSelectionPolicy,
        ("truncation_percentage", *_SCHEDULE, "exclude_finished_jobs"),
    ),
    "asha": (
        AshaPolicy,
        ("reduction_factor", "min_interval", "max_interval", "brackets", "compare", "min_runs"),
    ),
    "robust_asha": (
        RobustAshaPolicy,
        (
            "reduction_factor",
            "min_interval",
            "max_interval",
            "brackets",
            "noise_factor",
            "trend_factor",
            "noise_window",
            "min_runs",
            "climb_factor",
            "keep_ties",
        ),
    ),
    "none": (NoTerminationPolicy, ()),
    "default": (NoTerminationPolicy, ()),
}


def policy_from_data(data: Mapping[str, Any] | None) -> EarlyTerminationPolicy:
    """The policy that a sweep file's ``early_termination`` mapping describes.

    The mapping has a ``type`` (``bandit``, ``median_stopping``, ``truncation_selection``, ``asha``,
    ``robust_asha``, ``none`` or ``default``, any case) and that policy's constructor arguments under the same
    names; a missing or null mapping means no early termination.

    Args:
        data: the ``early_termination`` mapping, or None.

    Returns:
        The policy.

    Raises:
        InvalidConfigError: the type or a key is unknown, or a value is invalid.

    Example:
        >>> from hypersweep.policy import policy_from_data
        >>> policy_from_data({"type": "median_stopping", "evaluation_interval": 2, "delay_evaluation": 5})
        MedianStoppingPolicy(evaluation_interval=2, delay_evaluation=5)
    """
    if data is None:
        return NoTerminationPolicy()
    if isinstance(data, EarlyTerminationPolicy):
        return data
    if not isinstance(data, Mapping):
        raise invalid("early_termination", "the sweep file", "a mapping or null", data)
    kind = data.get("type")
    allowed_types = ", ".join(_TYPES)
    if not isinstance(kind, str) or kind.strip().lower() not in _TYPES:
        raise invalid("type", "early_termination", f"one of {allowed_types}", kind)
    kind = kind.strip().lower()
    cls, keys = _TYPES[kind]
    for key in data:
        if key != "type" and key not in keys:
            allowed = ", ".join(keys) if keys else "none besides type"
            raise InvalidConfigError(
                f"early_termination.{key} is not a known key for type {kind}; allowed: {allowed}."
            )
    if kind == "truncation_selection" and "truncation_percentage" not in data:
        raise InvalidConfigError(
            "early_termination.truncation_percentage is required for type truncation_selection."
        )
    kwargs = {key: value for key, value in data.items() if key != "type"}
    return cls(**kwargs)
