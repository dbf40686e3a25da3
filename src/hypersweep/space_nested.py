"""Nested (conditional) choice: a ``choice`` whose values are branches of fixed values and expressions.

As in Azure ML's sweep jobs, each trial samples one branch, then that branch's expressions; the
run's value for the parameter is that branch alone, a dict::

    choice({"model": "svm", "C": loguniform(-3, 3)}, {"model": "rf", "n_estimators": choice(50, 100)})
    # -> {"model": "svm", "C": 0.31} or {"model": "rf", "n_estimators": 100}

In YAML::

    search_space:
      model:
        type: choice
        values:
          - {model: svm, C: {type: loguniform, min_value: -3, max_value: 3}}
          - {model: rf, n_estimators: {type: choice, values: [50, 100]}}

Samplers that need one coordinate per dimension (Sobol points, Bayesian optimization) use
:class:`UnitView`: the branch index is a categorical column and every expression of every branch a
column of its own, at a fixed value (:data:`INACTIVE`) where its branch is not the chosen one.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hypersweep._validation import invalid
from hypersweep.space import Choice, ParameterExpression, expression_from_data

__all__ = ["INACTIVE", "NestedChoice", "UnitView", "flat_values", "nested_choice"]

_OWNER = "choice"


class _Inactive:
    """The value of a column whose branch is not the chosen one."""

    def __repr__(self) -> str:
        return "INACTIVE"


INACTIVE = _Inactive()


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
        raise invalid(where, _OWNER, "a finite number, a string, a boolean or an expression", value)
    if value is None or isinstance(value, (str, numbers.Real, bool)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, numbers.Real, bool)) for v in value):
        return list(value)
    raise invalid(where, _OWNER, "a fixed value (number, string, boolean) or an expression", value)


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
            raise invalid(f"values[{i}]", _OWNER, "a mapping like the other values (a nested choice has only "
                          "branches of name -> value)", branch)
        if not branch:
            raise invalid(f"values[{i}]", _OWNER, "a non-empty branch of name -> value or expression", dict(branch))
        out: dict[str, Any] = {}
        for key, value in branch.items():
            if not isinstance(key, str) or not key.strip():
                raise invalid(f"values[{i}]", _OWNER, "keyed by non-empty names", key)
            out[key] = _branch_value(value, f"values[{i}].{key}")
            kind = _kind(out[key])
            if key in kinds and kinds[key][1] != kind:
                j, other = kinds[key]
                raise invalid(f"values[{i}].{key}", _OWNER,
                              f"of the same type as in values[{j}] ({other}), since both branches name {key!r}",
                              value)
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
            for branch in self.values for v in branch.values()
        )

    def options(self) -> list[dict[str, Any]]:
        """Every concrete branch (for grids): each branch with every combination of its choices."""
        out: list[dict[str, Any]] = []
        for branch in self.values:
            keys = list(branch)
            lists = [branch[k].options() if isinstance(branch[k], Choice) else [branch[k]] for k in keys]
            out += [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*lists)]
        return out

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        draws = []
        for _ in range(1 if size is None else size):
            branch = self.values[int(rng.integers(len(self.values)))]
            draws.append({k: v.sample(rng) if isinstance(v, ParameterExpression) else v for k, v in branch.items()})
        return draws[0] if size is None else draws

    def from_unit(self, u: Sequence[float] | np.ndarray) -> list[Any]:
        """The branch at each point, its expressions at their middle (use :class:`UnitView` for more)."""
        n = len(self.values)
        idx = np.clip(np.floor(np.asarray(u, dtype=float) * n), 0, n - 1).astype(int)
        return [
            {k: v.from_unit([0.5])[0] if isinstance(v, ParameterExpression) else v for k, v in self.values[i].items()}
            for i in idx
        ]

    def index(self, value: Any) -> int:
        """The branch ``value`` (a dict) was drawn from."""
        if isinstance(value, Mapping):
            for i, branch in enumerate(self.values):
                if set(branch) == set(value) and all(
                    v.contains(value[k]) if isinstance(v, ParameterExpression) else _same(v, value[k])
                    for k, v in branch.items()
                ):
                    return i
        raise ValueError(f"{value!r} is no branch of {self!r}")

    def to_list(self) -> list[Any]:
        return ["choice", [[{k: _data(v) for k, v in b.items()} for b in self.values]]]

    def to_dict(self) -> dict[str, Any]:
        return {"type": "choice", "values": [{k: _data(v) for k, v in b.items()} for b in self.values]}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NestedChoice) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"choice({', '.join(repr(b) for b in self.values)})"


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (
        isinstance(a, numbers.Real) and isinstance(b, numbers.Real)
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b
    )


def flat_values(config: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration with each nested choice's branch in place of its name: what a v1 script
    receives as ``--key value`` pairs, a callable as keys, and what tables show."""
    out: dict[str, Any] = {}
    for name, value in config.items():
        if isinstance(value, Mapping):
            out.update(flat_values(value))
        else:
            out[name] = value
    return out


