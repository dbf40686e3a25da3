"""What a sweep runs and how: ``ScriptRunConfig``, callable trials and ``HyperDriveConfig``."""

from __future__ import annotations

import inspect
import json
import os
import re
import shlex
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hypersweep._validation import check_int, check_number, invalid
from hypersweep.errors import InvalidConfigError
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy.base import EarlyTerminationPolicy
from hypersweep.sampling.base import HyperParameterSampling
from hypersweep.space import flag_name, plain_name
from hypersweep.space_nested import flat_values

MAX_TOTAL_RUNS = 1000
MAX_CONCURRENT_RUNS = 100
MAX_DURATION_MINUTES = 10080  # HyperDrive's service limit (7 days)
MAX_DURATION_WARNING = MAX_DURATION_MINUTES  # the former name
_PLACEHOLDER = re.compile(r"\$\{\{\s*(search_space|inputs|outputs)\.([A-Za-z0-9_.\-]+)\s*\}\}")


def format_value(value: Any) -> str:
    """A sampled value as a command-line string (a nested choice's branch, a dict, as JSON)."""
    if isinstance(value, Mapping):
        return json.dumps(dict(value))
    return repr(value) if isinstance(value, float) else str(value)


class ScriptRunConfig:
    """A training script run as ``python script [arguments] [--name value ...]``.

    The sampled values are appended as ``--name value`` pairs, in the search space's order
    (a name without a leading ``-`` gets ``--``); a fixed argument with the same flag is dropped
    with a warning. With ``command`` instead of ``script``, ``${{search_space.NAME}}`` placeholders
    are replaced by the sampled values (no pairs are appended then).

    Args:
        source_directory: the folder copied (snapshotted) for every run; the run's working folder.
        script: the script, relative to ``source_directory``.
        arguments: fixed command-line arguments, e.g. ``["--epochs", 20]``.
        command: instead of ``script``: a command string or list, e.g. ``"python train.py --lr ${{search_space.lr}}"``.
        compute_target: ``"local"`` (the default), ``"ray"`` (the cluster at ``$RAY_ADDRESS``, or a new
            local one), ``"ray://HOST:PORT"``, or a ``ComputeTarget`` (``ComputeTarget.create(...)``).
        environment: an :class:`~hypersweep.environment.Environment`: its packages (installed here, in a
            cached virtual environment when this Python lacks them) and its environment variables.
        resources: what each trial asks for: ``{"num_cpus": 1, "num_gpus": 0, "resources": {...}}``. Locally,
            ``num_gpus`` gives each trial its own GPUs (a share of one below 1, whole GPUs above) and
            ``num_cpus`` sets ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``/``OPENBLAS_NUM_THREADS``; on Ray it is
            the task's request.
        environment_variables: extra environment variables for the script.
        max_run_duration_seconds: per-run time limit (``trial_timeout`` of the sweep overrides it).
        inputs: ``{name: value or path}`` for ``${{inputs.NAME}}`` placeholders.
        outputs: names of output folders: ``${{outputs.NAME}}`` becomes ``outputs/NAME`` in the run's
            folder (its working folder), made before the run starts.

    Example:
        >>> src = ScriptRunConfig(source_directory="examples/iris", script="train.py",
        ...                       arguments=["--max-iter", 200])   # doctest: +SKIP
    """

    def __init__(
        self,
        source_directory: str | Path = ".",
        script: str | None = None,
        arguments: Sequence[Any] | None = None,
        run_config: Any = None,
        compute_target: str | None = None,
        environment: Any = None,
        *,
        command: str | Sequence[Any] | None = None,
        environment_variables: Mapping[str, str] | None = None,
        max_run_duration_seconds: float | None = None,
        inputs: Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        outputs: Sequence[str] | None = None,
    ) -> None:
        owner = "ScriptRunConfig"
        if not isinstance(source_directory, (str, os.PathLike)):
            raise invalid(
                "source_directory", owner, "a folder path (str or Path)", source_directory
            )
        self.source_directory = Path(source_directory).expanduser().resolve()
        if not self.source_directory.is_dir():
            raise invalid("source_directory", owner, "an existing folder", str(source_directory))
        if (script is None) == (command is None):
            raise InvalidConfigError(
                "ScriptRunConfig needs exactly one of 'script' (a file in source_directory) or "
                f"'command'. Got script={script!r}, command={command!r}."
            )
        if script is not None and (
            not isinstance(script, (str, os.PathLike))
            or not (self.source_directory / script).is_file()
        ):
            raise invalid("script", owner, f"a file inside {self.source_directory}", script)
        if arguments is not None and (
            isinstance(arguments, (str, bytes)) or not isinstance(arguments, Sequence)
        ):
            raise invalid("arguments", owner, "a list such as ['--epochs', 20]", arguments)
        self.compute_target = check_target(compute_target, owner)
        self.resources = check_resources(resources, owner)
        from hypersweep.environment import Environment

        if environment is not None and not isinstance(environment, Environment):
            raise invalid(
                "environment",
                owner,
                "an Environment such as Environment.get(ws, name) or None",
                environment,
            )
        self.script = script
        self.arguments = [_argument(a, "arguments", owner) for a in (arguments or [])]
        self.command = _check_command(command, owner)
        self.environment = environment
        self.environment_variables = _string_map(
            environment_variables, "environment_variables", owner, env=True
        )
        self.inputs = _string_map(inputs, "inputs", owner)
        self.outputs = check_output_names(outputs, owner)
        if max_run_duration_seconds is not None:
            seconds = check_number(max_run_duration_seconds, "max_run_duration_seconds", owner)
            if seconds <= 0:
                raise invalid(
                    "max_run_duration_seconds",
                    owner,
                    "a positive number of seconds",
                    max_run_duration_seconds,
                )
            max_run_duration_seconds = seconds
        self.max_run_duration_seconds = max_run_duration_seconds
        if command is not None:
            self._check_command_targets(owner)

    # -- turning a configuration into a command -------------------------------------------------

    def _command_tokens(self) -> list[str] | None:
        if self.command is None:
            return None
        tokens = (
            shlex.split(self.command)
            if isinstance(self.command, str)
            else [str(c) for c in self.command]
        )
        return tokens

    def _check_command_targets(self, owner: str) -> None:
        """Fail at submission, not in every trial, when the command's program or script cannot be found."""
        tokens = self._command_tokens()
        if not tokens or not isinstance(tokens[0], str) or not tokens[0].strip():
            raise invalid(
                "command", owner, "a non-empty command such as 'python train.py'", self.command
            )
        for m in (m for t in tokens for m in _PLACEHOLDER.finditer(t)):
            kind, name = m.group(1), m.group(2)
            defined = (
                self.inputs if kind == "inputs" else self.outputs if kind == "outputs" else None
            )
            if defined is not None and name not in defined:
                known = ", ".join(sorted(defined)) or "none"
                raise invalid(
                    "command",
                    owner,
                    f"a command whose ${{{{{kind}.NAME}}}} names a defined {kind[:-1]} "
                    f"(defined: {known})",
                    m.group(0),
                )
        program = tokens[0]
        if _PLACEHOLDER.search(program):
            return
        if program in ("python", "python3") or Path(program).name.startswith("python"):
            script = tokens[1] if len(tokens) > 1 else None
            if script is None or script.startswith("-") or _PLACEHOLDER.search(script):
                return
            path = Path(script).expanduser()
            path = path if path.is_absolute() else self.source_directory / path
            if not path.is_file():
                raise invalid(
                    "command",
                    owner,
                    f"a command whose script {script!r} is a file inside {self.source_directory}",
                    self.command,
                )
            return
        import shutil

        local = self.source_directory / program
        if shutil.which(program) is None and not (local.is_file() and os.access(local, os.X_OK)):
            raise invalid(
                "command",
                owner,
                f"a command whose program {program!r} is on PATH or in the source folder",
                self.command,
            )

    def placeholders(self) -> set[str]:
        """The ``search_space`` names the command refers to."""
        tokens = self._command_tokens() or []
        return {
            m.group(2)
            for t in tokens
            for m in _PLACEHOLDER.finditer(t)
            if m.group(1) == "search_space"
        }

    def validate_space(self, names: Sequence[str]) -> None:
        """Check a command's placeholders against the search space's names."""
        used = self.placeholders()
        if not used:
            return
        plain = {plain_name(n) for n in names}
        unknown = sorted(used - plain)
        if unknown:
            raise InvalidConfigError(
                f"trial.command refers to ${{{{search_space.{unknown[0]}}}}}, which the search space "
                f"does not define; it defines: {', '.join(sorted(plain))}."
            )
        unused = sorted(plain - used)
        if unused:
            raise InvalidConfigError(
                f"search_space.{unused[0]} is never used in trial.command; add "
                f"${{{{search_space.{unused[0]}}}}} to the command or remove it from the search space."
            )

    def build_arguments(self, config: Mapping[str, Any]) -> list[str]:
        """The script's arguments (without the interpreter and script) for a configuration.

        A nested choice's value (one branch, a dict) is one JSON argument where the command has its
        placeholder, and the branch's own ``--key value`` pairs otherwise.
        """
        tokens = self._command_tokens()
        if tokens is not None and any(_PLACEHOLDER.search(t) for t in tokens):
            values = {plain_name(k): format_value(v) for k, v in config.items()}

            def substitute(token: str) -> str:
                def repl(m: re.Match[str]) -> str:
                    if m.group(1) == "outputs":
                        if m.group(2) not in self.outputs:
                            raise InvalidConfigError(
                                f"trial.command refers to undefined {m.group(0)}."
                            )
                        return f"outputs/{m.group(2)}"
                    table = values if m.group(1) == "search_space" else self.inputs
                    if m.group(2) not in table:
                        raise InvalidConfigError(f"trial.command refers to undefined {m.group(0)}.")
                    return table[m.group(2)]

                return _PLACEHOLDER.sub(repl, token)

            tokens = [substitute(t) for t in tokens]
            if self.placeholders():
                return tokens
        config = flat_values(config)
        fixed = list(tokens) if tokens is not None else list(self.arguments)
        sampled_flags = {plain_name(k) for k in config}
        kept: list[str] = []
        dropped: list[str] = []
        i = 0
        while i < len(fixed):
            token = fixed[i]
            if token.startswith("-") and plain_name(token.split("=", 1)[0]) in sampled_flags:
                dropped.append(token)
                i += 1
                if "=" not in token and i < len(fixed) and not fixed[i].startswith("--"):
                    i += 1
                continue
            kept.append(token)
            i += 1
        if dropped:
            warnings.warn(
                "The same parameter(s) are given in the fixed arguments and in the search space; the "
                f"search space overrides them: {dropped}.",
                UserWarning,
                stacklevel=3,
            )
        for name, value in config.items():
            kept += [flag_name(name), format_value(value)]
        return kept

    def build_argv(self, arguments: list[str], python: str | None = None) -> list[str]:
        """The full command: the interpreter, the script, then ``arguments``.

        ``python`` is the run's interpreter: its environment's (default: the one hypersweep runs in).
        A leading ``python`` in a command means it too, whatever PATH says.
        """
        python = python or sys.executable
        if self.command is not None:
            argv = list(arguments)
            if argv and argv[0] in ("python", "python3"):
                argv[0] = python
            return argv
        return [python, str(self.script), *arguments]

    def describe(self) -> dict[str, Any]:
        return {
            "type": "script",
            "source_directory": str(self.source_directory),
            "script": self.script,
            "arguments": self.arguments,
            "command": self.command,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "target": self.compute_target,
            "resources": self.resources,
            "environment_variables": self.environment_variables,
            "environment": self.environment.to_dict() if self.environment is not None else None,
        }


