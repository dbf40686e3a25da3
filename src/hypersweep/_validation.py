"""One place that words validation errors: parameter, owner, rule, value received."""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any

from hypersweep.errors import InvalidConfigError


def _shown(got: Any) -> str:
    """``repr(got)``, with an integer too long to print whole (or to repr at all) described instead."""
    if isinstance(got, int) and not isinstance(got, bool) and got.bit_length() > 200:
        return f"an integer of about {int(got.bit_length() * math.log10(2)) + 1} digits"
    return repr(got)


def invalid(param: str, owner: str, rule: str, got: Any) -> InvalidConfigError:
    """Build the uniform error: ``The 'x' parameter of Y must be <rule>. Got <value> instead.``"""
    return InvalidConfigError(
        f"The {param!r} parameter of {owner} must be {rule}. Got {_shown(got)} instead."
    )


def _as_float(value: Any) -> float:
    """``float(value)``; an integer beyond the float range gives ±inf instead of OverflowError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def is_number(value: Any) -> bool:
    """True for real numbers (int or float, not bool), finite or not."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number(value: Any, param: str, owner: str, *, finite: bool = True) -> float:
    """Return ``value`` as a float, or raise if it is not a (finite) real number."""
    if not is_number(value) or (finite and not math.isfinite(_as_float(value))):
        raise invalid(param, owner, "a finite number" if finite else "a number", value)
    return _as_float(value)


def check_int(
    value: Any,
    param: str,
    owner: str,
    *,
    low: int | None = None,
    high: int | None = None,
) -> int:
    """Return ``value`` as an int in ``[low, high]`` (either bound optional), or raise.

    Integral floats such as ``5.0`` are accepted; booleans are not.
    """
    ok = is_number(value) and math.isfinite(_as_float(value)) and _as_float(value).is_integer()
    if ok:
        ivalue = int(value)
        ok = (low is None or ivalue >= low) and (high is None or ivalue <= high)
    if not ok:
        if low is not None and high is not None:
            rule = f"an integer in [{low}, {high}]"
        elif low is not None:
            rule = f"an integer >= {low}"
        elif high is not None:
            rule = f"an integer <= {high}"
        else:
            rule = "an integer"
        raise invalid(param, owner, rule, value)
    return ivalue


def check_workspace(workspace: Any, owner: str, *, path_ok: bool = False) -> Path:
    """The folder of ``workspace``: its ``path`` attribute, or (with ``path_ok``) the path itself.

    Raises:
        InvalidConfigError: ``workspace`` is neither a Workspace nor, when allowed, a path.
    """
    path = getattr(workspace, "path", workspace if path_ok else None)
    if not isinstance(path, (str, os.PathLike)):
        raise invalid("workspace", owner, "a Workspace", workspace)
    return Path(path)
