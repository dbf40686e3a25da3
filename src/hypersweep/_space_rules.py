"""The numeric rules of the search space's expressions: bounds that keep every draw finite, grids
that floats can hold, and the normal CDF the unit-cube maps use (see :mod:`hypersweep.space`)."""

from __future__ import annotations

import math
import re
import sys
from typing import Any

import numpy as np

from hypersweep._validation import invalid, is_number

_EPS = 1e-9  # keeps normal-family unit values away from 0 and 1, where the inverse CDF is infinite
_MAX_FLOAT = sys.float_info.max
_MAX_EXP = math.log(_MAX_FLOAT)  # 709.78...: exp() of anything larger overflows
#: How many sigmas a normal-family expression must stay finite over. numpy's generator never draws
#: beyond about 14 sigma (its tail method is bounded by 53-bit uniforms), and the unit-cube maps stop
#: at 6; 40 leaves a wide margin, so a non-finite draw is impossible, not merely unlikely.
_Z_SAFE = 40.0
_Z_UNIT = 6.0  # |z| at the ends of the unit-cube map (u clipped to [1e-9, 1 - 1e-9])
#: The most multiples of q a bound may lie from zero: below 2**52 steps, round(x / q) is exact and
#: round(x / q) * q are distinct multiples of q; beyond it a float cannot tell k*q from (k+1)*q.
_MAX_STEPS = 2.0**52


def _ndtr(x: np.ndarray | float) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(x)


def _ndtri(u: np.ndarray | float) -> np.ndarray:
    from scipy.special import ndtri

    return ndtri(u)


