"""Parameter expressions and the search space.

The ten expressions have HyperDrive's meaning: ``loguniform(low, high)`` is ``exp(uniform(low, high))``
(its bounds are exponents), ``quniform(low, high, q)`` is ``round(uniform(low, high) / q) * q``, and so on.
Each expression validates its arguments, samples from a :class:`numpy.random.Generator`, round-trips to
plain data (HyperDrive's list form ``["uniform", [0, 1]]`` and the sweep-job dict form
``{"type": "uniform", "min_value": 0, "max_value": 1}``), and maps values to and from the unit interval
for the samplers (log scale for log expressions, the normal CDF for normal-family expressions).

Example:
    >>> import numpy as np
    >>> space = SearchSpace({"--lr": loguniform(-6, -1), "--batch": choice(16, 32, 64)})
    >>> sorted(space.sample(np.random.default_rng(0)))
    ['--batch', '--lr']
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from hypersweep._space_rules import (
    _EPS,
    _as_float,
    _check_q,
    _decimals,
    _ndtr,
    _ndtri,
    _normal_args,
    _normal_grid,
    _plain,
    _uniform_args,
    _uniform_grid,
)
from hypersweep._validation import invalid, is_number
from hypersweep.errors import InvalidConfigError

__all__ = [
    "Choice",
    "LogNormal",
    "LogUniform",
    "Normal",
    "ParameterExpression",
    "QLogNormal",
    "QLogUniform",
    "QNormal",
    "QUniform",
    "Randint",
    "SearchSpace",
    "Uniform",
    "choice",
    "expression_from_data",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]


class ParameterExpression(list):
    """Base class of the ten parameter expressions.

    As in HyperDrive, where an expression *is* a list, every expression is also its list form
    (``["uniform", [0, 1]]``): ``json.dumps`` writes it as such, and it compares equal to that list.

    Attributes:
        kind: HyperDrive's name of the expression (``"uniform"``, ``"choice"``, ...).
        is_discrete: True when the expression yields finitely many or integer-spaced values.
        is_categorical: True for ``choice`` (values without an order).
        log: True when samplers should model the value on a log scale.
    """

    kind: ClassVar[str]
    is_categorical: ClassVar[bool] = False
    log: ClassVar[bool] = False
    _yaml_keys: ClassVar[tuple[str, ...]]

    @property
    def args(self) -> list[Any]:
        """The arguments, in HyperDrive's order."""
        raise NotImplementedError

    @property
    def is_discrete(self) -> bool:
        return False

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """Draw one value (``size=None``) or a list of ``size`` values."""
        u = rng.random(1 if size is None else size)
        values = self.from_unit(u)
        return values[0] if size is None else values

    def to_unit(self, value: Any) -> float:
        """Map a value of this expression to [0, 1] (the inverse of :meth:`from_unit`)."""
        raise NotImplementedError

    def from_unit(self, u: Sequence[float] | np.ndarray) -> list[Any]:
        """Map points of [0, 1] to values of this expression (plain Python ints, floats or options)."""
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        """True if ``value`` is a value this expression can produce."""
        raise NotImplementedError

    def to_list(self) -> list[Any]:
        """HyperDrive's wire form, e.g. ``["uniform", [0.0, 1.0]]``."""
        return [self.kind, list(self.args)]

    def _as_list(self) -> None:
        """Make the list this expression is hold its wire form (called at the end of ``__init__``)."""
        self[:] = self.to_list()

    def to_dict(self) -> dict[str, Any]:
        """The sweep-job (YAML) form, e.g. ``{"type": "uniform", "min_value": 0.0, "max_value": 1.0}``."""
        return {"type": self.kind, **dict(zip(self._yaml_keys, self.args, strict=True))}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ParameterExpression):
            return self.to_list() == other.to_list()
        return isinstance(other, list) and self.to_list() == other

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:  # type: ignore[override]  # list declares itself unhashable; an expression is hashable
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"{self.kind}({', '.join(repr(a) for a in self.args)})"


