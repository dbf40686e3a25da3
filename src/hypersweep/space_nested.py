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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hypersweep.space import (  # built with the other expressions: choice() makes them
    Choice,
    NestedChoice,
    ParameterExpression,
    expression_from_data,
    nested_choice,
    same_value,
)

__all__ = ["INACTIVE", "NestedChoice", "UnitView", "flat_values", "nested_choice"]

_OWNER = "choice"


class _Inactive:
    """The value of a column whose branch is not the chosen one."""

    def __repr__(self) -> str:
        return "INACTIVE"


INACTIVE = _Inactive()


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

    def _flatten(
        self, name: str, expr: ParameterExpression, value: Any, out: dict[str, Any]
    ) -> None:
        if not isinstance(expr, NestedChoice):
            out[name] = value
            return
        chosen = -1 if value is INACTIVE else expr.index(value)
        out[name] = INACTIVE if value is INACTIVE else str(chosen)
        for i, branch in enumerate(expr.values):
            for key, sub in branch.items():
                if isinstance(sub, ParameterExpression):
                    self._flatten(
                        f"{name}[{i}].{key}", sub, value[key] if i == chosen else INACTIVE, out
                    )

    def unflatten(self, flat: Mapping[str, Any]) -> dict[str, Any]:
        """The configuration that column values describe (inactive columns are ignored)."""
        return {name: self._unflatten(name, expr, flat) for name, expr in self.space.items()}

    def _unflatten(self, name: str, expr: ParameterExpression, flat: Mapping[str, Any]) -> Any:
        if not isinstance(expr, NestedChoice):
            return flat[name]
        i = int(flat[name])
        return {
            key: self._unflatten(f"{name}[{i}].{key}", sub, flat)
            if isinstance(sub, ParameterExpression)
            else sub
            for key, sub in expr.values[i].items()
        }

    def from_unit(self, point: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """The configuration at a point of the unit cube (one coordinate per column)."""
        flat = {
            name: expr.from_unit([u])[0]
            for (name, expr), u in zip(self.columns.items(), point, strict=True)
        }
        return self.unflatten(flat)


def flat_parameters(
    parameter_space: Mapping[str, Any],
) -> list[tuple[str, ParameterExpression | list[Any]]]:
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
                    if not isinstance(fixed, ParameterExpression) and not any(
                        same_value(value, v) for v in fixed
                    ):
                        fixed.append(value)
    return list(out.items())
