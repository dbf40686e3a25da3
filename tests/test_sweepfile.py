"""Sweep files: every malformed file is one clean InvalidConfigError (exit 2 in the CLI), never a traceback."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypersweep.errors import InvalidConfigError
from hypersweep.experiment import _NAME
from hypersweep.sweepfile import MAX_DEPTH, MAX_NODES, SweepFile, load_sweep_file

BASES: list[dict[str, Any]] = [
    {
        "type": "sweep",
        "experiment_name": "fuzz",
        "display_name": "a fuzzed sweep",
        "description": "random sampling with a policy",
        "tags": {"team": "vision", "round": 2},
        "trial": {
            "code": ".",
            "command": "python train.py --lr ${{search_space.lr}} --k ${{search_space.k}} --data ${{inputs.data}}",
            "environment_variables": {"OMP_NUM_THREADS": 1, "MODE": "fast"},
            "resources": {"num_cpus": 1},
        },
        "inputs": {"data": {"path": "."}, "n": {"value": 3}},
        "search_space": {
            "lr": {"type": "loguniform", "min_value": -6, "max_value": -1},
            "k": {"type": "choice", "values": ["a", "b", 3, 2.5, True]},
        },
        "sampling_algorithm": {"type": "random", "seed": 3, "rule": "random"},
        "objective": {"primary_metric": "acc", "goal": "maximize"},
        "early_termination": {
            "type": "bandit",
            "slack_factor": 0.1,
            "evaluation_interval": 1,
            "delay_evaluation": 2,
        },
        "limits": {
            "max_total_trials": 8,
            "max_concurrent_trials": 2,
            "timeout": 600,
            "trial_timeout": 60,
        },
        "compute": "local",
    },
    {
        "type": "sweep",
        "trial": {"command": "python train.py --a ${{search_space.a}} --b ${{search_space.b}}"},
        "search_space": {
            "a": {"type": "choice", "values": [1, 2, 4]},
            "b": {"type": "choice", "values": ["x", "y"]},
        },
        "sampling_algorithm": "grid",
        "objective": {"primary_metric": "loss", "goal": "minimize"},
        "early_termination": {
            "type": "median_stopping",
            "evaluation_interval": 1,
            "delay_evaluation": 5,
        },
        "limits": {"max_total_trials": 6},
    },
    {
        "type": "sweep",
        "trial": {
            "code": ".",
            "command": "python t.py --x ${{search_space.x}} --n ${{search_space.n}}",
        },
        "search_space": {
            "x": {"type": "quniform", "min_value": 0, "max_value": 10, "q": 1},
            "n": {"type": "normal", "mu": 0, "sigma": 1},
        },
        "sampling_algorithm": {"type": "bayesian", "seed": 1},
        "objective": {"primary_metric": "acc", "goal": "maximize"},
        "limits": {"max_total_trials": 40, "max_concurrent_trials": 4},
    },
]

DEEP = "DEEP-NESTING-HERE"
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.just(10**400),
    st.just(-(10**400)),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, -0.0, 1e-320]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "[/mnt/data]",
            "[bold]x",
            "\x1b[31mred",
            "a\rb",
            "\x00",
            "\ud800",
            "日本語",
            "~nobody-xyz/x",
            "${{inputs.nope}}",
            "${{search_space.zz}}",
            "${{oops}}",
            "'unbalanced",
            "a" * 300,
            "uniform",
            "choice",
            "random",
            "grid",
            "bayesian",
            "maximize",
            "bandit",
            "2024-01-31",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just(DEEP),
)
ANY_VALUE = st.recursive(
    ODD_VALUES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the document: each key of each mapping and each item of each list."""
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, (*prefix, i))
    return out


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    """A valid sweep file with one to three mutations: replace, delete, nest, add a placeholder, break bytes."""
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    depth = draw(st.sampled_from([MAX_DEPTH - 5, MAX_DEPTH + 5, 3000]))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        op = draw(st.sampled_from(["replace", "replace", "delete", "nest", "placeholder", "key"]))
        if not path:
            if op == "replace":
                doc = draw(ANY_VALUE)
            continue
        parent = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            current = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        last = path[-1]
        if op == "replace":
            parent[last] = draw(ANY_VALUE)
        elif op == "delete" and isinstance(parent, dict):
            del parent[last]
        elif op == "nest":
            parent[last] = [current] if draw(st.booleans()) else {"nested": current}
        elif op == "placeholder":
            where = draw(
                st.sampled_from(
                    [
                        "search_space.lr",
                        "inputs.data",
                        "inputs.missing",
                        "search_space.missing",
                        "bad",
                        " search_space.k ",
                    ]
                )
            )
            parent[last] = f"{current} ${{{{{where}}}}}"
        elif op == "key" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["unknown", 1, None, True, "type", "values", "seed"]))] = (
                draw(ANY_VALUE)
            )
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=10_000)
    text = text.replace(DEEP, "[" * depth + "]" * depth)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # break the encoding
        at = draw(st.integers(0, len(data)))
        data = (
            data[:at]
            + draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3", b"\x80abc", b"\xed\xa0\x80"]))
            + data[at:]
        )
    return data