class Choice(ParameterExpression):
    """A uniform pick from a list of values (numbers, strings, booleans, ...)."""

    kind = "choice"
    is_categorical = True
    _yaml_keys = ("values",)

    def __init__(self, values: Sequence[Any]) -> None:
        self.values: list[Any] = list(values)
        self._as_list()

    @property
    def args(self) -> list[Any]:
        return [self.values]

    @property
    def is_discrete(self) -> bool:
        return True

    def to_unit(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.values)

    def from_unit(self, u: Sequence[float] | np.ndarray) -> list[Any]:
        n = len(self.values)
        idx = np.clip(np.floor(np.asarray(u, dtype=float) * n), 0, n - 1).astype(int)
        return [self.values[i] for i in idx]

    def index(self, value: Any) -> int:  # type: ignore[override]  # searches the options, not the list form
        """Position of ``value`` among the options (type-aware, so 1 and True differ)."""
        for i, option in enumerate(self.values):
            if type(option) is type(value) and option == value:
                return i
        for i, option in enumerate(self.values):
            if option == value:
                return i
        raise ValueError(f"{value!r} is not one of {self.values!r}")

    def contains(self, value: Any) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"type": "choice", "values": list(self.values)}

    # -- nested choice support (see hypersweep.space_nested) --

    @property
    def enumerable(self) -> bool:
        """True when :meth:`options` lists every value (a nested choice with non-choice expressions is not)."""
        return True

    def options(self) -> list[Any]:
        """Every value this choice can produce (for grids)."""
        return list(self.values)


class Randint(ParameterExpression):
    """An integer in ``[0, upper)``."""

    kind = "randint"
    _yaml_keys = ("upper",)

    def __init__(self, upper: int) -> None:
        self.upper = upper
        self._as_list()

    @property
    def args(self) -> list[Any]:
        return [self.upper]

    @property
    def is_discrete(self) -> bool:
        return True

    def to_unit(self, value: Any) -> float:
        return (float(value) + 0.5) / self.upper

    def from_unit(self, u: Sequence[float] | np.ndarray) -> list[Any]:
        idx = np.clip(np.floor(np.asarray(u, dtype=float) * self.upper), 0, self.upper - 1)
        return [int(i) for i in idx]

    def contains(self, value: Any) -> bool:
        return is_number(value) and float(value).is_integer() and 0 <= value < self.upper


class _Quantized(ParameterExpression):
    """What ``uniform`` and ``normal`` share: two numbers and an optional ``q``, the ``exp`` of
    their ``log`` forms, and the rounding of the q-expressions, ``round(x / q) * q``."""

    q: float | None = None
    #: The attributes of the two numbers, and their sweep file keys.
    _numbers: ClassVar[tuple[str, str]]
    _number_keys: ClassVar[tuple[str, str]]

    @property
    def args(self) -> list[Any]:
        numbers = [getattr(self, name) for name in self._numbers]
        return numbers if self.q is None else [*numbers, self.q]

    @property
    def _yaml_keys(self) -> tuple[str, ...]:  # type: ignore[override]
        return (*self._number_keys, "q")[: len(self.args)]

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """From the sampled scale to values (``exp`` for the log forms)."""
        return np.exp(x) if self.log else x

    def _inverse(self, value: float) -> float:
        """From a value back to the sampled scale."""
        return math.log(max(value, 1e-300)) if self.log else value

    @property
    def is_discrete(self) -> bool:
        return self.q is not None

    def _integral(self) -> bool:
        return self.q is not None and float(self.q).is_integer()

    def _quantize(self, x: np.ndarray) -> list[Any]:
        if self.q is None:
            return [float(v) for v in x]
        y = np.round(x / self.q) * self.q
        if self._integral():
            return [int(v) for v in y]
        digits = _decimals(float(self.q))
        return [round(float(v), digits) for v in y]

    def _on_grid(self, value: Any) -> bool:
        if self.q is None:
            return True
        k = float(value) / self.q
        return abs(k - round(k)) < 1e-6 * max(1.0, abs(k))


