"""Noise-free scoring of benchmark records for the noisy extra problems."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "sampler_extra_regret.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sampler_extra_regret_under_test", PATH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MOD = _load()
POINT = {f"x{i}": 0.5 for i in range(6)}


def _record(problem: str) -> dict[str, object]:
    return {
        "problem": problem,
        "sampler": "s",
        "batch": 1,
        "seed": 0,
        "status": "ok",
        "best": -9.0,
        "best_params": POINT,
        "best_so_far": {"0.25": 1.0, "0.5": 0.5, "0.75": -1.0, "1.0": -9.0},
        "values": [1.23456789, -9.0],
        "gaps_ms": [0.123456, 1.0],
    }


def test_noisy_record_is_scored_on_the_noise_free_value_of_its_best_configuration() -> None:
    clean = MOD.noise_free_functions()
    assert set(clean) == {"noisy_hartmann6"}
    out = MOD.denoise(_record("noisy_hartmann6"), clean)
    expected = clean["noisy_hartmann6"](POINT)
    assert out["best"] == pytest.approx(expected)
    assert out["best_so_far"]["1.0"] == out["best"]
    assert out["best_so_far"]["0.5"] == 0.5
    assert out["observed_best"] == -9.0


def test_other_records_are_unchanged() -> None:
    rec = _record("branin")
    assert MOD.denoise(rec, MOD.noise_free_functions()) is rec


def test_command_line_denoises_and_compacts(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps(_record("noisy_hartmann6")) + "\n" + json.dumps(_record("branin")) + "\n"
    )
    dst = tmp_path / "out.jsonl"
    MOD.main([str(src), "--out", str(dst), "--compact"])
    noisy, other = (json.loads(line) for line in dst.read_text().splitlines())
    assert noisy["best"] != -9.0 and other["best"] == -9.0
    assert other["values"] == [1.23457, -9.0] and other["gaps_ms"] == [0.12, 1.0]


def test_ratio_table_names_the_best_sampler() -> None:
    summary = {
        "cells": {
            "p|a|1": {"problem": "p", "sampler": "a", "batch": 1, "mean_regret": 2.0},
            "p|b|1": {"problem": "p", "sampler": "b", "batch": 1, "mean_regret": 0.5},
        }
    }
    table = MOD.ratio_table(summary, "a")
    assert "| p | 1 | 2 | b | 0.5 | 4 |" in table
    assert "1 (best)" in MOD.ratio_table(summary, "b")