def check_accepted(spec: SweepFile) -> None:
    """What a run of an accepted file needs works: a configuration, its command, its JSON record, its names."""
    config = spec.config
    space = config.hyperparameter_sampling.space
    sample = space.sample(np.random.default_rng(0))
    argv = config.run_config.build_argv(config.run_config.build_arguments(sample))
    for word in argv:
        os.fsencode(word)
        assert "\x00" not in word
    json.dumps(config.describe(), allow_nan=False)
    json.dumps(sample, allow_nan=False)
    json.dumps(spec.tags, allow_nan=False).encode("utf-8")
    for name, value in config.run_config.environment_variables.items():
        os.fsencode(name), os.fsencode(value)
        assert name and "=" not in name and "\x00" not in name + value
    assert _NAME.fullmatch(spec.experiment_name)


def load_or_clean_error(path: Path) -> SweepFile | None:
    """Load the file: accepted (then usable) or one InvalidConfigError with a one-paragraph message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            spec = load_sweep_file(path)
        except InvalidConfigError as exc:
            message = str(exc)
            assert message and len(message) < 2000 and "Traceback" not in message
            return None
    check_accepted(spec)
    return spec


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    for script in (
        "train.py",
        "t.py",
    ):  # the scripts the bases' commands run (checked at submission)
        (tmp_path / script).write_text("print('hi')\n")
    return tmp_path


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=mutated_files())
def test_mutated_sweep_files_load_or_fail_with_one_clean_error(sweep_dir, data) -> None:
    path = sweep_dir / "sweep.yml"
    path.write_bytes(data)
    load_or_clean_error(path)


def test_the_bases_are_valid(sweep_dir) -> None:
    for base in BASES:
        path = sweep_dir / "sweep.yml"
        path.write_text(yaml.safe_dump(base))
        assert load_or_clean_error(path) is not None, base


def _write(sweep_dir: Path, text: str | bytes) -> Path:
    path = sweep_dir / "sweep.yml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


HEAD = """type: sweep
trial: {code: ., command: "python train.py --x ${{search_space.x}}"}
objective: {primary_metric: acc, goal: maximize}
sampling_algorithm: random
"""
SPACE = "search_space: {x: {type: uniform, min_value: 0, max_value: 1}}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HEAD + "search_space: {x: {type: [uniform], min_value: 0, max_value: 1}}",
            "search_space['x'].type must be one of choice, randint",
        ),
        (
            HEAD + "search_space: {x: {type: {a: 1}, min_value: 0, max_value: 1}}",
            "search_space['x'].type must be one of",
        ),
        (
            HEAD + SPACE + "limits: {max_total_trials: 1" + "0" * 400 + "}",
            "limits.max_total_trials must be an integer between -9223372036854775808 and 9223372036854775807. "
            "Got an integer of 401 digits instead.",
        ),
        (
            HEAD.replace("random", "{type: random, seed: 1" + "0" * 400 + "}") + SPACE,
            "sampling_algorithm.seed must be an integer",
        ),
        (
            HEAD.replace("sampling_algorithm: random", "")
            + SPACE
            + "sampling_algorithm: {type: random, seed: 99999999999999999999}",
            "sampling_algorithm.seed must be an integer between",
        ),
        (
            HEAD.replace("--x", "${{inputs.data}} --x") + SPACE,
            "trial.command refers to ${{inputs.data}}, which inputs does not define",
        ),
        (
            HEAD.replace("--x", "${{outputs.model}} --x") + SPACE,
            "${{outputs.model}}, which outputs does not define",
        ),
        (HEAD.replace("train.py", "'train.py") + SPACE, "trial.command must split into words"),
        (
            "search_space: " + "[" * 3000 + "]" * 3000,
            f"deeper than the limit of {MAX_DEPTH} levels",
        ),
        (b"type: sweep\n\xff\xfe\n", "is not UTF-8 text: byte 0xff at line 2"),
        (HEAD + SPACE + "limits: 0", "limits must be a mapping of keys to values. Got 0 instead."),
        (
            HEAD + SPACE + "limits: []",
            "limits must be a mapping of keys to values. Got [] instead.",
        ),
        (HEAD + SPACE + "tags: 0", "tags must be a mapping"),
        (HEAD + SPACE + "tags: {a: [1, 2]}", "tags.a must be a string, a number or a boolean"),
        (HEAD + SPACE + "limits: {timeout: .inf}", "limits.timeout must be a finite number"),
        (
            HEAD + SPACE + "limits: {max_total_trials: .nan}",
            "limits.max_total_trials must be a finite number",
        ),
        (HEAD + SPACE + "description: !!binary aGVsbG8=", "description must be plain YAML data"),
        (HEAD + SPACE + 'tags: {a: "\\0"}', "tags.a must not contain a NUL character"),
        (HEAD + SPACE + 'tags: {a: "\\uD800"}', "tags.a must be valid Unicode text"),
        (HEAD.replace("code: .", "code: [a]") + SPACE, "trial.code must be a path"),
        (
            HEAD.replace("code: .", "code: ~nobody-such-user-xyz/src") + SPACE,
            "trial.code cannot be expanded",
        ),
        (
            HEAD.replace("code: .", "code: " + "a" * 300) + SPACE,
            "trial.code must be an existing folder",
        ),
        (
            HEAD.replace("primary_metric: acc", "primary_metric: [acc]") + SPACE,
            "objective.primary_metric must be",
        ),
        (
            HEAD.replace("goal: maximize", "goal: [maximize]") + SPACE,
            "objective.goal must be 'maximize' or 'minimize'",
        ),
        (
            HEAD + "search_space: {x: {type: choice, values: [[1, 2], 3]}}",
            "search_space.x.values[0] must be a string",
        ),
        (HEAD + SPACE + "experiment_name: 'a b'", "experiment_name must be 1-255 letters"),
        (HEAD + SPACE + "early_termination: 3", "early_termination must be a mapping"),
        (
            HEAD.replace("sampling_algorithm: random", "sampling_algorithm: [random]") + SPACE,
            "sampling_algorithm must be a mapping",
        ),
    ],
)
def test_each_malformed_field_is_one_clear_error(sweep_dir, text, message) -> None:
    path = _write(sweep_dir, text)
    with pytest.raises(InvalidConfigError) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load_sweep_file(path)
    assert message in " ".join(str(info.value).split())


def _bomb(where: str) -> str:
    """A billion-laughs document: nine levels of nine aliases each (9**9 strings once expanded), about 1 KB."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    body = "x-anchors:\n" + "".join(f"  {line}\n" for line in lines)
    heads = {
        "choice": HEAD + "search_space: {x: {type: choice, values: *i}}\n",
        "tags": HEAD + SPACE + "tags: {t: *i}\n",
        "environment_variables": HEAD.replace('"}', '", environment_variables: {E: *i}}') + SPACE,
    }
    return body + heads[where]