class Uniform(_Quantized):
    """``uniform(low, high)``, ``loguniform`` (``exp`` of it) and their quantized forms."""

    kind = "uniform"
    _numbers = ("low", "high")
    _number_keys = ("min_value", "max_value")

    def __init__(self, low: float, high: float, q: float | None = None) -> None:
        self.low, self.high, self.q = low, high, q
        self._as_list()

    @property
    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value before quantization."""
        return float(self._forward(np.array(self.low))), float(self._forward(np.array(self.high)))

    def to_unit(self, value: Any) -> float:
        span = self.high - self.low
        if span == 0:
            return 0.5
        return float(np.clip((self._inverse(float(value)) - self.low) / span, 0.0, 1.0))

    def from_unit(self, u: Sequence[float] | np.ndarray) -> list[Any]:
        x = self.low + np.clip(np.asarray(u, dtype=float), 0.0, 1.0) * (self.high - self.low)
        return self._quantize(self._forward(x))

    def contains(self, value: Any) -> bool:
        if not is_number(value) or not math.isfinite(float(value)):
            return False
        lo, hi = self.bounds
        if self.q is not None:  # rounding may step up to half a quantum past a bound
            lo, hi = lo - self.q / 2, hi + self.q / 2
        tol = 1e-9 * max(1.0, abs(lo), abs(hi))
        return lo - tol <= float(value) <= hi + tol and self._on_grid(value)


class LogUniform(Uniform):
    """``exp(uniform(low, high))``: the bounds are exponents."""

    kind = "loguniform"
    log = True


class Normal(_Quantized):
    """``normal(mu, sigma)``, ``lognormal`` (``exp`` of it) and their quantized forms."""

    kind = "normal"
    _numbers = ("mu", "sigma")
    _number_keys = ("mu", "sigma")

    def __init__(self, mu: float, sigma: float, q: float | None = None) -> None:
        self.mu, self.sigma, self.q = mu, sigma, q
        self._as_list()

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        x = rng.normal(self.mu, self.sigma, 1 if size is None else size)
        values = self._quantize(self._forward(x))
        return values[0] if size is None else values

    def to_unit(self, value: Any) -> float:
        if self.sigma == 0:
            return 0.5
        z = (self._inverse(float(value)) - self.mu) / self.sigma
        return float(np.clip(_ndtr(z), _EPS, 1 - _EPS))

    def from_unit(self, u: Sequence[float] | np.ndarray) -> list[Any]:
        z = _ndtri(np.clip(np.asarray(u, dtype=float), _EPS, 1 - _EPS))
        return self._quantize(self._forward(self.mu + self.sigma * z))

    def contains(self, value: Any) -> bool:
        if not is_number(value) or not math.isfinite(float(value)):
            return False
        return (not self.log or float(value) >= 0) and self._on_grid(value)


class LogNormal(Normal):
    """``exp(normal(mu, sigma))``."""

    kind = "lognormal"
    log = True


class QUniform(Uniform):
    """``round(uniform(low, high) / q) * q``."""

    kind = "quniform"


class QLogUniform(LogUniform):
    """``round(exp(uniform(low, high)) / q) * q``."""

    kind = "qloguniform"


class QNormal(Normal):
    """``round(normal(mu, sigma) / q) * q``."""

    kind = "qnormal"


class QLogNormal(LogNormal):
    """``round(exp(normal(mu, sigma)) / q) * q``."""

    kind = "qlognormal"


# -- the ten functions users call ------------------------------------------------------------------


_CHOICE_RULE = (
    "numbers, strings, booleans, None, or lists and dicts of them (JSON data: a sweep stores each value "
    "and passes it to the trial)"
)


def _choice_value(value: Any, depth: int = 0) -> Any:
    """A choice option as plain JSON data (numpy values as Python ones), or raise naming what is wrong."""
    value = _plain(value)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise invalid("values", "choice", "finite numbers, strings or booleans", value)
        return value
    if isinstance(value, int):
        if not math.isfinite(_as_float(value)):
            raise invalid(
                "values", "choice", "finite numbers (integers within the float range)", value
            )
        return int(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid(
                "values", "choice", "strings that are valid Unicode (no lone surrogates)", value
            ) from None
        return str(value)
    if depth < 20 and isinstance(value, (list, tuple)):
        return [_choice_value(v, depth + 1) for v in value]
    if depth < 20 and isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _choice_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        raise invalid(
            "values",
            "choice",
            f"{_CHOICE_RULE}; a set has no order: pass sorted(...) or a list",
            value,
        )
    raise invalid("values", "choice", f"{_CHOICE_RULE}; a {type(value).__name__} is not", value)


def choice(*options: Any) -> Choice:
    """A uniform pick among ``options``: ``choice(1, 2, 3)``, ``choice([1, 2, 3])`` or ``choice(range(1, 4))``.

    As in HyperDrive, only a single list or ``range()`` is unpacked: ``choice((1, 2))`` has one option,
    the tuple ``(1, 2)``, and ``choice((1, 2), (3, 4))`` has two. A numpy array is a list
    (``choice(np.arange(3))`` is ``choice(0, 1, 2)``), numpy scalars are their Python values; options
    must be JSON data (numbers, strings, booleans, None, lists, dicts).
    """
    if not options:
        raise InvalidConfigError(
            "choice() needs at least one option: choice(1, 2), choice([1, 2]) or choice(range(1, 3))."
        )

    def is_list(option: Any) -> bool:
        if isinstance(option, np.ndarray):
            return bool(option.ndim)
        return isinstance(option, (list, range)) and not isinstance(option, ParameterExpression)

    if len(options) == 1 and is_list(options[0]):
        values = list(options[0])
    elif any(is_list(o) for o in options):
        raise InvalidConfigError(
            "choice() takes one non-empty list, one non-empty range() or several separate values, "
            f"not a mix of them. Got {options!r} instead."
        )
    else:
        values = list(options)
    if not values:
        raise InvalidConfigError(
            "choice() needs a non-empty list or range. Got an empty one instead."
        )
    if any(isinstance(v, Mapping) for v in values):  # branches: a nested (conditional) choice
        return nested_choice(values)
    return Choice([_choice_value(v) for v in values])


def randint(upper: int) -> Randint:
    """An integer in ``[0, upper)``; ``upper`` at most 2**53 (so that every integer below it can be drawn)."""
    upper = _plain(upper)
    if isinstance(upper, bool) or not isinstance(upper, int) or not 0 < upper <= 2**53:
        raise invalid("upper", "randint", "a positive integer, at most 2**53", upper)
    return Randint(int(upper))


def uniform(min_value: float, max_value: float) -> Uniform:
    """A float drawn uniformly from ``[min_value, max_value]``."""
    return Uniform(*_uniform_args("uniform", min_value, max_value, strict=True))


def quniform(min_value: float, max_value: float, q: float) -> Uniform:
    """``round(uniform(min_value, max_value) / q) * q``; an int when ``q`` and the bounds are integers."""
    low, high = _uniform_args("quniform", min_value, max_value, strict=True)
    q = _check_q(q, "quniform")
    _uniform_grid("quniform", low, high, q, log=False)
    return QUniform(low, high, q)


def loguniform(min_value: float, max_value: float) -> LogUniform:
    """``exp(uniform(min_value, max_value))``: the bounds are exponents (``loguniform(-6, -1)`` is in [e^-6, e^-1])."""
    return LogUniform(*_uniform_args("loguniform", min_value, max_value, strict=False))


def qloguniform(min_value: float, max_value: float, q: float) -> LogUniform:
    """``round(exp(uniform(min_value, max_value)) / q) * q``."""
    low, high = _uniform_args("qloguniform", min_value, max_value, strict=False)
    q = _check_q(q, "qloguniform")
    _uniform_grid("qloguniform", low, high, q, log=True)
    return QLogUniform(low, high, q)


def normal(mu: float, sigma: float) -> Normal:
    """A float drawn from the normal distribution N(mu, sigma) (unbounded)."""
    return Normal(*_normal_args("normal", mu, sigma))


def qnormal(mu: float, sigma: float, q: float) -> Normal:
    """``round(normal(mu, sigma) / q) * q``."""
    mu, sigma = _normal_args("qnormal", mu, sigma)
    q = _check_q(q, "qnormal")
    _normal_grid("qnormal", mu, sigma, q, log=False)
    return QNormal(mu, sigma, q)


def lognormal(mu: float, sigma: float) -> LogNormal:
    """``exp(normal(mu, sigma))``."""
    return LogNormal(*_normal_args("lognormal", mu, sigma))


def qlognormal(mu: float, sigma: float, q: float) -> LogNormal:
    """``round(exp(normal(mu, sigma)) / q) * q``."""
    mu, sigma = _normal_args("qlognormal", mu, sigma)
    q = _check_q(q, "qlognormal")
    _normal_grid("qlognormal", mu, sigma, q, log=True)
    return QLogNormal(mu, sigma, q)


_FACTORIES: dict[str, Any] = {
    "choice": choice,
    "randint": randint,
    "uniform": uniform,
    "quniform": quniform,
    "loguniform": loguniform,
    "qloguniform": qloguniform,
    "normal": normal,
    "qnormal": qnormal,
    "lognormal": lognormal,
    "qlognormal": qlognormal,
}
_YAML_KEYS: dict[str, tuple[str, ...]] = {
    "choice": ("values",),
    "randint": ("upper",),
    "uniform": ("min_value", "max_value"),
    "loguniform": ("min_value", "max_value"),
    "quniform": ("min_value", "max_value", "q"),
    "qloguniform": ("min_value", "max_value", "q"),
    "normal": ("mu", "sigma"),
    "lognormal": ("mu", "sigma"),
    "qnormal": ("mu", "sigma", "q"),
    "qlognormal": ("mu", "sigma", "q"),
}


def expression_from_data(data: Any, where: str = "search_space") -> ParameterExpression:
    """Rebuild an expression from its list form (``["uniform", [0, 1]]``) or dict form (``{"type": ...}``).

    Raises:
        InvalidConfigError: naming ``where`` and the faulty key when the data is not a valid expression.
    """
    if isinstance(data, ParameterExpression):
        return data
    kinds = ", ".join(_FACTORIES)
    if isinstance(data, (list, tuple)) and len(data) == 2 and isinstance(data[0], str):
        kind, args = data[0], data[1]
        if kind not in _FACTORIES:
            raise InvalidConfigError(
                f"{where}: unknown expression {kind!r}; expected one of {kinds}."
            )
        if kind == "choice":
            args = [args[0]] if isinstance(args, list) and len(args) == 1 else [args]
        keys = _YAML_KEYS[kind]
        if not isinstance(args, (list, tuple)) or (kind != "choice" and len(args) != len(keys)):
            raise InvalidConfigError(
                f"{where}: {kind} takes [{', '.join(keys)}] in the list form. Got {args!r} instead."
            )
        try:
            return _FACTORIES[kind](*args)
        except InvalidConfigError as exc:
            raise InvalidConfigError(f"{where}: {exc}") from None
    if isinstance(data, Mapping):
        given = data.get("type")
        if not isinstance(given, str) or given not in _FACTORIES:
            raise InvalidConfigError(f"{where}.type must be one of {kinds}. Got {given!r} instead.")
        kind = given
        keys = _YAML_KEYS[kind]
        unknown = sorted(set(data) - set(keys) - {"type"})
        if unknown:
            raise InvalidConfigError(
                f"{where}: unknown key {unknown[0]!r} for type {kind}; allowed keys: {', '.join(keys)}."
            )
        missing = [k for k in keys if k not in data]
        if missing:
            raise InvalidConfigError(f"{where}.{missing[0]} is required for type {kind}.")
        args = [data[k] for k in keys]
        if kind == "choice":
            if not isinstance(args[0], list):
                raise InvalidConfigError(f"{where}.values must be a list. Got {args[0]!r} instead.")
            try:
                return choice(args[0])
            except InvalidConfigError as exc:  # e.g. a nested choice's branch: name the parameter
                raise InvalidConfigError(f"{where}: {exc}") from None
        try:
            return _FACTORIES[kind](*args)
        except InvalidConfigError as exc:
            raise InvalidConfigError(f"{where}: {exc}") from None
    raise InvalidConfigError(
        f"{where} must be a parameter expression such as uniform(0, 1) or "
        f"{{type: uniform, min_value: 0, max_value: 1}}. Got {data!r} instead."
    )


# -- the search space ------------------------------------------------------------------------------


def flag_name(name: str) -> str:
    """The command-line flag for a parameter name: ``lr`` -> ``--lr``; ``--lr`` and ``-l`` unchanged."""
    return name if name.startswith("-") else f"--{name}"


def plain_name(name: str) -> str:
    """The name without leading dashes: ``--batch-size`` -> ``batch-size``."""
    return name.lstrip("-")


class SearchSpace(dict[str, ParameterExpression]):
    """An ordered mapping of parameter names to expressions.

    It is a ``dict`` of expressions, as a HyperDrive search space is, so ``json.dumps(space)`` gives
    HyperDrive's ``parameter_space`` form (``{"--lr": ["uniform", [0, 1]]}``). It is not meant to be changed.

    Args:
        parameter_space: ``{name: expression}``; names may carry their flag dashes (``"--lr"``).
            Expressions may also be given in their list or dict form.
    """

    def __init__(self, parameter_space: Mapping[str, Any], owner: str = "HyperDriveConfig") -> None:
        if not isinstance(parameter_space, Mapping) or not parameter_space:
            raise invalid(
                "parameter_space", owner, "a non-empty dict of name -> expression", parameter_space
            )
        self._exprs: dict[str, ParameterExpression] = {}
        seen: dict[str, str] = {}
        for name, data in parameter_space.items():
            if not isinstance(name, str) or not plain_name(name):
                raise invalid("parameter_space", owner, "keyed by non-empty names", name)
            if plain_name(name) in seen:
                raise InvalidConfigError(
                    f"The parameter_space of {owner} names the same parameter twice: "
                    f"{seen[plain_name(name)]!r} and {name!r}."
                )
            seen[plain_name(name)] = name
            self._exprs[name] = expression_from_data(data, where=f"parameter_space[{name!r}]")
        super().__init__(self._exprs)

    def __getitem__(self, name: str) -> ParameterExpression:
        return self._exprs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._exprs)

    def __len__(self) -> int:
        return len(self._exprs)

    def __repr__(self) -> str:
        return f"SearchSpace({self._exprs!r})"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One configuration drawn independently per parameter."""
        return {name: expr.sample(rng) for name, expr in self._exprs.items()}

    def from_unit(self, point: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """The configuration at a point of the unit cube (one coordinate per parameter)."""
        return {
            name: expr.from_unit([u])[0]
            for (name, expr), u in zip(self._exprs.items(), point, strict=True)
        }

    def to_unit(self, config: Mapping[str, Any]) -> np.ndarray:
        """The unit-cube point of a configuration."""
        return np.array([expr.to_unit(config[name]) for name, expr in self._exprs.items()])

    def contains(self, config: Mapping[str, Any]) -> bool:
        """True if ``config`` has exactly this space's names and every value is possible."""
        return set(config) == set(self._exprs) and all(
            expr.contains(config[name]) for name, expr in self._exprs.items()
        )

    @property
    def is_finite(self) -> bool:
        """True when every parameter is a ``choice`` (so the space can be enumerated)."""
        return all(isinstance(e, Choice) and e.enumerable for e in self._exprs.values())

    def grid_size(self) -> int:
        """Number of configurations of an all-``choice`` space."""
        return math.prod(len(e.options()) for e in self._exprs.values() if isinstance(e, Choice))

    def iter_grid(self) -> Iterator[dict[str, Any]]:
        """Every configuration of an all-``choice`` space, in odometer order (last parameter fastest)."""
        names = list(self._exprs)
        lists = [self._exprs[n].options() for n in names]  # type: ignore[attr-defined]
        for combo in itertools.product(*lists):
            yield dict(zip(names, combo, strict=True))

    def to_list(self) -> dict[str, list[Any]]:
        """HyperDrive's ``parameter_space`` wire form."""
        return {name: expr.to_list() for name, expr in self._exprs.items()}

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The sweep-job (YAML) ``search_space`` form."""
        return {name: expr.to_dict() for name, expr in self._exprs.items()}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SearchSpace:
        """Rebuild from :meth:`to_list` or :meth:`to_dict` output."""
        return cls(data)


# -- nested (conditional) choice: a choice of branches, each a mapping of names to values or
# expressions (see hypersweep.space_nested for the flat views the samplers and tables use) --------

_NESTED_OWNER = "choice"


def _kind(value: Any) -> str:
    """The type of a branch value, for the rule that a key has one type across branches."""
    if isinstance(value, NestedChoice):
        return "nested choice"
    if isinstance(value, Choice):
        kinds = {_kind(v) for v in value.values}
        return kinds.pop() if len(kinds) == 1 else "mixed"
    if isinstance(value, ParameterExpression):
        return "number"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, str):
        return "str"
    if value is None:
        return "null"
    return type(value).__name__


def _branch_value(value: Any, where: str) -> Any:
    """A branch's value: an expression (object, or its dict form) or a fixed scalar."""
    if isinstance(value, ParameterExpression):
        return value
    if isinstance(value, Mapping):
        return expression_from_data(value, where=where)
    if isinstance(value, float) and not math.isfinite(value):
        raise invalid(
            where, _NESTED_OWNER, "a finite number, a string, a boolean or an expression", value
        )
    if value is None or isinstance(value, (str, numbers.Real, bool)):
        return value
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, (str, numbers.Real, bool)) for v in value
    ):
        return list(value)
    raise invalid(
        where, _NESTED_OWNER, "a fixed value (number, string, boolean) or an expression", value
    )


