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
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hypersweep._validation import invalid
from hypersweep.config import HyperDriveConfig, ScriptRunConfig
from hypersweep.errors import InvalidConfigError
from hypersweep.sampling.base import HyperParameterSampling

_TOP = {
    "$schema", "type", "name", "display_name", "experiment_name", "description", "tags",
    "sampling_algorithm", "search_space", "objective", "early_termination", "limits", "compute",
    "trial", "inputs", "outputs", "identity", "queue_settings", "services", "properties",
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


def load_sweep_file(
    path: str | Path,
    *,
    sets: Sequence[str] = (),
    compute: str | None = None,
    workspace: str | Path | None = None,
) -> SweepFile:
    """Read and validate a sweep file.

    Args:
        path: the YAML file.
        sets: ``KEY.PATH=VALUE`` overrides applied before validation (``hypersweep run --set``).
        compute: the compute target, in place of the file's ``compute`` (``hypersweep run --compute``).
        workspace: the workspace whose cache holds inputs given as http(s) URLs (default: the current folder).

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
    raw = apply_overrides(raw, sets)
    return sweep_from_data(raw, path, compute=compute, workspace=workspace)


def sweep_from_data(
    raw: Any,
    path: Path,
    *,
    compute: str | None = None,
    workspace: str | Path | None = None,
) -> SweepFile:
    """Validate a sweep job given as data (a parsed YAML file, or a v2 ``SweepJob``'s dump).

    Args:
        raw: the job's mapping.
        path: the file it comes from; relative paths in it are relative to its folder.
        compute: a compute target in place of the job's ``compute``.
        workspace: the workspace whose cache holds inputs given as http(s) URLs.
    """
    path = Path(path)
    data = _mapping(raw, f"The sweep file {path}")
    check_job_type(data)
    _check_keys(data, _TOP, "")
    if data.get("type", "sweep") != "sweep":
        raise InvalidConfigError(f"type must be 'sweep'. Got {data.get('type')!r} instead.")
    compute = compute_target(data.get("compute"), compute)
    base = path.resolve().parent
    v2_notices(data)

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
    resources = v2_resources(trial.get("resources"))

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
            inputs=_inputs(data.get("inputs"), base, workspace),
            outputs=output_names(data.get("outputs")),
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
            ("'command' parameter of ScriptRunConfig", "'trial.command' of the sweep file"),
            ("parameter of ScriptRunConfig", "of trial.resources"),
        ):
            message = message.replace(ours, theirs)
        raise InvalidConfigError(message) from None
    tags = v2_tags(data)
    return SweepFile(
        config=config,
        experiment_name=str(data.get("experiment_name") or base.name or "default"),
        display_name=data.get("display_name") or data.get("name"),
        tags=tags,
        path=path,
    )


# -- Azure ML v2 sweep jobs as published: overrides, compute, inputs, outputs, accepted keys ---------

_RUN = "hypersweep run"
_CLOUD_SCHEMES = ("azureml:", "wasbs://", "wasb://", "abfss://", "abfs://", "adl://", "s3://", "gs://")
_INPUT_KEYS = {"type", "path", "value", "default", "mode", "description", "optional"}
_INPUT_TYPES = {
    "uri_file", "uri_folder", "mltable", "mlflow_model", "custom_model", "triton_model",
    "string", "integer", "number", "boolean",
}
_OUTPUT_KEYS = {"type", "mode", "path", "description", "name", "version"}
_OUTPUT_TYPES = {"uri_folder", "uri_file", "mltable", "mlflow_model", "custom_model", "triton_model"}
_RESOURCE_KEYS = {"instance_type", "instance_count", "shm_size", "properties", "locations", "num_cpus", "num_gpus",
                  "resources"}


def _notice(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=4)


def apply_overrides(data: Any, sets: Sequence[str]) -> Any:
    """Apply ``KEY.PATH=VALUE`` overrides to a parsed sweep file, as ``az ml job create --set`` does.

    Each value is parsed as YAML (``6`` is a number, ``true`` a boolean, ``./iris.csv`` a string).
    Every part of the path but the last must exist (list items by index); the last may be new.

    Raises:
        InvalidConfigError: a malformed override, or a path that does not exist (listing the keys there).
    """
    if not sets:
        return data
    if not isinstance(data, Mapping):
        raise invalid("--set", _RUN, "applied to a sweep file that is a mapping", type(data).__name__)
    data = _copy(data)
    for item in sets:
        if not isinstance(item, str) or "=" not in item:
            raise invalid("--set", _RUN, "KEY.PATH=VALUE, such as limits.max_total_trials=6", item)
        key, _, text = item.partition("=")
        parts = key.strip().split(".")
        if not key.strip() or any(not p.strip() or p != p.strip() for p in parts):
            raise invalid("--set", _RUN, "a dotted path of non-empty keys before '=', such as inputs.iris_csv.path", item)
        if not text.strip():
            raise invalid("--set", _RUN, f"a value after '=' (for {key})", item)
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or "not valid YAML"
            raise invalid("--set", _RUN, f"a value that is a valid YAML scalar ({problem})", item) from None
        if isinstance(value, (dict, list)) and not text.strip().startswith(("{", "[")):
            value = text  # "Note: x" is a string, not a mapping; write {a: 1} or [1, 2] for those
        node: Any = data
        for depth, part in enumerate(parts):
            here = ".".join(parts[:depth]) or "the top level"
            last = depth == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise invalid("--set", _RUN, f"a path that exists: {here} is a list of {len(node)} items, "
                                  f"indexed 0 to {len(node) - 1}", item)
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                elif part not in node or not isinstance(node[part], (dict, list)):
                    keys = ", ".join(map(str, node)) or "none"
                    what = "does not exist" if part not in node else "is not a mapping or a list"
                    raise invalid("--set", _RUN, f"a path that exists: {'.'.join(parts[:depth + 1])} {what}; "
                                  f"the keys at {here} are: {keys}", item)
                else:
                    node = node[part]
            else:
                raise invalid("--set", _RUN, f"a path that exists: {here} is a value, not a mapping", item)
    return data


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def check_job_type(data: Mapping[str, Any]) -> None:
    """A pipeline job is refused with a message that says what can be run instead."""
    if data.get("type") == "pipeline":
        raise InvalidConfigError(
            "This is an Azure ML pipeline job (type: pipeline); hypersweep does not run pipeline jobs. "
            "The sweep step's own YAML (a file with type: sweep, its trial, search_space, objective and "
            "limits) can be run: hypersweep run SWEEP_STEP.yml."
        )


def compute_target(value: Any, override: str | None) -> str | None:
    """The compute target: ``--compute``, else the file's ``compute``; a cluster name runs locally (with a warning)."""
    if override is not None:
        if override not in ("local", "ray") and not re.fullmatch(r"ray://[^\s/:]+(:\d+)?", str(override)):
            raise invalid("--compute", _RUN, "'local', 'ray' or 'ray://HOST:PORT'", override)
        return override
    if value in (None, "local", "ray") or (isinstance(value, str) and value.startswith("ray://")):
        return value
    if not isinstance(value, str) or not value.strip():
        raise invalid("compute", "the sweep file", "a compute name such as azureml:cpu-cluster, local, ray or "
                      "ray://HOST:PORT", value)
    _notice(f"compute: {value!r} is an Azure ML cluster; the trials run on this machine (the local target). "
            "Choose the target with --compute local|ray|ray://HOST:PORT.")
    return None


def v2_resources(data: Any) -> dict[str, Any]:
    """``trial.resources``: v2's instance_type, instance_count and shm_size are accepted (with a warning);
    num_cpus, num_gpus and resources are the request of each trial on a Ray cluster."""
    resources = dict(_mapping(data or {}, "trial.resources"))
    _check_keys(resources, _RESOURCE_KEYS, "trial.resources.")
    count = resources.pop("instance_count", None)
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise invalid("instance_count", "trial.resources", "a positive integer", count)
        if count != 1:
            _notice(f"trial.resources.instance_count ({count}): each trial runs as one process on one machine.")
    for key, what in (("instance_type", "the trials run on this machine"),
                      ("shm_size", "the trials use this machine's shared memory"),
                      ("properties", "it applies to Azure ML clusters only"),
                      ("locations", "the trials run on this machine")):
        if key in resources:
            value = resources.pop(key)
            if key in ("instance_type", "shm_size") and not isinstance(value, str):
                raise invalid(key, "trial.resources", "a string such as 'Standard_DS3_v2' or '2g'", value)
            _notice(f"trial.resources.{key} ({value!r}) is not used: {what}.")
    return resources


def v2_notices(data: Mapping[str, Any]) -> None:
    """One warning for each accepted v2 key that has no local effect, saying what is done instead."""
    trial = data.get("trial") if isinstance(data.get("trial"), Mapping) else {}
    env = trial.get("environment")
    if env is not None:
        if not isinstance(env, (str, Mapping)):
            raise invalid("environment", "trial", "an environment name (azureml:NAME@latest) or a mapping", env)
        _notice(f"trial.environment ({env if isinstance(env, str) else 'inline'}) is not built: the trials "
                f"run in this Python ({sys.executable}) with its installed packages.")
    dist = trial.get("distribution")
    if dist is not None:
        if not isinstance(dist, Mapping):
            raise invalid("distribution", "trial", "a mapping such as {type: pytorch}", dist)
        _notice(f"trial.distribution (type {dist.get('type')!r}) is not set up: each trial runs as one process.")
    for key, what in (
        ("identity", "the trials run as you, with your credentials"),
        ("queue_settings", "trials start as soon as a slot is free; there is no job queue"),
        ("services", "no services (Jupyter, SSH, TensorBoard) are started for the trials"),
        ("properties", "kept with the sweep as tags"),
        ("description", "kept with the sweep as the tag 'description'"),
        ("display_name", "kept with the sweep as the tag 'display_name'"),
    ):
        if data.get(key) is not None:
            value = data[key]
            if key in ("identity", "queue_settings", "services", "properties") and not isinstance(value, Mapping):
                raise invalid(key, "the sweep file", "a mapping", value)
            if key in ("description", "display_name") and not isinstance(value, str):
                raise invalid(key, "the sweep file", "a string", value)
            _notice(f"{key}: {what}.")
    sampling = data.get("sampling_algorithm")
    if isinstance(sampling, Mapping) and sampling.get("logbase") is not None:
        base = sampling["logbase"]
        if base != "e" and (isinstance(base, bool) or not isinstance(base, (int, float)) or base <= 0):
            raise invalid("logbase", "sampling_algorithm", "a positive number or 'e'", base)
        _notice(f"sampling_algorithm.logbase ({base!r}) is not used: log expressions sample with base e, as "
                "HyperDrive's loguniform and lognormal do.")


def v2_tags(data: Mapping[str, Any]) -> dict[str, str]:
    """The sweep's tags: ``tags``, then ``properties``, ``description`` and ``display_name``."""
    tags = {str(k): str(v) for k, v in _mapping(data.get("tags") or {}, "tags").items()}
    for k, v in (data.get("properties") or {}).items():
        tags.setdefault(str(k), str(v))
    for key in ("description", "display_name"):
        if data.get(key) is not None:
            tags.setdefault(key, str(data[key]))
    return tags


def _inputs(data: Any, base: Path, workspace: str | Path | None = None) -> dict[str, str]:
    """Each input as the string its ``${{inputs.NAME}}`` becomes: a literal, a local path, or the cached
    copy of an http(s) URL. A cloud location is an error that shows the ``--set`` replacing it."""
    out: dict[str, str] = {}
    for name, value in _mapping(data or {}, "inputs").items():
        where = f"inputs.{name}"
        if not isinstance(value, Mapping):
            if isinstance(value, (list, tuple)):
                raise invalid(where, "the sweep file", "a literal value or a mapping with path or value", value)
            out[name] = str(value)
            continue
        _check_keys(value, _INPUT_KEYS, f"{where}.")
        kind = value.get("type")
        if kind is not None and kind not in _INPUT_TYPES:
            raise invalid("type", where, f"one of {', '.join(sorted(_INPUT_TYPES))}", kind)
        if value.get("mode") is not None:
            _notice(f"{where}.mode ({value['mode']!r}) is not used: the input is read in place on this machine.")
        if "path" in value:
            out[name] = _input_path(value["path"], where, base, workspace)
        elif "value" in value or "default" in value:
            out[name] = str(value["value"] if "value" in value else value["default"])
        else:
            raise InvalidConfigError(f"{where} needs a 'path' or a 'value'.")
    return out


def _input_path(path: Any, where: str, base: Path, workspace: str | Path | None) -> str:
    field = f"{where}.path"
    if not isinstance(path, str) or not path.strip():
        raise invalid("path", where, "a local path or an http(s) URL", path)
    if path.startswith(_CLOUD_SCHEMES):
        local = "./" + (Path(path.split("?")[0].rstrip("/")).name or "DATA")
        raise InvalidConfigError(
            f"The 'path' parameter of {where} must be a local path or an http(s) URL. Got {path!r} instead: "
            "a cloud location (an Azure ML asset or datastore, or blob storage) that hypersweep cannot read "
            f"here. Download it and pass the local copy: hypersweep run FILE --set {field}={local} "
            f"(in Python: Input(path={local!r}))."
        )
    if path.startswith(("https://", "http://")):
        from hypersweep._download import CACHE_DIR, fetch_input
        from hypersweep.store import STATE_DIR

        root = Path(workspace) if workspace is not None else Path.cwd()
        return str(fetch_input(path, root.expanduser().resolve() / STATE_DIR / CACHE_DIR, field))
    local = Path(path.removeprefix("file://")).expanduser()
    local = local if local.is_absolute() else (base / local).resolve()
    if not local.exists():
        raise invalid("path", where, "an existing file or folder (relative paths start at the sweep file's folder)",
                      str(local))
    return str(local)


def output_names(data: Any) -> list[str]:
    """The names of ``outputs``: each a folder ``outputs/NAME`` of every run (``${{outputs.NAME}}``)."""
    names: list[str] = []
    for name, value in _mapping(data or {}, "outputs").items():
        where = f"outputs.{name}"
        if value is not None:
            value = _mapping(value, where)
            _check_keys(value, _OUTPUT_KEYS, f"{where}.")
            kind = value.get("type")
            if kind is not None and kind not in _OUTPUT_TYPES:
                raise invalid("type", where, f"one of {', '.join(sorted(_OUTPUT_TYPES))}", kind)
            for key in ("mode", "path"):
                if value.get(key) is not None:
                    _notice(f"{where}.{key} ({value[key]!r}) is not used: the output is the folder "
                            f"outputs/{name} of each run.")
        names.append(str(name))
    return names