def has_nested(space: Mapping[str, ParameterExpression]) -> bool:
    """True when the space has a nested choice."""
    return any(isinstance(e, NestedChoice) for e in space.values())


class UnitView:
    """A search space with one column per dimension, for samplers that work on the unit cube.

    A nested choice ``name`` becomes the column ``name`` (its branch, as a categorical ``choice``
    of labels ``"0"``, ``"1"``, ...) and a column ``name[i].key`` for each expression ``key`` of
    branch ``i``; a plain expression is its own column.
    """

    def __init__(self, space: Mapping[str, ParameterExpression]) -> None:
        self.space = space
        self.columns: dict[str, ParameterExpression] = {}
        for name, expr in space.items():
            self._add(name, expr)

    def _add(self, name: str, expr: ParameterExpression) -> None:
        if not isinstance(expr, NestedChoice):
            self.columns[name] = expr
            return
        self.columns[name] = Choice([str(i) for i in range(len(expr.values))])
        for i, branch in enumerate(expr.values):
            for key, value in branch.items():
                if isinstance(value, ParameterExpression):
                    self._add(f"{name}[{i}].{key}", value)

    def flatten(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Column values of a configuration (:data:`INACTIVE` where a branch is not chosen).

        Raises:
            KeyError, ValueError: the configuration is not one of this space.
        """
        out: dict[str, Any] = {}
        for name, expr in self.space.items():
            self._flatten(name, expr, config[name], out)
        return out

    def _flatten(self, name: str, expr: ParameterExpression, value: Any, out: dict[str, Any]) -> None:
        if not isinstance(expr, NestedChoice):
            out[name] = value
            return
        chosen = -1 if value is INACTIVE else expr.index(value)
        out[name] = INACTIVE if value is INACTIVE else str(chosen)
        for i, branch in enumerate(expr.values):
            for key, sub in branch.items():
                if isinstance(sub, ParameterExpression):
                    self._flatten(f"{name}[{i}].{key}", sub, value[key] if i == chosen else INACTIVE, out)

    def unflatten(self, flat: Mapping[str, Any]) -> dict[str, Any]:
        """The configuration that column values describe (inactive columns are ignored)."""
        return {name: self._unflatten(name, expr, flat) for name, expr in self.space.items()}

    def _unflatten(self, name: str, expr: ParameterExpression, flat: Mapping[str, Any]) -> Any:
        if not isinstance(expr, NestedChoice):
            return flat[name]
        i = int(flat[name])
        return {
            key: self._unflatten(f"{name}[{i}].{key}", sub, flat) if isinstance(sub, ParameterExpression) else sub
            for key, sub in expr.values[i].items()
        }

    def from_unit(self, point: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """The configuration at a point of the unit cube (one coordinate per column)."""
        flat = {name: expr.from_unit([u])[0] for (name, expr), u in zip(self.columns.items(), point, strict=True)}
        return self.unflatten(flat)


def flat_parameters(parameter_space: Mapping[str, Any]) -> list[tuple[str, ParameterExpression | list[Any]]]:
    """The columns a table shows for a stored search space: a plain parameter as itself, a nested
    choice as the keys of its branches (each with its expression, or the list of its fixed values)."""
    out: dict[str, Any] = {}
    for name, data in parameter_space.items():
        expr = expression_from_data(data, where=f"parameter_space[{name!r}]")
        if not isinstance(expr, NestedChoice):
            out.setdefault(name, expr)
            continue
        for branch in expr.values:
            for key, value in branch.items():
                if isinstance(value, ParameterExpression):
                    out.setdefault(key, value)
                else:
                    fixed = out.setdefault(key, [])
                    if not isinstance(fixed, ParameterExpression) and not any(_same(value, v) for v in fixed):
                        fixed.append(value)
    return list(out.items())