def nested_choice(values: Sequence[Any]) -> NestedChoice:
    """Validate the branches of a nested choice and build it.

    Raises:
        InvalidConfigError: a value is not a mapping, a branch is empty, a key is not a non-empty
            string, or the same key has different types in two branches.
    """
    branches: list[dict[str, Any]] = []
    kinds: dict[str, tuple[int, str]] = {}
    for i, branch in enumerate(values):
        if not isinstance(branch, Mapping):
            raise invalid(
                f"values[{i}]",
                _NESTED_OWNER,
                "a mapping like the other values (a nested choice has only "
                "branches of name -> value)",
                branch,
            )
        if not branch:
            raise invalid(
                f"values[{i}]",
                _NESTED_OWNER,
                "a non-empty branch of name -> value or expression",
                dict(branch),
            )
        out: dict[str, Any] = {}
        for key, value in branch.items():
            if not isinstance(key, str) or not key.strip():
                raise invalid(f"values[{i}]", _NESTED_OWNER, "keyed by non-empty names", key)
            out[key] = _branch_value(value, f"values[{i}].{key}")
            kind = _kind(out[key])
            if key in kinds and kinds[key][1] != kind:
                j, other = kinds[key]
                raise invalid(
                    f"values[{i}].{key}",
                    _NESTED_OWNER,
                    f"of the same type as in values[{j}] ({other}), since both branches name {key!r}",
                    value,
                )
            kinds.setdefault(key, (i, kind))
        branches.append(out)
    return NestedChoice(branches)


