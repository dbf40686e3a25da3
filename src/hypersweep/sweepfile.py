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

Reading is bounded: a file is at most :data:`MAX_FILE_BYTES`, and what its YAML describes once every
alias (``*name``) is expanded is at most :data:`MAX_NODES` nodes, :data:`MAX_CHARS` characters of
scalars and :data:`MAX_DEPTH` levels of nesting (so an alias bomb is refused before it is built).
Every value is then checked for its type before it is used: a mapping where a mapping is expected,
a string where a string is expected, integers within SQLite's 64-bit range, finite floats, strings
without NUL characters or lone surrogates. Any problem is one :class:`InvalidConfigError` that
names the field.
"""

from __future__ import annotations

import difflib
import math
import re
import shlex
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hypersweep._validation import invalid
from hypersweep.config import _PLACEHOLDER, HyperDriveConfig, ScriptRunConfig
from hypersweep.errors import InvalidConfigError
from hypersweep.sampling.base import SAMPLERS, HyperParameterSampling

MAX_FILE_BYTES = 1024 * 1024
"""The largest sweep file read (1 MiB)."""
MAX_NODES = 100_000
"""The most YAML nodes (scalars, lists, mappings) a sweep file may describe, aliases expanded."""
MAX_CHARS = 10_000_000
"""The most characters of scalar text a sweep file may describe, aliases expanded."""
MAX_DEPTH = 50
"""The deepest nesting of lists and mappings in a sweep file, aliases expanded."""
INT_RANGE = (-(2**63), 2**63 - 1)
"""The integers a sweep file may hold: SQLite's 64-bit range."""

_TOP = {
    "$schema",
    "type",
    "name",
    "display_name",
    "experiment_name",
    "description",
    "tags",
    "sampling_algorithm",
    "search_space",
    "objective",
    "early_termination",
    "limits",
    "compute",
    "trial",
    "inputs",
    "outputs",
    "identity",
    "queue_settings",
    "services",
    "properties",
}
_TRIAL = {"command", "code", "environment", "environment_variables", "distribution", "resources"}
_LIMITS = {"max_total_trials", "max_concurrent_trials", "timeout", "trial_timeout"}
_OBJECTIVE = {"goal", "primary_metric"}
_KINDS = (
    "choice",
    "randint",
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-.]{0,254}")  # experiment names (see Experiment)
_INPUT_NAME = re.compile(r"[A-Za-z0-9_.\-]+")  # what ${{inputs.NAME}} can refer to
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ANY_PLACEHOLDER = re.compile(r"\$\{\{.*?\}\}")
_INT_CHARS = 80  # longer integer scalars are out of range whatever their base; kept unconverted


@dataclass
class SweepFile:
    """A validated sweep file."""

    config: HyperDriveConfig
    experiment_name: str
    display_name: str | None
    tags: dict[str, str]
    path: Path


# -- reading YAML within bounds --------------------------------------------------------------------


class _TooLarge(Exception):
    """Raised inside the loader when the document passes a limit (formatted by load_sweep_file)."""

    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.mark = mark


