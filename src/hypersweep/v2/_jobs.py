"""v2's job objects: ``command(...)``, ``Input``, ``Output``, ``SweepJob`` and the jobs read back.

A sweep job is only a way of writing a sweep-job YAML: :meth:`SweepJob._to_data` gives the same
mapping a YAML file holds, and hypersweep's sweep-file validation turns it into the one internal
sweep description (a ``HyperDriveConfig``) that YAML files and the v1 API also produce.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from hypersweep._validation import check_int, check_number, invalid
from hypersweep.errors import InvalidConfigError
from hypersweep.space import ParameterExpression
from hypersweep.sweepfile import INPUT_TYPES, OUTPUT_TYPES

COMMAND_METRIC = "none (a command job)"
SCHEMA = "https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json"
DASHBOARD = "http://127.0.0.1:8765"
_INPUT_REF = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_.\-]+)\s*\}\}")


class Input:
    """``Input(type="uri_file", path=..., mode=...)``: a file, a folder or a literal given to the trial."""

    def __init__(
        self,
        *,
        type: str = "uri_folder",
        path: str | os.PathLike[str] | None = None,  # noqa: A002
        mode: str | None = None,
        default: Any = None,
        optional: bool | None = None,
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        if type not in INPUT_TYPES:
            raise invalid("type", "Input", f"one of {', '.join(INPUT_TYPES)}", type)
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise invalid(
                "path", "Input", "a local path, an http(s) URL or an Azure ML location", path
            )
        if mode is not None and not isinstance(mode, str):
            raise invalid("mode", "Input", "a string such as 'ro_mount' or 'download'", mode)
        self.type, self.path, self.mode = type, None if path is None else os.fspath(path), mode
        self.default, self.optional, self.description = default, optional, description

    def _to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        if self.path is not None:
            data["path"] = self.path
        elif self.default is not None:
            data["value"] = self.default
        if self.mode is not None:
            data["mode"] = self.mode
        return data

    def __repr__(self) -> str:
        return f"Input(type={self.type!r}, path={self.path!r})"


class Output:
    """``Output(type="uri_folder")``: a folder of each trial, ``outputs/NAME`` in its run folder."""

    def __init__(
        self,
        *,
        type: str = "uri_folder",
        path: str | None = None,
        mode: str | None = None,  # noqa: A002
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        if type not in OUTPUT_TYPES:
            raise invalid("type", "Output", f"one of {', '.join(OUTPUT_TYPES)}", type)
        self.type, self.path, self.mode, self.description = type, path, mode, description

    def _to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        if self.mode is not None:
            data["mode"] = self.mode
        return data

    def __repr__(self) -> str:
        return f"Output(type={self.type!r}, path={self.path!r})"


def _local(path: str, base: Path) -> str:
    """A local path as the YAML at ``base`` should write it (URLs and cloud locations unchanged)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", path) and not re.match(r"^[A-Za-z]:[\\/]", path):
        return path
    absolute = Path(path).expanduser().resolve()
    try:
        return os.path.relpath(absolute, base)
    except ValueError:
        return str(absolute)


_COMMAND_ARGS = {
    "code",
    "command",
    "inputs",
    "outputs",
    "environment",
    "compute",
    "display_name",
    "experiment_name",
    "description",
    "tags",
    "properties",
    "name",
    "environment_variables",
    "distribution",
    "resources",
    "instance_count",
    "instance_type",
    "identity",
    "services",
    "shm_size",
    "timeout",
    "queue_settings",
    "is_deterministic",
    "docker_args",
    "job_tier",
    "priority",
    "version",
}