@pytest.mark.parametrize("where", ["choice", "tags", "environment_variables"])
def test_an_alias_bomb_is_refused_before_it_is_built(sweep_dir, where) -> None:
    text = _bomb(where)
    assert len(text) < 1500
    path = _write(sweep_dir, text)
    started = time.monotonic()
    with pytest.raises(InvalidConfigError) as info:
        load_sweep_file(path)
    assert time.monotonic() - started < 5
    message = " ".join(str(info.value).split())
    assert str(path) in message and f"more than the limit of {MAX_NODES:,}" in message


def test_a_recursive_alias_is_refused(sweep_dir) -> None:
    path = _write(sweep_dir, HEAD + SPACE + "tags: &t {a: *t}\n")
    with pytest.raises(InvalidConfigError, match="recursive structure"):
        load_sweep_file(path)


def test_a_few_aliases_and_merge_keys_still_load(sweep_dir) -> None:
    text = """\ufefftype: sweep
trial: {code: ., command: "python train.py --a ${{search_space.a}} --b ${{search_space.b}} --c ${{search_space.c}} --d ${{search_space.d}}"}
search_space:
  a: &common {type: choice, values: &sizes [16, 32, 64]}
  b: {<<: *common}
  c: {type: choice, values: *sizes}
  d: {type: choice, values: [2024-01-31, 2.5]}
sampling_algorithm: grid
objective: {primary_metric: acc, goal: maximize}
limits: {max_total_trials: 54}
"""
    spec = load_or_clean_error(_write(sweep_dir, text))
    assert spec is not None
    space = spec.config.hyperparameter_sampling.space
    assert space["a"].values == space["b"].values == space["c"].values == [16, 32, 64]
    assert space["d"].values == ["2024-01-31", 2.5]  # a date stays the text it was written as


def hypersweep(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hypersweep", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_bomb("tags"), "more than the limit of 100,000"),
        (
            HEAD + "search_space: {x: {type: [uniform], min_value: 0, max_value: 1}}",
            "search_space['x'].type must be one of",
        ),
        (
            HEAD + SPACE + "limits: {max_total_trials: 1" + "0" * 400 + "}",
            "limits.max_total_trials must be an integer",
        ),
        ("search_space: " + "[" * 3000 + "]" * 3000, "deeper than the limit"),
        (b"type: sweep\n\xff\xfe\n", "is not UTF-8 text"),
        (
            HEAD + SPACE + "limits: []",
            "limits must be a mapping of keys to values. Got [] instead.",
        ),
        (
            HEAD
            + "search_space: {x: {type: choice, values: ['[/mnt/data]', 2]}}\nlimits: {max_total_trials: '[/x]'}",
            "Got '[/x]' instead",
        ),
    ],
)
def test_the_cli_exits_2_with_one_message_and_writes_nothing(sweep_dir, text, message) -> None:
    _write(sweep_dir, text)
    done = hypersweep("run", "sweep.yml", cwd=sweep_dir)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.startswith("Error: ")
    assert message in " ".join(done.stderr.split())
    assert not (sweep_dir / ".hypersweep").exists()