class _OversizedInt:
    """An integer scalar too long to be within :data:`INT_RANGE`, left unconverted (its text is kept)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"an integer of {len(self.text.replace('_', '').lstrip('+-'))} digits"


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with bounded nesting, and a check of the composed graph before building it.

    An alias re-uses the node it names, so the composed document is a graph; its size as a tree
    (what ``str()``, JSON or a table of its values would produce) is counted on the graph, each
    node once, and refused past the limits before any Python object is constructed. Timestamps are
    kept as the strings they were written as, and integer scalars far too long for 64 bits are
    kept unconverted (the type check then refuses them, naming their field).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        """Compose one node, refusing nesting beyond :data:`MAX_DEPTH` (no RecursionError)."""
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooLarge(
                    f"it nests lists and mappings deeper than the limit of {MAX_DEPTH} levels",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[return-value]
        finally:
            self._depth -= 1

    def construct_document(self, node: Node) -> Any:
        """Check the expanded size of the document's graph, then build it."""
        _check_expanded_size(node)
        return super().construct_document(node)

    def construct_bounded_int(self, node: Node) -> int | _OversizedInt:
        """An integer scalar; one far beyond 64 bits is kept unparsed, for the check to name its field."""
        text = str(self.construct_scalar(node))  # type: ignore[arg-type]
        if len(text.replace("_", "")) > _INT_CHARS:
            return _OversizedInt(text)
        return super().construct_yaml_int(node)  # type: ignore[arg-type]

    def construct_timestamp_as_text(self, node: Node) -> str:
        """A date or time, kept as written (``2024-01-31`` stays a string)."""
        return str(self.construct_scalar(node))  # type: ignore[arg-type]


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_bounded_int)
_BoundedLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _BoundedLoader.construct_timestamp_as_text
)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expanded_size(root: Node) -> None:
    """Refuse a node graph whose tree (aliases expanded) passes a limit, or that refers to itself.

    Each node is visited once (an iterative depth-first walk with memoized sizes), so a bomb of
    nested aliases costs as much to check as its text is long.
    """
    sizes: dict[
        int, tuple[int, int, int]
    ] = {}  # id(node) -> (nodes, characters, depth) of its tree
    open_nodes: set[int] = set()  # the nodes on the current path: meeting one again is a cycle
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            kids = [sizes[id(child)] for child in _children(node)]
            nodes = 1 + sum(k[0] for k in kids)
            if isinstance(node, ScalarNode):
                chars, depth = len(node.value), 0
            else:
                chars, depth = sum(k[1] for k in kids), 1 + max((k[2] for k in kids), default=0)
            sizes[key] = (nodes, chars, depth)
            if nodes > MAX_NODES:
                raise _TooLarge(
                    f"once its aliases are expanded it holds more than the limit of {MAX_NODES:,} "
                    "values, lists and mappings",
                    node.start_mark,
                )
            if chars > MAX_CHARS:
                raise _TooLarge(
                    f"once its aliases are expanded it holds more than the limit of {MAX_CHARS:,} "
                    "characters of values",
                    node.start_mark,
                )
            if depth > MAX_DEPTH:
                raise _TooLarge(
                    f"once its aliases are expanded it nests lists and mappings deeper than the "
                    f"limit of {MAX_DEPTH} levels",
                    node.start_mark,
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise _TooLarge(
                "an alias refers to a list or mapping that contains it (a recursive structure)",
                node.start_mark,
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def read_yaml(path: Path) -> Any:
    """The YAML document in ``path``, read within the limits of this module.

    Raises:
        InvalidConfigError: the file cannot be read, is too large, is not UTF-8, is not valid YAML,
            or describes more than the limits allow; the message names the file and the limit.
    """
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidConfigError(
            f"Cannot read the sweep file {path}: {exc.strerror or exc}."
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise InvalidConfigError(
            f"The sweep file {path} is larger than the limit of {MAX_FILE_BYTES // 1024} KiB for a sweep file."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidConfigError(
            f"The sweep file {path} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} "
            f"(offset {exc.start}) is not valid UTF-8. Save the file as UTF-8."
        ) from None
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass
    except _TooLarge as exc:
        where = (
            f" (line {exc.mark.line + 1}, column {exc.mark.column + 1})"
            if exc.mark is not None
            else ""
        )
        raise InvalidConfigError(f"The sweep file {path} is refused{where}: {exc}.") from None
    except yaml.YAMLError as exc:
        raise InvalidConfigError(f"{path} is not valid YAML: {exc}") from None


# -- checking values -------------------------------------------------------------------------------


def _shown(value: Any, limit: int = 120) -> str:
    """``repr(value)``, shortened for a message (a 400-digit integer is not printed in full)."""
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not INT_RANGE[0] <= value <= INT_RANGE[1]
    ):
        return f"an integer of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]} ...{text[-4:]}"


def _check_plain(value: Any, where: str) -> None:
    """Every value is YAML's plain data, within bounds: null, bool, int64, finite float, clean str, list, mapping."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, (int, _OversizedInt)):
        if isinstance(value, _OversizedInt) or not INT_RANGE[0] <= value <= INT_RANGE[1]:
            raise InvalidConfigError(
                f"{where} must be an integer between {INT_RANGE[0]} and {INT_RANGE[1]}. "
                f"Got {_shown(value)} instead."
            )
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidConfigError(f"{where} must be a finite number. Got {value!r} instead.")
    elif isinstance(value, str):
        if "\x00" in value:
            raise InvalidConfigError(
                f"{where} must not contain a NUL character (\\0). Got {_shown(value)} instead."
            )
        if _SURROGATE.search(value):
            raise InvalidConfigError(
                f"{where} must be valid Unicode text; it holds a lone surrogate (a \\uD800-\\uDFFF escape). "
                f"Got {_shown(value)} instead."
            )
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_plain(key, f"a key of {where or 'the sweep file'}")
            _check_plain(item, f"{where}.{key}" if where else str(key))
    else:
        raise InvalidConfigError(
            f"{where or 'The sweep file'} must be plain YAML data (text, numbers, booleans, null, lists, "
            f"mappings). Got a {type(value).__name__} (from a tag such as !!binary, !!set or !!omap) instead."
        )


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            also = (
                f" Did you mean {hint[0]!r}?"
                if hint
                else f" Allowed keys: {', '.join(sorted(allowed))}."
            )
            raise InvalidConfigError(f"{where}{key} is not a known key.{also}")


def _section(data: Mapping[str, Any], key: str, where: str = "", required: bool = True) -> Any:
    if key not in data or data[key] is None:
        if required:
            raise InvalidConfigError(f"{where}{key} is required but missing from the sweep file.")
        return None
    return data[key]


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidConfigError(
            f"{where} must be a mapping of keys to values. Got {_shown(value)} instead."
        )
    return value


def _optional_mapping(data: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    """``data[key]`` as a mapping; missing or null is an empty one, anything else (``0``, ``[]``) an error."""
    value = data.get(key)
    return {} if value is None else _mapping(value, f"{where}{key}")


def _text(
    value: Any, where: str, *, required: bool = True, what: str = "a non-empty string"
) -> str | None:
    """A non-empty string (or None when not ``required``)."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidConfigError(f"{where} must be {what}. Got {_shown(value)} instead.")
    return value


def _scalar_text(value: Any, where: str) -> str:
    """A string, number or boolean as text; null as the empty string."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        raise InvalidConfigError(
            f"{where} must be a string, a number or a boolean. Got {_shown(value)} instead."
        )
    return str(value)


def _folder(value: Any, base: Path, where: str) -> Path:
    """A path relative to the sweep file's folder (``~`` expanded)."""
    text = _text(value, where, what="a path")
    try:
        path = Path(str(text)).expanduser()
        return path if path.is_absolute() else base / path
    except RuntimeError as exc:  # ~user that does not exist
        raise InvalidConfigError(
            f"{where} cannot be expanded ({exc}). Got {_shown(value)} instead."
        ) from None


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _sampling(data: Any, space: Mapping[str, Any]) -> HyperParameterSampling:
    """The sampling method of ``sampling_algorithm``: its ``type`` is a registered ``yaml_type``, the
    other keys are that method's properties (``property_names``)."""
    if isinstance(data, str):
        data = {"type": data}
    data = dict(_mapping(data, "sampling_algorithm"))
    methods = list(SAMPLERS)
    _check_keys(
        data, {"type"}.union(*(cls.property_names for cls in methods)), "sampling_algorithm."
    )
    kind = data.pop("type", None)
    cls = SAMPLERS.by_type(kind)
    if cls is None:
        raise InvalidConfigError(
            f"sampling_algorithm.type must be one of {', '.join(SAMPLERS.types())}. Got {_shown(kind)} instead."
        )
    properties = {k: v for k, v in data.items() if v is not None}
    if "rule" in properties:
        _text(properties["rule"], "sampling_algorithm.rule", what="'random' or 'sobol'")
    extra = sorted(set(properties) - set(cls.property_names))
    if extra:
        takers = " or ".join(
            str(c.yaml_type) for c in methods if extra[0] in c.property_names and c.yaml_type
        )
        raise InvalidConfigError(f"sampling_algorithm.{extra[0]} applies only to type {takers}.")
    return cls(space, properties=properties or None)


def _search_space(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``search_space`` mapping, each entry's shape checked before space.py builds it."""
    space = _mapping(_section(data, "search_space"), "search_space")
    for name, expr in space.items():
        if not isinstance(name, str) or not name.strip("-").strip():
            raise InvalidConfigError(
                f"search_space names must be non-empty strings. Got {_shown(name)} instead."
            )
        where = f"search_space.{name}"
        expr = _mapping(expr, where)
        kind = expr.get("type")
        if not isinstance(kind, str) or kind not in _KINDS:
            raise InvalidConfigError(
                f"search_space[{name!r}].type must be one of {', '.join(_KINDS)}. Got {_shown(kind)} instead."
            )
        if kind == "choice" and isinstance(expr.get("values"), list):
            for i, value in enumerate(expr["values"]):  # a mapping is a branch of a nested choice
                if value is None or isinstance(value, list):
                    raise InvalidConfigError(
                        f"{where}.values[{i}] must be a string, a number, a boolean or a mapping (a branch of a "
                        f"nested choice): it becomes a command-line argument. Got {_shown(value)} instead."
                    )
    return space


def _command(
    trial: Mapping[str, Any], inputs: Mapping[str, str], outputs: Sequence[str] = ()
) -> str:
    """``trial.command``: a string shlex can split, whose every ``${{...}}`` is a placeholder it can fill."""
    command = _section(trial, "command", "trial.")
    if not isinstance(command, str) or not command.strip():
        raise InvalidConfigError(
            f"trial.command must be a command string. Got {_shown(command)} instead."
        )
    try:
        shlex.split(command)
    except ValueError as exc:
        raise InvalidConfigError(
            f"trial.command must split into words as a shell would ({exc}: a quote is not closed). "
            f"Got {_shown(command)} instead."
        ) from None
    for found in _ANY_PLACEHOLDER.finditer(command):
        match = _PLACEHOLDER.fullmatch(found.group(0))
        if match is None:
            raise InvalidConfigError(
                f"trial.command holds {found.group(0)}, which is not a placeholder hypersweep fills: use "
                "${{search_space.NAME}}, ${{inputs.NAME}} or ${{outputs.NAME}}."
            )
        kind, name = match.group(1), match.group(2)
        defined = {"inputs": inputs, "outputs": outputs}.get(kind)
        if defined is not None and name not in defined:
            names = ", ".join(sorted(defined)) or "none"
            raise InvalidConfigError(
                f"trial.command refers to {found.group(0)}, which {kind} does not define (it defines: {names})."
            )
    return command


def _environment(trial: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in _optional_mapping(trial, "environment_variables", "trial.").items():
        if not isinstance(name, str) or not name or "=" in name:
            raise InvalidConfigError(
                f"trial.environment_variables names must be non-empty strings without '='. Got {_shown(name)} instead."
            )
        out[name] = _scalar_text(value, f"trial.environment_variables.{name}")
    return out


def _experiment_name(data: Mapping[str, Any], base: Path) -> str:
    """``experiment_name``, or the sweep file's folder name made into a valid one."""
    name = data.get("experiment_name")
    if isinstance(name, int) and not isinstance(name, bool):
        name = str(name)
    if name is None:
        default = re.sub(r"[^A-Za-z0-9_\-.]+", "-", base.name).strip("-.")[:255]
        return default if _NAME.fullmatch(default) else "default"
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidConfigError(
            "experiment_name must be 1-255 letters, digits, '_', '-' or '.', starting with a letter or digit. "
            f"Got {_shown(name)} instead."
        )
    return name


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
    raw = read_yaml(path)
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
        workspace: the workspace whose cache holds inputs given as http(s) URLs, and whose registered
            environments a ``trial.environment`` reference may name.
    """
    path = Path(path)
    data = _mapping(raw, f"The sweep file {path}")
    _check_plain(dict(data), "")
    check_job_type(data)
    _check_keys(data, _TOP, "")
    if data.get("type", "sweep") != "sweep":
        raise InvalidConfigError(f"type must be 'sweep'. Got {_shown(data.get('type'))} instead.")
    for key in ("name", "display_name", "description"):
        _text(data.get(key), key, required=False, what="a string")
    compute = compute_target(data.get("compute"), compute)
    base = path.resolve().parent
    v2_notices(data)
    experiment_name = _experiment_name(data, base)
    tags = v2_tags(data)

    trial = _mapping(_section(data, "trial"), "trial")
    _check_keys(trial, _TRIAL, "trial.")
    inputs = _inputs(data.get("inputs"), base, workspace)
    outputs = output_names(data.get("outputs"))
    command = _command(trial, inputs, outputs)
    code = _folder("." if trial.get("code") is None else trial["code"], base, "trial.code")
    if not _is_dir(code):
        raise InvalidConfigError(
            f"trial.code must be an existing folder. Got {str(code)!r} instead."
        )
    env = _environment(trial)
    resources = v2_resources(trial.get("resources"))
    environment = _job_environment(trial.get("environment"), base, workspace)

    space = _search_space(data)
    objective = _mapping(_section(data, "objective"), "objective")
    _check_keys(objective, _OBJECTIVE, "objective.")
    metric = _text(
        _section(objective, "primary_metric", "objective."),
        "objective.primary_metric",
        what="the name of the metric your script logs",
    )
    goal = _section(objective, "goal", "objective.")
    if not isinstance(goal, str) or goal.lower() not in ("maximize", "minimize"):
        raise InvalidConfigError(
            f"objective.goal must be 'maximize' or 'minimize'. Got {_shown(goal)} instead."
        )

    limits = _optional_mapping(data, "limits")
    _check_keys(limits, _LIMITS, "limits.")
    timeout = limits.get("timeout")
    trial_timeout = limits.get("trial_timeout")
    for key, value in (("timeout", timeout), ("trial_timeout", trial_timeout)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0
        ):
            raise InvalidConfigError(
                f"limits.{key} must be a positive number of seconds. Got {_shown(value)} instead."
            )
    policy_data = data.get("early_termination")
    if policy_data is not None:
        _mapping(policy_data, "early_termination")

    from hypersweep.policy import policy_from_data

    try:
        run_config = ScriptRunConfig(
            source_directory=code,
            command=command,
            environment_variables=env,
            inputs=inputs,
            outputs=outputs,
            environment=environment,
            compute_target=compute,
            resources=resources,
        )
        sampling = _sampling(_section(data, "sampling_algorithm"), space)
        config = HyperDriveConfig(
            run_config=run_config,
            hyperparameter_sampling=sampling,
            primary_metric_name=str(metric),
            primary_metric_goal=goal,
            max_total_runs=limits.get("max_total_trials", 1000),
            max_concurrent_runs=limits.get("max_concurrent_trials"),
            max_duration_minutes=(timeout / 60.0) if timeout else 10080,
            policy=policy_from_data(policy_data),
            trial_timeout=trial_timeout,
        )
    except InvalidConfigError as exc:
        message = str(exc)
        for ours, theirs in (
            ("'max_total_runs' parameter of HyperDriveConfig", "limits.max_total_trials"),
            ("'max_concurrent_runs' parameter of HyperDriveConfig", "limits.max_concurrent_trials"),
            ("parameter_space[", "search_space["),
            (
                "The \"resources['num_gpus']\" parameter of ScriptRunConfig",
                "trial.resources.num_gpus",
            ),
            (
                "The \"resources['num_cpus']\" parameter of ScriptRunConfig",
                "trial.resources.num_cpus",
            ),
            ("'resources' parameter of ScriptRunConfig", "trial.resources"),
            ("'command' parameter of ScriptRunConfig", "'trial.command' of the sweep file"),
            ("parameter of ScriptRunConfig", "of trial.resources"),
        ):
            message = message.replace(ours, theirs)
        raise InvalidConfigError(message) from None
    return SweepFile(
        config=config,
        experiment_name=experiment_name,
        display_name=data.get("display_name") or data.get("name"),
        tags=tags,
        path=path,
    )


# -- Azure ML v2 sweep jobs as published: overrides, compute, inputs, outputs, accepted keys ---------

_RUN = "hypersweep run"
_CLOUD_SCHEMES = (
    "azureml:",
    "wasbs://",
    "wasb://",
    "abfss://",
    "abfs://",
    "adl://",
    "s3://",
    "gs://",
)
_INPUT_KEYS = {"type", "path", "value", "default", "mode", "description", "optional"}
#: The types of a job's inputs and outputs, as Azure ML v2 names them (``Input(type=...)`` too).
INPUT_TYPES = (
    "uri_file",
    "uri_folder",
    "mltable",
    "mlflow_model",
    "custom_model",
    "triton_model",
    "string",
    "integer",
    "number",
    "boolean",
)
_OUTPUT_KEYS = {"type", "mode", "path", "description", "name", "version"}
OUTPUT_TYPES = (
    "uri_folder",
    "uri_file",
    "mltable",
    "mlflow_model",
    "custom_model",
    "triton_model",
)
_RESOURCE_KEYS = {
    "instance_type",
    "instance_count",
    "shm_size",
    "properties",
    "locations",
    "num_cpus",
    "num_gpus",
    "resources",
}


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
        raise invalid(
            "--set", _RUN, "applied to a sweep file that is a mapping", type(data).__name__
        )
    data = _copy(data)
    for item in sets:
        if not isinstance(item, str) or "=" not in item:
            raise invalid("--set", _RUN, "KEY.PATH=VALUE, such as limits.max_total_trials=6", item)
        key, _, text = item.partition("=")
        parts = key.strip().split(".")
        if not key.strip() or any(not p.strip() or p != p.strip() for p in parts):
            raise invalid(
                "--set",
                _RUN,
                "a dotted path of non-empty keys before '=', such as inputs.iris_csv.path",
                item,
            )
        if not text.strip():
            raise invalid("--set", _RUN, f"a value after '=' (for {key})", item)
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or "not valid YAML"
            raise invalid(
                "--set", _RUN, f"a value that is a valid YAML scalar ({problem})", item
            ) from None
        if isinstance(value, (dict, list)) and not text.strip().startswith(("{", "[")):
            value = text  # "Note: x" is a string, not a mapping; write {a: 1} or [1, 2] for those
        node: Any = data
        for depth, part in enumerate(parts):
            here = ".".join(parts[:depth]) or "the top level"
            last = depth == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise invalid(
                        "--set",
                        _RUN,
                        f"a path that exists: {here} is a list of {len(node)} items, "
                        f"indexed 0 to {len(node) - 1}",
                        item,
                    )
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
                    raise invalid(
                        "--set",
                        _RUN,
                        f"a path that exists: {'.'.join(parts[: depth + 1])} {what}; "
                        f"the keys at {here} are: {keys}",
                        item,
                    )
                else:
                    node = node[part]
            else:
                raise invalid(
                    "--set", _RUN, f"a path that exists: {here} is a value, not a mapping", item
                )
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
    from hypersweep.executors import is_target, target_forms

    forms = target_forms()  # what the executors run: local, ray, ray://HOST:PORT, ...
    if override is not None:
        if not is_target(override):
            raise invalid("--compute", _RUN, _alternatives(forms), override)
        return override
    if value is None or is_target(value) or (isinstance(value, str) and "://" in value):
        return value  # an address no executor runs is refused by ScriptRunConfig or at submission
    if not isinstance(value, str) or not value.strip():
        rule = f"a compute name such as azureml:cpu-cluster, {_alternatives(forms, quote=False)}"
        raise invalid("compute", "the sweep file", rule, value)
    _notice(
        f"compute: {value!r} is an Azure ML cluster; the trials run on this machine (the local target). "
        f"Choose the target with --compute {'|'.join(forms)}."
    )
    return None


def _alternatives(items: Sequence[str], *, quote: bool = True) -> str:
    """``'a', 'b' or 'c'`` (without quotes: ``a, b or c``)."""
    shown = [repr(i) if quote else i for i in items]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


#: Azure's GPU VM sizes and their GPUs (without the ``Standard_`` prefix, lower case).
AZURE_GPU_SIZES = {
    "nc6": 1,
    "nc12": 2,
    "nc24": 4,
    "nc24r": 4,
    "nc6s_v2": 1,
    "nc12s_v2": 2,
    "nc24s_v2": 4,
    "nc24rs_v2": 4,
    "nc6s_v3": 1,
    "nc12s_v3": 2,
    "nc24s_v3": 4,
    "nc24rs_v3": 4,
    "nc4as_t4_v3": 1,
    "nc8as_t4_v3": 1,
    "nc16as_t4_v3": 1,
    "nc64as_t4_v3": 4,
    "nc24ads_a100_v4": 1,
    "nc48ads_a100_v4": 2,
    "nc96ads_a100_v4": 4,
    "nc40ads_h100_v5": 1,
    "nc80adis_h100_v5": 2,
    "nd6s": 1,
    "nd12s": 2,
    "nd24s": 4,
    "nd24rs": 4,
    "nd40rs_v2": 8,
    "nd96asr_v4": 8,
    "nd96amsr_a100_v4": 8,
    "nd96isr_h100_v5": 8,
    "nv6": 1,
    "nv12": 2,
    "nv24": 4,
    "nv12s_v3": 1,
    "nv24s_v3": 2,
    "nv48s_v3": 4,
    "nv36ads_a10_v5": 1,
    "nv72ads_a10_v5": 2,
}


def azure_gpu_count(size: str) -> int | None:
    """The GPUs of an Azure VM size such as ``Standard_NC24`` (None for a size without whole GPUs)."""
    name = size.strip().lower()
    name = name[len("standard_") :] if name.startswith("standard_") else name
    return AZURE_GPU_SIZES.get(name)


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
            _notice(
                f"trial.resources.instance_count ({count}): each trial runs as one process on one machine."
            )
    size = resources.get("instance_type")
    gpus = azure_gpu_count(size) if isinstance(size, str) else None
    if gpus is not None:
        resources.pop("instance_type")
        if "num_gpus" in resources:
            _notice(
                f"trial.resources.instance_type ({size!r}) is not used: the trials run on this machine, "
                f"each with num_gpus ({resources['num_gpus']!r}) of its GPUs."
            )
        else:
            resources["num_gpus"] = gpus
            _notice(
                f"trial.resources.instance_type ({size!r}): the trials run on this machine, each with "
                f"the {gpus} GPU{'s' if gpus != 1 else ''} of that size (num_gpus: {gpus})."
            )
    for key, what in (
        ("instance_type", "the trials run on this machine"),
        ("shm_size", "the trials use this machine's shared memory"),
        ("properties", "it applies to Azure ML clusters only"),
        ("locations", "the trials run on this machine"),
    ):
        if key in resources:
            value = resources.pop(key)
            if key in ("instance_type", "shm_size") and not isinstance(value, str):
                raise invalid(
                    key, "trial.resources", "a string such as 'Standard_DS3_v2' or '2g'", value
                )
            _notice(f"trial.resources.{key} ({value!r}) is not used: {what}.")
    return resources


def v2_notices(data: Mapping[str, Any]) -> None:
    """One warning for each accepted v2 key that has no local effect, saying what is done instead."""
    trial: Mapping[str, Any] = data["trial"] if isinstance(data.get("trial"), Mapping) else {}
    env = trial.get("environment")
    if env is not None and not isinstance(env, (str, Mapping)):
        raise invalid(
            "environment", "trial", "an environment name (azureml:NAME@latest) or a mapping", env
        )
    dist = trial.get("distribution")
    if dist is not None:
        if not isinstance(dist, Mapping):
            raise invalid("distribution", "trial", "a mapping such as {type: pytorch}", dist)
        _notice(
            f"trial.distribution (type {dist.get('type')!r}) is not set up: each trial runs as one process."
        )
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
            if key in ("identity", "queue_settings", "services", "properties") and not isinstance(
                value, Mapping
            ):
                raise invalid(key, "the sweep file", "a mapping", value)
            if key in ("description", "display_name") and not isinstance(value, str):
                raise invalid(key, "the sweep file", "a string", value)
            _notice(f"{key}: {what}.")
    sampling = data.get("sampling_algorithm")
    if isinstance(sampling, Mapping) and sampling.get("logbase") is not None:
        base = sampling["logbase"]
        if base != "e" and (
            isinstance(base, bool) or not isinstance(base, (int, float)) or base <= 0
        ):
            raise invalid("logbase", "sampling_algorithm", "a positive number or 'e'", base)
        _notice(
            f"sampling_algorithm.logbase ({base!r}) is not used: log expressions sample with base e, as "
            "HyperDrive's loguniform and lognormal do."
        )


def v2_tags(data: Mapping[str, Any]) -> dict[str, str]:
    """The sweep's tags: ``tags``, then ``properties``, ``description`` and ``display_name``."""
    tags = {
        str(k): _scalar_text(v, f"tags.{k}") for k, v in _optional_mapping(data, "tags").items()
    }
    for k, v in _optional_mapping(data, "properties").items():
        tags.setdefault(str(k), _scalar_text(v, f"properties.{k}"))
    for key in ("description", "display_name"):
        if data.get(key) is not None:
            tags.setdefault(key, str(data[key]))
    return tags


def _inputs(data: Any, base: Path, workspace: str | Path | None = None) -> dict[str, str]:
    """Each input as the string its ``${{inputs.NAME}}`` becomes: a literal, a local path, or the cached
    copy of an http(s) URL. A cloud location is an error that shows the ``--set`` replacing it."""
    out: dict[str, str] = {}
    for name, value in _mapping(data or {}, "inputs").items():
        if not isinstance(name, str) or not _INPUT_NAME.fullmatch(name):
            raise InvalidConfigError(
                f"inputs names must be letters, digits, '_', '-' or '.'. Got {_shown(name)} instead."
            )
        where = f"inputs.{name}"
        if not isinstance(value, Mapping):
            out[name] = _scalar_text(value, where)
            continue
        _check_keys(value, _INPUT_KEYS, f"{where}.")
        kind = value.get("type")
        if kind is not None and (not isinstance(kind, str) or kind not in INPUT_TYPES):
            raise invalid("type", where, f"one of {', '.join(sorted(INPUT_TYPES))}", kind)
        if value.get("mode") is not None:
            _notice(
                f"{where}.mode ({value['mode']!r}) is not used: the input is read in place on this machine."
            )
        if "path" in value:
            out[name] = _input_path(value["path"], where, base, workspace)
        elif "value" in value or "default" in value:
            key = "value" if "value" in value else "default"
            out[name] = _scalar_text(value[key], f"{where}.{key}")
        else:
            raise InvalidConfigError(f"{where} needs a 'path' or a 'value'.")
    return out


def _job_environment(value: Any, base: Path, workspace: str | Path | None) -> Any:
    """``trial.environment`` as an :class:`~hypersweep.environment.Environment` (built or checked like a v1
    one), or None; a reference to an environment not registered here runs in this Python, with a warning."""
    if value is None:
        return None
    from hypersweep.environment import environment_from_job
    from hypersweep.errors import NotFoundError

    root = Path(workspace) if workspace is not None else Path.cwd()
    try:
        with warnings.catch_warnings(record=True) as caught:  # said again below, naming the key
            warnings.simplefilter("always")
            env = environment_from_job(value, base, "trial.environment", root)
    except NotFoundError:
        _notice(
            f"trial.environment ({value!r}) is not registered in this workspace: the trials run in this "
            f"Python ({sys.executable}) with its installed packages. Register it with env.register(ws)."
        )
        return None
    for warning in caught:
        _notice(f"trial.environment: {warning.message}")
    return env


def _input_path(path: Any, where: str, base: Path, workspace: str | Path | None) -> str:
    field = f"{where}.path"
    if not isinstance(path, str) or not path.strip():
        raise invalid("path", where, "a local path or an http(s) URL", path)
    if path.startswith(_CLOUD_SCHEMES):
        name = "./" + (Path(path.split("?")[0].rstrip("/")).name or "DATA")
        raise InvalidConfigError(
            f"The 'path' parameter of {where} must be a local path or an http(s) URL. Got {path!r} instead: "
            "a cloud location (an Azure ML asset or datastore, or blob storage) that hypersweep cannot read "
            f"here. Download it and pass the local copy: hypersweep run FILE --set {field}={name} "
            f"(in Python: Input(path={name!r}))."
        )
    if path.startswith(("https://", "http://")):
        from hypersweep._download import CACHE_DIR, fetch_input
        from hypersweep._paths import STATE_DIR

        root = Path(workspace) if workspace is not None else Path.cwd()
        return str(fetch_input(path, root.expanduser().resolve() / STATE_DIR / CACHE_DIR, field))
    local = Path(path.removeprefix("file://")).expanduser()
    local = local if local.is_absolute() else (base / local).resolve()
    if not local.exists():
        raise invalid(
            "path",
            where,
            "an existing file or folder (relative paths start at the sweep file's folder)",
            str(local),
        )
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
            if kind is not None and (not isinstance(kind, str) or kind not in OUTPUT_TYPES):
                raise invalid("type", where, f"one of {', '.join(sorted(OUTPUT_TYPES))}", kind)
            for key in ("mode", "path"):
                if value.get(key) is not None:
                    _notice(
                        f"{where}.{key} ({value[key]!r}) is not used: the output is the folder "
                        f"outputs/{name} of each run."
                    )
        names.append(str(name))
    return names
