"""The extra sampler-benchmark problems: each stated optimum is attained at its stated argmin.

``benchmarks/sampler_problems.py`` is loaded by path (as the benchmark harness loads it) and given
a stand-in for the harness's ``Problem`` class, so these tests need no copy of the harness.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "sampler_problems.py"


@dataclass
class Problem:
    """The fields of the harness's Problem that the extra problems use."""

    name: str
    space: dict[str, list[Any]]
    objective: Callable[[dict[str, Any]], float]
    optimum: float | None
    kind: str = "synthetic"
    notes: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sampler_problems_under_test", PATH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MOD = _load()
PROBLEMS: dict[str, Problem] = MOD.extra(Problem)


def _sample(space: dict[str, list[Any]], rng: np.random.Generator) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, expr in space.items():
        kind = expr[0]
        if kind == "uniform":
            out[name] = float(rng.uniform(expr[1], expr[2]))
        elif kind == "loguniform":
            out[name] = float(math.exp(rng.uniform(expr[1], expr[2])))
        elif kind == "quniform":
            _, low, high, q = expr
            out[name] = int(round(round(rng.uniform(low, high) / q) * q))
        elif kind == "choice":
            out[name] = expr[1][int(rng.integers(len(expr[1])))]
        else:
            raise AssertionError(f"unexpected expression {expr!r}")
    return out


def _in_space(space: dict[str, list[Any]], params: dict[str, Any]) -> bool:
    assert set(params) == set(space)
    for name, expr in space.items():
        v, kind = params[name], expr[0]
        if kind == "uniform" and not expr[1] <= v <= expr[2]:
            return False
        if kind == "loguniform" and not math.exp(expr[1]) * (1 - 1e-12) <= v <= math.exp(
            expr[2]
        ) * (1 + 1e-12):
            return False
        if kind == "quniform" and (
            not expr[1] <= v <= expr[2] or (v / expr[3]) != round(v / expr[3])
        ):
            return False
        if kind == "choice" and v not in expr[1]:
            return False
    return True


def _clean(problem: Problem) -> Callable[[dict[str, Any]], float]:
    """The noise-free objective (the objective itself for noise-free problems)."""
    fn: Callable[[dict[str, Any]], float] = problem.meta.get("noise_free", problem.objective)
    return fn


def test_names_are_the_documented_ones() -> None:
    assert tuple(PROBLEMS) == MOD.NAMES
    assert all(p.name == name for name, p in PROBLEMS.items())


@pytest.mark.parametrize("name", MOD.NAMES)
def test_optimum_is_attained_at_the_stated_argmin(name: str) -> None:
    p = PROBLEMS[name]
    argmin = p.meta["argmin"]
    assert p.optimum is not None
    assert _in_space(p.space, argmin)
    assert _clean(p)(argmin) == pytest.approx(p.optimum, abs=1e-6)


@pytest.mark.parametrize("name", MOD.NAMES)
def test_optimum_is_below_random_points(name: str) -> None:
    p = PROBLEMS[name]
    assert p.optimum is not None
    rng = np.random.default_rng(0)
    clean = _clean(p)
    for _ in range(2000):
        x = _sample(p.space, rng)
        assert clean(x) >= p.optimum - 1e-9


@pytest.mark.parametrize("name", MOD.NAMES)
def test_no_better_point_near_the_argmin(name: str) -> None:
    """Small moves from the argmin inside the box do not improve: it is a local minimum."""
    p = PROBLEMS[name]
    argmin = p.meta["argmin"]
    rng = np.random.default_rng(1)
    clean = _clean(p)
    f0 = clean(argmin)
    for _ in range(200):
        x = dict(argmin)
        for k, expr in p.space.items():
            if expr[0] == "uniform":
                width = expr[2] - expr[1]
                x[k] = float(np.clip(x[k] + rng.normal(0, 1e-3 * width), expr[1], expr[2]))
        assert clean(x) >= f0 - 1e-9


def test_face_minimum_lies_on_the_boundary() -> None:
    p = PROBLEMS["face6"]
    on_bound = [v in (0.0, 1.0) for v in p.meta["argmin"].values()]
    assert sum(on_bound) == 4


def test_noise_is_deterministic_and_has_the_stated_scale() -> None:
    p = PROBLEMS["noisy_hartmann6"]
    rng = np.random.default_rng(2)
    xs = [_sample(p.space, rng) for _ in range(500)]
    noise = np.array([p.objective(x) - p.meta["noise_free"](x) for x in xs])
    assert [p.objective(x) for x in xs[:20]] == [p.objective(dict(x)) for x in xs[:20]]
    assert abs(noise.mean()) < 0.01
    assert noise.std() == pytest.approx(p.meta["noise_sd"], rel=0.15)


def test_mixed_best_lr_depends_on_batch() -> None:
    p = PROBLEMS["mixed6"]
    best = dict(p.meta["argmin"])
    other_batch = dict(best, batch=64)
    assert p.objective(other_batch) > p.objective(best) + 0.2