def _plain(value: Any) -> Any:
    """A numpy scalar as its Python value (np.float64(0.1) -> 0.1, np.int64(3) -> 3); others unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def _finite(value: Any, param: str, owner: str) -> int | float:
    """``value`` (numpy scalars as Python numbers) if it is a finite real number, else raise.

    Integers a float cannot hold exactly (beyond 2**53) become floats; beyond the float range they
    are not finite.
    """
    value = _plain(value)
    if is_number(value):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return value if isinstance(value, int) and abs(value) <= 2**53 else number
    raise invalid(param, owner, "a finite number", value)


def _fmt(x: float) -> str:
    """A number for a message: ``1000``, ``13.8``, ``1e6``, ``1.8e308``."""
    x = float(x)
    if x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", f"{x:.3g}")


def _check_q(q: Any, owner: str) -> int | float:
    q = _plain(q)
    if not is_number(q) or not math.isfinite(_as_float(q)) or float(q) <= 0:
        raise invalid("q", owner, "a positive number", q)
    return q if isinstance(q, int) else float(q)


def _as_float(x: Any) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf


def _check_grid(
    owner: str, q: float, extremes: tuple[float, float], typical: tuple[float, float], where: str
) -> None:
    """Reject a ``q`` whose grid overflows over ``extremes`` or is finer than a float can resolve over ``typical``.

    Args:
        extremes: the smallest and largest value before rounding (the draw can reach them).
        typical: the values the expression mostly draws, where the grid must be exact.
        where: how the user wrote those values, for the message (e.g. ``"max(|min_value|, |max_value|)"``).
    """
    for x in extremes:
        with np.errstate(over="ignore", invalid="ignore"):
            k = np.float64(x) / q
            y = np.round(k) * q
        if not (math.isfinite(k) and math.isfinite(y)):
            raise invalid(
                "q",
                owner,
                f"large enough that round(x / q) * q stays finite for every value x the expression can draw "
                f"(x reaches {_fmt(x)}, and {_fmt(x)} / q overflows)",
                q,
            )
    reach = max(abs(t) for t in typical)
    if reach / q > _MAX_STEPS:
        raise invalid(
            "q",
            owner,
            f"at least {where} / 2**52 = {_fmt(reach / _MAX_STEPS)}: a finer grid than float resolution "
            "gives values that are not multiples of q",
            q,
        )


def _decimals(q: float) -> int:
    """Decimal places that represent multiples of ``q`` (0.05 -> 2, 1e-13 -> 13), to strip float noise."""
    text = repr(float(q))
    mantissa, _, exponent = text.partition("e")
    places = len(mantissa.split(".")[1].rstrip("0")) if "." in mantissa else 0
    return max(0, places - int(exponent or 0))


def _uniform_args(kind: str, low: Any, high: Any, strict: bool) -> tuple[Any, Any]:
    low = _finite(low, "min_value", kind)
    high = _finite(high, "max_value", kind)
    if (strict and not low < high) or (not strict and not low <= high):
        rule = f"{'greater than' if strict else 'at least'} min_value ({low!r})"
        raise invalid("max_value", kind, rule, high)
    if not math.isfinite(float(high) - float(low)):
        raise invalid(
            "max_value",
            kind,
            f"within {_fmt(_MAX_FLOAT)} of min_value: a draw is min_value + u * (max_value - min_value), and "
            f"{_fmt(high)} - {_fmt(low)} overflows; use bounds whose difference is finite, e.g. "
            f"{kind}({_fmt(low / 2)}, {_fmt(high / 2)})",
            high,
        )
    if kind in ("loguniform", "qloguniform") and float(high) > _MAX_EXP:
        hint = (
            f"for values between {_fmt(low)} and {_fmt(high)} use {kind}(log({_fmt(low)}), log({_fmt(high)})) = "
            f"{kind}({_fmt(math.log(low))}, {_fmt(math.log(high))})"
            if low > 0
            else f"exp({_MAX_EXP:.2f}) is about 1.8e308, the largest float"
        )
        raise invalid(
            "max_value",
            kind,
            f"at most {_MAX_EXP:.2f}: the bounds are exponents, and exp({_fmt(high)}) overflows; {hint}",
            high,
        )
    return low, high


def _normal_args(kind: str, mu: Any, sigma: Any) -> tuple[Any, Any]:
    mu = _finite(mu, "mu", kind)
    sigma = _finite(sigma, "sigma", kind)
    if sigma < 0:
        raise invalid("sigma", kind, "a non-negative number", sigma)
    sigma = (
        sigma + 0.0 if isinstance(sigma, float) else sigma
    )  # -0.0 is 0.0 (numpy refuses a negative zero scale)
    log = kind in ("lognormal", "qlognormal")
    limit = _MAX_EXP if log else _MAX_FLOAT
    reach = abs(float(mu)) + _Z_SAFE * float(sigma)
    if not (math.isfinite(reach) and reach <= limit):
        what = "exp(mu + 40 * sigma)" if log else "mu ± 40 * sigma"
        why = (
            f"{kind} is unbounded, and a draw of {what} must stay a finite float "
            f"(abs(mu) + 40 * sigma at most {_fmt(limit)}{', since mu and sigma are exponents' if log else ''})"
        )
        if abs(float(mu)) > limit or (
            abs(float(mu)) > limit / 2 and sigma <= limit / (2 * _Z_SAFE)
        ):
            hint = ""
            if log and mu > 0 and math.log(mu) + _Z_SAFE * sigma <= limit:
                hint = (
                    f"; exp(mu) is the median: for a median of {_fmt(mu)} use "
                    f"{kind}(log({_fmt(mu)}), {_fmt(sigma)}) = {kind}({_fmt(math.log(mu))}, {_fmt(sigma)})"
                )
            bound = _fmt(max(0.0, limit - _Z_SAFE * float(sigma)))
            raise invalid(
                "mu",
                kind,
                f"at most {bound} in absolute value when sigma is {_fmt(sigma)}: {why}{hint}",
                mu,
            )
        bound = _fmt((limit - abs(float(mu))) / _Z_SAFE)
        raise invalid("sigma", kind, f"at most {bound} when mu is {_fmt(mu)}: {why}", sigma)
    return mu, sigma


def _uniform_grid(kind: str, low: float, high: float, q: float, log: bool) -> None:
    ends = (math.exp(low), math.exp(high)) if log else (float(low), float(high))
    where = "max(exp(min_value), exp(max_value))" if log else "max(|min_value|, |max_value|)"
    _check_grid(kind, q, ends, ends, where)


def _normal_grid(kind: str, mu: float, sigma: float, q: float, log: bool) -> None:
    def ends(z: float) -> tuple[float, float]:
        lo, hi = float(mu) - z * float(sigma), float(mu) + z * float(sigma)
        return (math.exp(lo), math.exp(hi)) if log else (lo, hi)

    where = "exp(mu + 6 * sigma)" if log else "(|mu| + 6 * sigma)"
    _check_grid(kind, q, ends(_Z_SAFE), ends(_Z_UNIT), where)
