"""Sweep files: Azure ML's sweep-job YAML, validated into a ``HyperDriveConfig``.

Example file::

    type: sweep
    experiment_name: iris
    trial:
      code: .
      command: python train.py --C ${{search_space.C}} --kernel ${{search_space.kernel}}
    search_space:
      C: {type: loguniform, min_value: -3, max_value: 3}
      kernel: {type: choice, values: [linear, rbf]}
    sampling_algorithm: {type: random, seed: 1}
    objective: {primary_metric: accuracy, goal: maximize}
    early_termination: {type: median_stopping, evaluation_interval: 1, delay_evaluation: 5}
    limits: {max_total_trials: 20, max_concurrent_trials: 4, timeout: 3600, trial_timeout: 600}
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hypersweep.config import HyperDriveConfig, ScriptRunConfig
from hypersweep.errors import InvalidConfigError
from hypersweep.sampling.base import HyperParameterSampling

_TOP = {
    "$schema", "type", "name", "display_name", "experiment_name", "description", "tags",
    "sampling_algorithm", "search_space", "objective", "early_termination", "limits", "compute",
    "trial", "inputs", "outputs", "identity",
}
_TRIAL = {"command", "code", "environment", "environment_variables", "distribution", "resources"}
_LIMITS = {"max_total_trials", "max_concurrent_trials", "timeout", "trial_timeout"}
_OBJECTIVE = {"goal", "primary_metric"}
_SAMPLING = {"type", "seed", "rule", "logbase"}


@dataclass
class SweepFile:
    """A validated sweep file."""

    config: HyperDriveConfig
    experiment_name: str
    display_name: str | None
    tags: dict[str, str]
    path: Path


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            also = f" Did you mean {hint[0]!r}?" if hint else f" Allowed keys: {', '.join(sorted(allowed))}."
            raise InvalidConfigError(f"{where}{key} is not a known key.{also}")


def _section(data: Mapping[str, Any], key: str, where: str = "", required: bool = True) -> Any:
    if key not in data or data[key] is None:
        if required:
            raise InvalidConfigError(f"{where}{key} is required but missing from the sweep file.")
        return None
    return data[key]


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidConfigError(f"{where} must be a mapping of keys to values. Got {value!r} instead.")
    return value


def _sampling(data: Any, space: Mapping[str, Any]) -> HyperParameterSampling:
    from hypersweep import sampling as sampling_mod

    if isinstance(data, str):
        data = {"type": data}
    data = dict(_mapping(data, "sampling_algorithm"))
    _check_keys(data, _SAMPLING, "sampling_algorithm.")
    kind = str(data.pop("type", "")).lower()
    classes = {
        "random": "RandomParameterSampling",
        "grid": "GridParameterSampling",
        "bayesian": "BayesianParameterSampling",
    }
    if kind not in classes:
        raise InvalidConfigError(
            f"sampling_algorithm.type must be one of random, grid, bayesian. Got {kind or None!r} instead."
        )
    cls = getattr(sampling_mod, classes[kind], None)
    if cls is None:
        raise InvalidConfigError(f"sampling_algorithm {kind!r} is not available in this version.")
    properties = {k: v for k, v in data.items() if v is not None}
    if kind == "random":
        return cls(space, properties=properties or None)
    extra = sorted(set(properties) - {"seed"})
    if extra:
        raise InvalidConfigError(f"sampling_algorithm.{extra[0]} applies only to type random.")
    return cls(space, properties=properties or None)


def _inputs(data: Any, base: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in _mapping(data or {}, "inputs").items():
        if isinstance(value, Mapping):
            if "path" in value:
                path = Path(str(value["path"])).expanduser()
                out[name] = str(path if path.is_absolute() else (base / path).resolve())
            elif "value" in value:
                out[name] = str(value["value"])
            else:
                raise InvalidConfigError(f"inputs.{name} needs a 'path' or a 'value'.")
        else:
            out[name] = str(value)
    return out


def load_sweep_file(path: str | Path) -> SweepFile:
    """Read and validate a sweep file.

    Raises:
        InvalidConfigError: naming the faulty field, for any invalid or missing part.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise InvalidConfigError(f"Cannot read the sweep file {path}: {exc.strerror}.") from None
    except yaml.YAMLError as exc:
        raise InvalidConfigError(f"{path} is not valid YAML: {exc}") from None
    data = _mapping(raw, f"The sweep file {path}")
    _check_keys(data, _TOP, "")
    if data.get("type", "sweep") != "sweep":
        raise InvalidConfigError(f"type must be 'sweep'. Got {data.get('type')!r} instead.")
    compute = data.get("compute")
    if not (compute in (None, "local", "ray") or (isinstance(compute, str) and compute.startswith("ray://"))):
        raise InvalidConfigError(
            f"compute must be 'local' (the default), 'ray' or 'ray://HOST:PORT'. Got {compute!r} instead."
        )
    base = path.resolve().parent

    trial = _mapping(_section(data, "trial"), "trial")
    _check_keys(trial, _TRIAL, "trial.")
    command = _section(trial, "command", "trial.")
    if not isinstance(command, str) or not command.strip():
        raise InvalidConfigError(f"trial.command must be a command string. Got {command!r} instead.")
    code = Path(str(trial.get("code") or ".")).expanduser()
    code = code if code.is_absolute() else base / code
    if not code.is_dir():
        raise InvalidConfigError(f"trial.code must be an existing folder. Got {str(code)!r} instead.")
    env = _mapping(trial.get("environment_variables") or {}, "trial.environment_variables")
    resources = dict(_mapping(trial.get("resources") or {}, "trial.resources"))
    instances = resources.pop("instance_count", 1)
    if instances != 1:
        raise InvalidConfigError(f"trial.resources.instance_count must be 1. Got {instances!r} instead.")

    space = _mapping(_section(data, "search_space"), "search_space")
    for name, expr in space.items():
        _mapping(expr, f"search_space.{name}")
    objective = _mapping(_section(data, "objective"), "objective")
    _check_keys(objective, _OBJECTIVE, "objective.")
    metric = _section(objective, "primary_metric", "objective.")
    goal = _section(objective, "goal", "objective.")
    if str(goal).lower() not in ("maximize", "minimize"):
        raise InvalidConfigError(f"objective.goal must be 'maximize' or 'minimize'. Got {goal!r} instead.")

    limits = _mapping(data.get("limits") or {}, "limits")
    _check_keys(limits, _LIMITS, "limits.")
    timeout = limits.get("timeout")
    trial_timeout = limits.get("trial_timeout")
    for key, value in (("timeout", timeout), ("trial_timeout", trial_timeout)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            raise InvalidConfigError(f"limits.{key} must be a positive number of seconds. Got {value!r} instead.")

    from hypersweep.policy import policy_from_data

    try:
        run_config = ScriptRunConfig(
            source_directory=code,
            command=command,
            environment_variables={str(k): str(v) for k, v in env.items()},
            inputs=_inputs(data.get("inputs"), base),
            compute_target=compute,
            resources=resources,
        )
        sampling = _sampling(_section(data, "sampling_algorithm"), space)
        config = HyperDriveConfig(
            run_config=run_config,
            hyperparameter_sampling=sampling,
            primary_metric_name=str(metric),
            primary_metric_goal=str(goal),
            max_total_runs=limits.get("max_total_trials", 1000),
            max_concurrent_runs=limits.get("max_concurrent_trials"),
            max_duration_minutes=(timeout / 60.0) if timeout else 10080,
            policy=policy_from_data(data.get("early_termination")),
            trial_timeout=trial_timeout,
        )
    except InvalidConfigError as exc:
        message = str(exc)
        for ours, theirs in (
            ("'max_total_runs' parameter of HyperDriveConfig", "limits.max_total_trials"),
            ("'max_concurrent_runs' parameter of HyperDriveConfig", "limits.max_concurrent_trials"),
            ("parameter_space[", "search_space["),
            ("'resources' parameter of ScriptRunConfig", "trial.resources"),
            ("parameter of ScriptRunConfig", "of trial.resources"),
        ):
            message = message.replace(ours, theirs)
        raise InvalidConfigError(message) from None
    tags = {str(k): str(v) for k, v in _mapping(data.get("tags") or {}, "tags").items()}
    return SweepFile(
        config=config,
        experiment_name=str(data.get("experiment_name") or base.name or "default"),
        display_name=data.get("display_name") or data.get("name"),
        tags=tags,
        path=path,
    )
