"""Build a policy from a sweep file's ``early_termination`` mapping, or from its stored form (private).

Both forms come from the registry (:data:`~hypersweep.policy.base.POLICIES`): the ``type`` names the
class, and the other keys are its constructor's keyword parameters, so no list of keys is kept here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypersweep._registry import kwargs_from_data, unknown_note
from hypersweep._validation import invalid
from hypersweep.errors import InvalidConfigError
from hypersweep.policy.base import POLICIES, EarlyTerminationPolicy
from hypersweep.policy.none import NoTerminationPolicy

#: The keys every scheduled policy shares: listed first among the allowed keys.
_SCHEDULE = ("evaluation_interval", "delay_evaluation")


def policy_from_data(data: Mapping[str, Any] | None) -> EarlyTerminationPolicy:
    """The policy that a sweep file's ``early_termination`` mapping describes.

    The mapping has a ``type`` (``bandit``, ``median_stopping``, ``truncation_selection``, ``asha``,
    ``robust_asha``, ``none`` or ``default``, any case; or the ``yaml_type`` of any other policy
    class defined) and that policy's constructor arguments under the same names; a missing or null
    mapping means no early termination.

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
    cls = POLICIES.by_type(kind)
    if cls is None:
        raise invalid("type", "early_termination", f"one of {', '.join(POLICIES.types())}", kind)
    values = {key: value for key, value in data.items() if key != "type"}
    kwargs = kwargs_from_data(
        cls, values, where="early_termination", kind=str(kind).strip().lower(), first=_SCHEDULE
    )
    return cls(**kwargs)


def policy_from_json(data: Mapping[str, Any]) -> EarlyTerminationPolicy | None:
    """Rebuild a policy from its ``to_json()`` form (``{"name", "properties"}``); None for no policy.

    Raises:
        InvalidConfigError: no policy of that name is defined (its module is not imported).
    """
    name = data.get("name")
    if name in (None, NoTerminationPolicy.policy_name):
        return None
    cls = POLICIES.by_name(name)
    if cls is None:
        raise InvalidConfigError(
            f"Unknown early-termination policy {name!r} in the stored sweep.{unknown_note(name)}"
        )
    return cls(**data.get("properties", {}))