def _argument(value: Any, param: str, owner: str) -> str:
    """A command-line argument as a string (numbers and strings; text without NUL or lone surrogates)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, (str, int, float)):  # bool is an int: True -> "True"
        raise invalid(param, owner, "strings and numbers", value)
    text = format_value(value)
    if "\0" in text:
        raise invalid(param, owner, "strings without NUL characters", value)
    return text


def _check_command(command: Any, owner: str) -> str | list[str] | None:
    """``command`` as a string shlex can split, or a non-empty list of arguments."""
    if command is None:
        return None
    if isinstance(command, str):
        try:
            tokens = shlex.split(command)
        except ValueError as exc:
            raise invalid(
                "command", owner, f"a command line with balanced quotes ({exc})", command
            ) from None
        if not tokens:
            raise invalid(
                "command", owner, "a non-empty command such as 'python train.py'", command
            )
        if "\0" in command:
            raise invalid("command", owner, "a command line without NUL characters", command)
        return command
    if isinstance(command, (bytes, Mapping)) or not isinstance(command, Sequence):
        raise invalid(
            "command",
            owner,
            "a string or a list of arguments such as ['python', 'train.py']",
            command,
        )
    if not command:
        raise invalid(
            "command",
            owner,
            "a non-empty list of arguments such as ['python', 'train.py']",
            command,
        )
    return [_argument(c, "command", owner) for c in command]


def _string_map(value: Any, param: str, owner: str, env: bool = False) -> dict[str, str]:
    """A mapping of names to strings (numbers are written as strings); for ``env``, valid variable names."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid(param, owner, "a dict of name -> string", value)
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key or (env and ("=" in key or "\0" in key)):
            rule = (
                "keyed by variable names (non-empty, no '=')"
                if env
                else "keyed by non-empty strings"
            )
            raise invalid(param, owner, rule, key)
        out[key] = _argument(item, f"{param}[{key!r}]", owner)
    return out