class CommandJob:
    """What ``command(...)`` returns: a command with inputs; call it with sweep expressions, then ``.sweep(...)``."""

    def __init__(self, **kwargs: Any) -> None:
        for key in kwargs:
            if key not in _COMMAND_ARGS:
                raise invalid(
                    key,
                    "command",
                    f"one of its arguments ({', '.join(sorted(_COMMAND_ARGS))})",
                    key,
                )
        command = kwargs.get("command")
        if not isinstance(command, str) or not command.strip():
            raise invalid(
                "command",
                "command",
                "a command string such as 'python train.py --lr ${{inputs.lr}}'",
                command,
            )
        code = kwargs.get("code")
        if code is not None and not isinstance(code, (str, os.PathLike)):
            raise invalid("code", "command", "a local folder", code)
        inputs = kwargs.get("inputs") or {}
        if not isinstance(inputs, Mapping):
            raise invalid("inputs", "command", "a dict of name -> Input or value", inputs)
        outputs = kwargs.get("outputs") or {}
        if not isinstance(outputs, Mapping) or not all(
            v is None or isinstance(v, Output) for v in outputs.values()
        ):
            raise invalid("outputs", "command", "a dict of name -> Output", outputs)
        for key in ("compute", "display_name", "experiment_name", "description", "name"):
            if kwargs.get(key) is not None and not isinstance(kwargs[key], str):
                raise invalid(key, "command", "a string", kwargs[key])
        self.command: str = command
        self.code = None if code is None else os.fspath(code)
        self.inputs: dict[str, Any] = dict(inputs)
        self.outputs: dict[str, Output | None] = dict(outputs)
        self.environment = kwargs.get("environment")
        self.compute: str | None = kwargs.get("compute")
        self.display_name: str | None = kwargs.get("display_name")
        self.experiment_name: str | None = kwargs.get("experiment_name")
        self.description: str | None = kwargs.get("description")
        self.tags: dict[str, Any] = dict(kwargs.get("tags") or {})
        self.environment_variables: dict[str, Any] = dict(kwargs.get("environment_variables") or {})
        self.distribution = kwargs.get("distribution")
        resources = dict(kwargs.get("resources") or {})
        for key in ("instance_count", "instance_type", "shm_size"):
            if kwargs.get(key) is not None:
                resources[key] = kwargs[key]
        self.resources = resources
        self.identity = kwargs.get("identity")
        self.name: str | None = kwargs.get("name")
        self._ws: Any = None

    def __call__(self, **inputs: Any) -> CommandJob:
        """A copy with these inputs set: values, ``Input`` objects or sweep expressions (``Choice(...)``)."""
        known = set(self.inputs) | set(_INPUT_REF.findall(self.command))
        job = copy.copy(self)
        job.inputs = dict(self.inputs)
        for name, value in inputs.items():
            if name not in known:
                raise invalid(
                    name,
                    "the command job",
                    f"one of its inputs ({', '.join(sorted(known)) or 'none'})",
                    value,
                )
            job.inputs[name] = value
        return job

    def sweep(
        self,
        *,
        primary_metric: str | None = None,
        goal: str | None = None,
        sampling_algorithm: Any = "random",
        compute: str | None = None,
        max_concurrent_trials: int | None = None,
        max_total_trials: int | None = None,
        timeout: float | None = None,
        trial_timeout: float | None = None,
        early_termination_policy: Any = None,
        search_space: Mapping[str, Any] | None = None,
        identity: Any = None,
        queue_settings: Any = None,
        **kwargs: Any,
    ) -> SweepJob:
        """The sweep job over this command's inputs that are sweep expressions (and ``search_space``)."""
        space = {k: v for k, v in self.inputs.items() if isinstance(v, ParameterExpression)}
        space.update(search_space or {})
        trial = copy.copy(self)
        trial.inputs = {k: v for k, v in self.inputs.items() if k not in space}
        job = SweepJob(
            trial=trial,
            search_space=space,
            sampling_algorithm=sampling_algorithm,
            objective=Objective(goal=goal, primary_metric=primary_metric),
            compute=compute or self.compute,
            early_termination=early_termination_policy,
            identity=identity,
            queue_settings=queue_settings,
            display_name=self.display_name,
            experiment_name=self.experiment_name,
            description=self.description,
            tags=dict(self.tags),
        )
        job.set_limits(
            max_concurrent_trials=max_concurrent_trials,
            max_total_trials=max_total_trials,
            timeout=timeout,
            trial_timeout=trial_timeout,
        )
        return job

    def _as_sweep(self) -> SweepJob:
        """A command job submitted on its own: one trial, its literal inputs as one-value choices (so the
        run records them as its hyperparameters), tagged as a command job."""
        from hypersweep.v2._search import Choice, GridSamplingAlgorithm

        used = set(_INPUT_REF.findall(self.command))
        fixed = {
            k: Choice(values=[v])
            for k, v in self.inputs.items()
            if k in used and isinstance(v, (str, int, float, bool))
        }
        if not fixed:
            raise InvalidConfigError(
                "create_or_update received a command job without a literal input in its command; hypersweep runs "
                "a command job as one trial whose inputs (numbers, strings) are its recorded values. Give it one, "
                "e.g. inputs={'seed': 1} with ${{inputs.seed}} in the command, or sweep it with .sweep(...)."
            )
        job = self(**fixed).sweep(
            primary_metric=COMMAND_METRIC,
            goal="maximize",
            sampling_algorithm=GridSamplingAlgorithm(),
            max_total_trials=1,
        )
        job.tags["hypersweep.job_type"] = "command"
        return job

    def _trial_data(
        self, base: Path, swept: set[str]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The YAML's ``trial``, ``inputs`` and ``outputs`` (a swept input's placeholder becomes search_space's)."""
        command = _INPUT_REF.sub(
            lambda m: f"${{{{search_space.{m.group(1)}}}}}" if m.group(1) in swept else m.group(0),
            self.command,
        )
        trial: dict[str, Any] = {"code": _local(self.code or ".", base), "command": command}
        if self.environment is not None:
            env = self.environment
            trial["environment"] = (
                env if isinstance(env, (str, Mapping)) else str(getattr(env, "name", env))
            )
        if self.environment_variables:
            trial["environment_variables"] = {
                str(k): str(v) for k, v in self.environment_variables.items()
            }
        if self.distribution is not None:
            dist = self.distribution
            trial["distribution"] = (
                dist if isinstance(dist, Mapping) else {"type": type(dist).__name__.lower()}
            )
        if self.resources:
            trial["resources"] = dict(self.resources)
        inputs: dict[str, Any] = {}
        for name, value in self.inputs.items():
            if isinstance(value, Input):
                data = value._to_data()
                if "path" in data and value.type in ("uri_file", "uri_folder", "mltable"):
                    data["path"] = _local(str(data["path"]), base)
                inputs[name] = data
            elif isinstance(value, (str, int, float, bool)):
                inputs[name] = value
            else:
                raise invalid(
                    name, "the command's inputs", "an Input, a number, a string or a boolean", value
                )
        outputs = {name: (out or Output())._to_data() for name, out in self.outputs.items()}
        return trial, inputs, outputs

    def __repr__(self) -> str:
        return f"CommandJob(command={self.command!r}, inputs={self.inputs!r})"


class Objective:
    """``Objective(goal="maximize"|"minimize", primary_metric=NAME)``."""

    def __init__(self, *, goal: str | None = None, primary_metric: str | None = None) -> None:
        if not isinstance(goal, str) or goal.lower() not in ("maximize", "minimize"):
            raise invalid("goal", "Objective", "'maximize' or 'minimize' (any case)", goal)
        if not isinstance(primary_metric, str) or not primary_metric.strip():
            raise invalid(
                "primary_metric",
                "Objective",
                "a non-empty metric name (the name the script logs)",
                primary_metric,
            )
        self.goal, self.primary_metric = goal.lower(), primary_metric


class SweepJobLimits:
    """``SweepJobLimits(max_concurrent_trials, max_total_trials, timeout, trial_timeout)`` (seconds)."""

    def __init__(
        self,
        *,
        max_concurrent_trials: int | None = None,
        max_total_trials: int | None = None,
        timeout: float | None = None,
        trial_timeout: float | None = None,
    ) -> None:
        owner = "SweepJob.set_limits"
        self.max_total_trials = (
            None
            if max_total_trials is None
            else check_int(max_total_trials, "max_total_trials", owner, low=1, high=1000)
        )
        self.max_concurrent_trials = (
            None
            if max_concurrent_trials is None
            else check_int(max_concurrent_trials, "max_concurrent_trials", owner, low=1, high=100)
        )
        for key, value in (("timeout", timeout), ("trial_timeout", trial_timeout)):
            if value is not None and check_number(value, key, owner) <= 0:
                raise invalid(key, owner, "a positive number of seconds", value)
        self.timeout, self.trial_timeout = timeout, trial_timeout

    def _to_data(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


class SweepJob:
    """A sweep job: a command (``trial``), a ``search_space``, an ``objective``, limits and a policy.

    After ``ml_client.create_or_update(job)`` the returned job carries ``name`` (the sweep's id),
    ``status``, ``studio_url`` (its page on the dashboard), ``properties["best_child_run_id"]`` and
    ``outputs``.
    """

    def __init__(
        self,
        *,
        trial: CommandJob | None = None,
        search_space: Mapping[str, Any] | None = None,
        objective: Objective | None = None,
        sampling_algorithm: Any = "random",
        early_termination: Any = None,
        limits: SweepJobLimits | None = None,
        compute: str | None = None,
        name: str | None = None,
        display_name: str | None = None,
        experiment_name: str | None = None,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        identity: Any = None,
        queue_settings: Any = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(trial, CommandJob):
            raise invalid("trial", "SweepJob", "a command job, as command(...) returns", trial)
        if not isinstance(objective, Objective):
            raise invalid(
                "objective", "SweepJob", "an Objective(goal=..., primary_metric=...)", objective
            )
        self.trial, self.objective = trial, objective
        self.search_space: dict[str, Any] = dict(search_space or {})
        for key, expr in self.search_space.items():
            if not isinstance(expr, ParameterExpression):
                raise invalid(
                    f"search_space[{key!r}]",
                    "SweepJob",
                    "a sweep expression such as Choice([...])",
                    expr,
                )
        self.sampling_algorithm = sampling_algorithm
        self.early_termination = early_termination
        self.limits = limits or SweepJobLimits()
        self.compute, self.name, self.display_name = compute, name, display_name
        self.experiment_name, self.description = experiment_name, description
        self.tags: dict[str, Any] = dict(tags or {})
        self.identity, self.queue_settings = identity, queue_settings
        self._ws: Any = None

    def set_limits(
        self,
        *,
        max_concurrent_trials: int | None = None,
        max_total_trials: int | None = None,
        timeout: float | None = None,
        trial_timeout: float | None = None,
    ) -> None:
        """Set the sweep's limits (v2's arguments; the times are seconds)."""
        old = self.limits
        self.limits = SweepJobLimits(
            max_concurrent_trials=old.max_concurrent_trials
            if max_concurrent_trials is None
            else max_concurrent_trials,
            max_total_trials=old.max_total_trials if max_total_trials is None else max_total_trials,
            timeout=old.timeout if timeout is None else timeout,
            trial_timeout=old.trial_timeout if trial_timeout is None else trial_timeout,
        )

    def _to_data(self, base: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """The sweep-job YAML mapping of this job; local paths written relative to ``base`` (default: cwd)."""
        from hypersweep.policy.base import EarlyTerminationPolicy
        from hypersweep.v2._search import _Policy, _Sampling

        folder = Path(base or Path.cwd()).resolve()
        trial, inputs, outputs = self.trial._trial_data(folder, set(self.search_space))
        data: dict[str, Any] = {"$schema": SCHEMA, "type": "sweep"}
        for key in ("display_name", "experiment_name", "description"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.tags:
            data["tags"] = {str(k): str(v) for k, v in self.tags.items()}
        if self.compute is not None:
            data["compute"] = self.compute
        data["trial"] = trial
        if inputs:
            data["inputs"] = inputs
        if outputs:
            data["outputs"] = outputs
        sampling = self.sampling_algorithm
        if isinstance(sampling, _Sampling):
            data["sampling_algorithm"] = sampling._to_data()
        elif isinstance(sampling, str):
            data["sampling_algorithm"] = sampling.lower()
        else:
            raise invalid(
                "sampling_algorithm",
                "SweepJob",
                "'random', 'grid', 'bayesian' or a SamplingAlgorithm",
                sampling,
            )
        if not self.search_space:
            raise invalid(
                "search_space",
                "SweepJob",
                "a non-empty dict: call the command with sweep expressions, "
                "e.g. command_job(lr=Uniform(min_value=0.01, max_value=0.9))",
                {},
            )
        data["search_space"] = {k: v.to_dict() for k, v in self.search_space.items()}
        data["objective"] = {
            "goal": self.objective.goal,
            "primary_metric": self.objective.primary_metric,
        }
        limits = self.limits._to_data()
        if limits:
            data["limits"] = limits
        policy = self.early_termination
        if isinstance(
            policy, EarlyTerminationPolicy
        ):  # any of hypersweep's policies (AshaPolicy, ...)
            data["early_termination"] = policy.to_data()
        elif policy is not None:
            if not isinstance(policy, _Policy):
                raise invalid(
                    "early_termination",
                    "SweepJob",
                    "a BanditPolicy, MedianStoppingPolicy or TruncationSelectionPolicy",
                    policy,
                )
            data["early_termination"] = policy._to_data()
        for key in ("identity", "queue_settings"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value if isinstance(value, Mapping) else {"type": type(value).__name__}
        return data

    def dump(self, dest: str | os.PathLike[str], **kwargs: Any) -> None:
        """Write the job as a sweep-job YAML file that ``hypersweep run`` (and ``az ml job create``) accepts."""
        dump_yaml(self, dest)

    # -- what a submitted job carries --------------------------------------------------------------

    def _sweep(self) -> Any:
        if self._ws is None or self.name is None:
            return None
        return self._ws.get_run(self.name)

    @property
    def status(self) -> str | None:
        """The sweep's status (None before it is submitted)."""
        sweep = self._sweep()
        return None if sweep is None else sweep.get_status()

    @property
    def studio_url(self) -> str | None:
        """The sweep's page on the dashboard (``hypersweep ui``)."""
        return None if self.name is None else f"{DASHBOARD}/sweeps/{self.name}"

    @property
    def properties(self) -> dict[str, Any]:
        """``best_child_run_id`` (once a run logged the primary metric) and the sweep's settings."""
        sweep = self._sweep()
        if sweep is None:
            return {}
        best = sweep.get_best_run_by_primary_metric()
        props: dict[str, Any] = {
            "primary_metric": self.objective.primary_metric,
            "goal": self.objective.goal,
        }
        if best is not None:
            props["best_child_run_id"] = best.id
        return props

    @property
    def outputs(self) -> dict[str, Output]:
        """The sweep's outputs: each named output of the best run (its folder ``outputs/NAME``)."""
        sweep = self._sweep()
        best = None if sweep is None else sweep.get_best_run_by_primary_metric()
        out: dict[str, Output] = {}
        for name, spec in self.trial.outputs.items():
            path = None
            if best is not None:
                path = str(run_folder(best) / "outputs" / name)
            out[name] = Output(type=(spec or Output()).type, path=path)
        return out

    def __repr__(self) -> str:
        return (
            f"SweepJob(name={self.name!r}, status={self.status!r}, studio_url={self.studio_url!r})"
        )


def run_folder(run: Any) -> Path:
    """The folder of a run (its ``outputs/`` and ``logs/``)."""
    return Path(run.experiment.workspace.store.run(run.id).run_dir)


def dump_yaml(job: SweepJob, dest: str | os.PathLike[str]) -> Path:
    """Write ``job`` as a sweep-job YAML file at ``dest``; local paths are relative to its folder."""
    if not isinstance(job, SweepJob):
        raise invalid("job", "dump_yaml", "a SweepJob (command(...).sweep(...))", job)
    path = Path(dest)
    data = job._to_data(base=path.parent)
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    path.write_text(text)
    return path


class Job:
    """A job read back with ``ml_client.jobs.get`` or ``.list``: a sweep or one of its trials."""

    def __init__(self, run: Any) -> None:
        from hypersweep.experiment import HyperDriveRun

        self._run = run
        self.name: str = run.id
        self.display_name = self.name
        self.experiment_name = run.experiment.name
        sweep = isinstance(run, HyperDriveRun)
        self.parent_job_name: str | None = None if sweep else run.parent.id
        self.type = "sweep" if sweep else "command"
        self.tags = run.get_tags()

    @property
    def status(self) -> str:
        return self._run.get_status()

    @property
    def studio_url(self) -> str:
        kind = "sweeps" if self.type == "sweep" else "runs"
        return f"{DASHBOARD}/{kind}/{self.name}"

    @property
    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        if self.type == "sweep":
            best = self._run.get_best_run_by_primary_metric()
            if best is not None:
                props["best_child_run_id"] = best.id
        else:
            props.update(self._run.get_details().get("properties", {}))
        return props

    @property
    def outputs(self) -> dict[str, Output]:
        run = self._run
        if self.type == "sweep":
            run = run.get_best_run_by_primary_metric()
            if run is None:
                return {}
        folder = run_folder(run) / "outputs"
        return (
            {
                p.name: Output(type="uri_folder", path=str(p))
                for p in sorted(folder.iterdir())
                if p.is_dir()
            }
            if folder.is_dir()
            else {}
        )

    def __repr__(self) -> str:
        return f"Job(name={self.name!r}, type={self.type!r}, status={self.status!r})"


def check_job(job: Any) -> SweepJob:
    """``job`` as a sweep job to submit (a command job as a sweep of one trial), or a clear error."""
    if isinstance(job, SweepJob):
        return job
    if isinstance(job, CommandJob):
        return job._as_sweep()
    raise invalid(
        "job", "MLClient.create_or_update", "a SweepJob (command(...)(...).sweep(...))", job
    )