def _data(value: Any) -> Any:
    return value.to_dict() if isinstance(value, ParameterExpression) else value


class NestedChoice(Choice):
    """A uniform pick of one branch, then a sample of that branch's expressions (see the module doc)."""

    def __init__(self, values: Sequence[Mapping[str, Any]]) -> None:
        super().__init__([dict(b) for b in values])

    @property
    def enumerable(self) -> bool:
        """True when every expression inside every branch is a (finite) choice."""
        return all(
            not isinstance(v, ParameterExpression) or (isinstance(v, Choice) and v.enumerable)
            for branch in self.values
            for v in branch.values()
        )

    def options(self) -> list[dict[str, Any]]:
        """Every concrete branch (for grids): each branch with every combination of its choices."""
        out: list[dict[str, Any]] = []
        for branch in self.values:
            keys = list(branch)
            lists = [
                branch[k].options() if isinstance(branch[k], Choice) else [branch[k]] for k in keys
            ]
            out += [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*lists)]
        return out

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        draws = []
        for _ in range(1 if size is None else size):
            branch = self.values[int(rng.integers(len(self.values)))]
            draws.append(
                {
                    k: v.sample(rng) if isinstance(v, ParameterExpression) else v
                    for k, v in branch.items()
                }
            )
        return draws[0] if size is None else draws

    def from_unit(self, u: Sequence[float] | np.ndarray) -> list[Any]:
        """The branch at each point, its expressions at their middle (use :class:`UnitView` for more)."""
        n = len(self.values)
        idx = np.clip(np.floor(np.asarray(u, dtype=float) * n), 0, n - 1).astype(int)
        return [
            {
                k: v.from_unit([0.5])[0] if isinstance(v, ParameterExpression) else v
                for k, v in self.values[i].items()
            }
            for i in idx
        ]

    def index(self, value: Any) -> int:  # type: ignore[override]  # searches the branches, not the list form
        """The branch ``value`` (a dict) was drawn from."""
        if isinstance(value, Mapping):
            for i, branch in enumerate(self.values):
                if set(branch) == set(value) and all(
                    v.contains(value[k])
                    if isinstance(v, ParameterExpression)
                    else same_value(v, value[k])
                    for k, v in branch.items()
                ):
                    return i
        raise ValueError(f"{value!r} is no branch of {self!r}")

    def to_list(self) -> list[Any]:
        return ["choice", [[{k: _data(v) for k, v in b.items()} for b in self.values]]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "choice",
            "values": [{k: _data(v) for k, v in b.items()} for b in self.values],
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NestedChoice) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:  # type: ignore[override]  # list declares itself unhashable; an expression is hashable
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"choice({', '.join(repr(b) for b in self.values)})"


def same_value(a: Any, b: Any) -> bool:
    """True for equal fixed values of the same kind (``1`` and ``1.0`` are; ``True`` and ``1`` are not)."""
    return (
        type(a) is type(b)
        and a == b
        or (
            isinstance(a, numbers.Real)
            and isinstance(b, numbers.Real)
            and not isinstance(a, bool)
            and not isinstance(b, bool)
            and a == b
        )
    )