def check_output_names(outputs: Any, owner: str) -> list[str]:
    """Names of output folders: plain names (letters, digits, ``_``, ``-``, ``.``), no duplicates."""
    if outputs is None:
        return []
    if isinstance(outputs, (str, bytes)) or not isinstance(outputs, Sequence):
        raise invalid("outputs", owner, "a list of output names such as ['model']", outputs)
    names: list[str] = []
    for name in outputs:
        if (
            not isinstance(name, str)
            or not re.fullmatch(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*", name)
            or name in names
        ):
            raise invalid(
                "outputs", owner, "distinct names of letters, digits, '_', '-' and '.'", name
            )
        names.append(name)
    return names


def check_target(target: Any, owner: str) -> str:
    """``None``/``"local"``, a name (``"ray"``, a ``ComputeTarget``'s), an address ``"SCHEME://HOST[:PORT]"``
    (``"ray://HOST:PORT"``), or a ``ComputeTarget`` (its ``target``).

    An address must be one an executor runs (each executor declares its ``compute_targets``); which
    ``ComputeTarget`` a name is, is decided at submission.
    """
    resolved = getattr(target, "hypersweep_target", None)
    if isinstance(resolved, str):
        target = resolved  # a ComputeTarget: local, or the Ray address configured for its name
    if target is None or target == "local":
        return "local"
    if isinstance(target, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9\-]{1,31}", target):
        return (
            target  # an executor's target name, or a compute target's name (ComputeTarget.create)
        )
    if isinstance(target, str) and re.fullmatch(r"[a-z][a-z0-9+.\-]*://[^\s/:]+(:\d+)?", target):
        from hypersweep.executors import is_target, target_forms

        if is_target(target):
            return target  # an executor's address form, such as ray://HOST:PORT
        forms = ", ".join(repr(f) for f in target_forms())
        raise invalid("compute_target", owner, f"an address an executor runs ({forms})", target)
    raise invalid(
        "compute_target",
        owner,
        "'local', 'ray', 'ray://HOST:PORT' or a compute target (or its name)",
        target,
    )


def check_resources(resources: Any, owner: str) -> dict[str, Any]:
    """``{"num_cpus": float, "num_gpus": float, "resources": {name: float}}``, all optional."""
    if resources is None:
        return {}
    if not isinstance(resources, Mapping):
        raise invalid(
            "resources", owner, "a dict such as {'num_cpus': 1, 'num_gpus': 0}", resources
        )
    out: dict[str, Any] = {}
    for key, value in resources.items():
        if key in ("num_cpus", "num_gpus"):
            number = check_number(value, f"resources['{key}']", owner)
            if number < 0:
                raise invalid(f"resources['{key}']", owner, "a number >= 0", value)
            if key == "num_gpus" and number > 1 and not number.is_integer():
                raise invalid(
                    "resources['num_gpus']",
                    owner,
                    "a share of one GPU (0 to 1, such as 0.5) or a whole number of GPUs",
                    value,
                )
            if key == "num_gpus" and 0 < number < 1 and round(number * 10_000) == 0:
                raise invalid(
                    "resources['num_gpus']",
                    owner,
                    "0, or at least 0.0001 (Ray's smallest share)",
                    value,
                )
            out[key] = number
        elif key == "resources":
            if not isinstance(value, Mapping):
                raise invalid(
                    "resources['resources']", owner, "a dict of custom resource amounts", value
                )
            out[key] = {
                str(k): check_number(v, f"resources['resources'][{k!r}]", owner)
                for k, v in value.items()
            }
        else:
            raise invalid("resources", owner, "keys among num_cpus, num_gpus, resources", key)
    return out


class FunctionRunConfig:
    """A Python callable as the trial: ``fn(config_dict)``, where keys are names without dashes.

    The callable logs with ``Run.get_context()``; if it returns a number and did not log the
    primary metric, the number is logged as the primary metric. Passing the callable itself as
    ``run_config`` is the same as ``FunctionRunConfig(callable)``.

    Args:
        function: the trial.
        compute_target: ``"local"`` (threads of this process), ``"ray"`` or ``"ray://HOST:PORT"``.
        resources: what each trial asks for (see :class:`ScriptRunConfig`). Locally, callables share this
            process and its devices: ``num_gpus`` limits how many run at once and names each one's
            devices (the run's tag ``hypersweep.devices``) without isolating them; on Ray each gets its own.
    """

    def __init__(
        self,
        function: Callable[[dict[str, Any]], Any],
        compute_target: str | None = None,
        resources: Mapping[str, Any] | None = None,
    ) -> None:
        if not callable(function):
            raise invalid(
                "run_config", "HyperDriveConfig", "a ScriptRunConfig or a callable", function
            )
        self.function = function
        self.compute_target = check_target(compute_target, "FunctionRunConfig")
        self.resources = check_resources(resources, "FunctionRunConfig")

    def build_arguments(self, config: Mapping[str, Any]) -> list[str]:
        out: list[str] = []
        for name, value in flat_values(config).items():
            out += [flag_name(name), format_value(value)]
        return out

    def describe(self) -> dict[str, Any]:
        fn = self.function
        name = f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"
        try:
            source = inspect.getsourcefile(fn)
        except TypeError:
            source = None
        return {
            "type": "function",
            "function": name,
            "source": source,
            "target": self.compute_target,
            "resources": self.resources,
        }


class HyperDriveConfig:
    """Everything that defines a sweep.

    Args:
        run_config: a :class:`ScriptRunConfig`, or a callable that takes the sampled values as a dict.
        hyperparameter_sampling: ``RandomParameterSampling``, ``GridParameterSampling`` or
            ``BayesianParameterSampling``.
        primary_metric_name: the metric the training code logs, matched exactly (case-sensitive).
        primary_metric_goal: ``PrimaryMetricGoal.MAXIMIZE`` or ``MINIMIZE`` (or ``"maximize"``/``"minimize"``).
        max_total_runs: 1 to 1000.
        max_concurrent_runs: 1 to 100; None or 0 means ``min(max_total_runs, 100)``.
        max_duration_minutes: the sweep's time limit; running runs are canceled when it passes. At most
            10080 (7 days): a larger value is capped, with HyperDrive's warning.
        policy: an early-termination policy; None means no early termination.
        resume_from: up to five earlier sweeps (``HyperDriveRun`` objects or their ids) to warm-start
            from: with Bayesian sampling their runs are prior observations; with any sampling their
            metric histories take part in early-termination decisions.
        resume_child_runs: runs of earlier sweeps (``Run`` objects or ids) to run again first, with
            the same values plus ``--resume-from <their outputs folder>`` (their checkpoint).
        trial_timeout: per-run time limit in seconds (a run past it is canceled).

    Example:
        >>> from hypersweep import (HyperDriveConfig, PrimaryMetricGoal, RandomParameterSampling,
        ...                         uniform)
        >>> def train(cfg):
        ...     return 1 - (cfg["x"] - 0.3) ** 2
        >>> config = HyperDriveConfig(run_config=train,
        ...     hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}),
        ...     primary_metric_name="score", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        ...     max_total_runs=20, max_concurrent_runs=4)
    """

    def __init__(
        self,
        hyperparameter_sampling: HyperParameterSampling | None = None,
        primary_metric_name: str | None = None,
        primary_metric_goal: PrimaryMetricGoal | str | None = None,
        max_total_runs: int | None = None,
        max_concurrent_runs: int | None = None,
        max_duration_minutes: float = MAX_DURATION_MINUTES,
        policy: EarlyTerminationPolicy | None = None,
        estimator: Any = None,
        run_config: ScriptRunConfig | Callable[[dict[str, Any]], Any] | None = None,
        resume_from: Any = None,
        resume_child_runs: Any = None,
        pipeline: Any = None,
        debug_flag: Any = None,
        custom_run_id: str | None = None,
        *,
        trial_timeout: float | None = None,
    ) -> None:
        owner = "HyperDriveConfig"
        if pipeline is not None:
            raise InvalidConfigError(
                "Pipelines are not supported: pass run_config=ScriptRunConfig(...)."
            )
        if estimator is not None:
            raise InvalidConfigError(
                "Estimators are deprecated in HyperDrive and not supported: pass "
                "run_config=ScriptRunConfig(source_directory=..., script=..., arguments=...)."
            )
        if run_config is None:
            raise InvalidConfigError(
                "HyperDriveConfig needs run_config: a ScriptRunConfig or a callable trial."
            )
        self.run_config: ScriptRunConfig | FunctionRunConfig
        if isinstance(run_config, (ScriptRunConfig, FunctionRunConfig)):
            self.run_config = run_config
        else:
            self.run_config = FunctionRunConfig(run_config)
        if not isinstance(hyperparameter_sampling, HyperParameterSampling):
            raise invalid(
                "hyperparameter_sampling",
                owner,
                "a RandomParameterSampling, GridParameterSampling or BayesianParameterSampling",
                hyperparameter_sampling,
            )
        self.hyperparameter_sampling = hyperparameter_sampling
        if not isinstance(primary_metric_name, str) or not primary_metric_name.strip():
            raise invalid(
                "primary_metric_name",
                owner,
                "a non-empty string (the name your script logs)",
                primary_metric_name,
            )
        self.primary_metric_name = primary_metric_name
        if primary_metric_goal is None:
            raise invalid(
                "primary_metric_goal", owner, "PrimaryMetricGoal.MAXIMIZE or MINIMIZE", None
            )
        self.primary_metric_goal = PrimaryMetricGoal.from_str(primary_metric_goal)
        self.max_total_runs = check_int(
            max_total_runs, "max_total_runs", owner, low=1, high=MAX_TOTAL_RUNS
        )
        if max_concurrent_runs is None or (
            max_concurrent_runs == 0 and not isinstance(max_concurrent_runs, bool)
        ):
            self.max_concurrent_runs = min(self.max_total_runs, MAX_CONCURRENT_RUNS)
        else:
            self.max_concurrent_runs = check_int(
                max_concurrent_runs, "max_concurrent_runs", owner, low=1, high=MAX_CONCURRENT_RUNS
            )
        duration = check_number(max_duration_minutes, "max_duration_minutes", owner)
        if duration <= 0:
            raise invalid(
                "max_duration_minutes", owner, "a positive number of minutes", max_duration_minutes
            )
        if duration > MAX_DURATION_MINUTES:
            # HyperDrive's own warning and behaviour: the value is capped
            warnings.warn(
                f"The experiment maximum duration provided ({duration:g} minutes) exceeds the service limit of "
                f"{MAX_DURATION_MINUTES} minutes. The maximum duration will be overridden with "
                f"{MAX_DURATION_MINUTES} minutes.",
                UserWarning,
                stacklevel=2,
            )
            duration = float(MAX_DURATION_MINUTES)
        self.max_duration_minutes = duration
        if policy is not None and not isinstance(policy, EarlyTerminationPolicy):
            raise invalid(
                "policy",
                owner,
                "an early-termination policy such as BanditPolicy(...) or None",
                policy,
            )
        self.policy = policy
        if trial_timeout is None and isinstance(self.run_config, ScriptRunConfig):
            trial_timeout = self.run_config.max_run_duration_seconds
        if trial_timeout is not None:
            timeout = check_number(trial_timeout, "trial_timeout", owner)
            if timeout <= 0:
                raise invalid("trial_timeout", owner, "a positive number of seconds", trial_timeout)
            trial_timeout = timeout
        self.trial_timeout = trial_timeout
        if custom_run_id is not None and (
            not isinstance(custom_run_id, str)
            or not re.fullmatch(r"[A-Za-z0-9_\-]+", custom_run_id)
        ):
            raise invalid("custom_run_id", owner, "letters, digits, '_' and '-'", custom_run_id)
        self.custom_run_id = custom_run_id
        if isinstance(self.run_config, ScriptRunConfig):
            self.run_config.validate_space(list(hyperparameter_sampling.space))
        self.resume_from = _run_refs(resume_from, "resume_from", limit=MAX_PARENTS)
        self.resume_child_runs = _run_refs(
            resume_child_runs, "resume_child_runs", limit=self.max_total_runs
        )
        self._check_sampling()

    def _check_sampling(self) -> None:
        sampling = self.hyperparameter_sampling
        if sampling.uses_observations:  # a model of the objective needs data in every dimension
            n = len(sampling.space)
            if self.max_total_runs < 20 * n:
                warnings.warn(
                    f"{sampling.sampling_title} sampling works best with max_total_runs >= 20 x the number of "
                    f"hyperparameters ({20 * n}); this sweep has {self.max_total_runs}.",
                    UserWarning,
                    stacklevel=3,
                )

    @property
    def source_directory(self) -> str | None:
        rc = self.run_config
        return str(rc.source_directory) if isinstance(rc, ScriptRunConfig) else None

    def describe(self) -> dict[str, Any]:
        """The sweep's definition as plain JSON data (stored with the sweep)."""
        return {
            "generator_config": self.hyperparameter_sampling.to_json(),
            "primary_metric": {
                "name": self.primary_metric_name,
                "goal": self.primary_metric_goal.name.lower(),
            },
            "policy_config": (self.policy.to_json() if self.policy else {"name": "Default"}),
            "max_total_runs": self.max_total_runs,
            "max_concurrent_runs": self.max_concurrent_runs,
            "max_duration_minutes": self.max_duration_minutes,
            "trial_timeout": self.trial_timeout,
            "run_config": self.run_config.describe(),
            "resume_from": [r if isinstance(r, str) else r.id for r in self.resume_from],
            "resume_child_runs": [
                r if isinstance(r, str) else r.id for r in self.resume_child_runs
            ],
        }


MAX_PARENTS = 5


def _run_refs(value: Any, param: str, limit: int) -> list[Any]:
    """A run, an id or a list of them; checked for type, duplicates and count."""
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    ids = []
    for item in items:
        run_id = item if isinstance(item, str) else getattr(item, "id", None)
        if not isinstance(run_id, str) or (
            not isinstance(item, str) and not hasattr(item, "experiment")
        ):
            raise invalid(param, "HyperDriveConfig", "runs (or run ids) of earlier sweeps", item)
        ids.append(run_id)
    if len(set(ids)) != len(ids):
        raise invalid(param, "HyperDriveConfig", "a list without duplicate runs", ids)
    if len(items) > limit:
        raise invalid(
            param, "HyperDriveConfig", f"a list of at most {limit} runs", f"{len(items)} runs"
        )
    return items


class HyperDriveRunConfig(HyperDriveConfig):
    """HyperDrive's deprecated name for :class:`HyperDriveConfig` (a ``DeprecationWarning`` says so)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            "HyperDriveRunConfig is deprecated; use HyperDriveConfig, which takes the same arguments.",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(*args, **kwargs)
