"""Turning a sweep definition into a running controller: new sweeps, warm starts and resumed sweeps."""

from __future__ import annotations

import importlib
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypersweep.config import (
    MAX_PARENTS,
    MAX_TOTAL_RUNS,
    FunctionRunConfig,
    HyperDriveConfig,
    ScriptRunConfig,
)
from hypersweep.controller import PriorRun, ResumeRequest, SweepController, SweepPlan
from hypersweep.errors import InvalidConfigError, NotFoundError
from hypersweep.executors import TrialSpec, make_executor
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.mlflow import trial_env as mlflow_trial_env
from hypersweep.policy import EarlyTerminationPolicy, NoTerminationPolicy
from hypersweep.run import ENV_EVENTS, ENV_EXPERIMENT, ENV_PRIMARY_METRIC, ENV_RUN_ID, ENV_WORKSPACE
from hypersweep.sampling.base import HyperParameterSampling
from hypersweep.snapshot import take_snapshot
from hypersweep.space import plain_name
from hypersweep.status import RunStatus
from hypersweep.store import STATE_DIR, Store

ENV_RESUME_FROM = "HYPERSWEEP_RESUME_FROM"


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def sampling_from_json(data: dict[str, Any]) -> HyperParameterSampling:
    """Rebuild a sampling method from its ``to_json()`` form (``{"name", "parameter_space", "properties"}``)."""
    import hypersweep.sampling  # noqa: F401 - registers every sampling class

    for cls in _subclasses(HyperParameterSampling):
        if getattr(cls, "sampling_name", None) == data["name"]:
            return cls(data["parameter_space"], properties=data.get("properties"))
    raise InvalidConfigError(f"Unknown sampling method {data['name']!r} in the stored sweep.")


def policy_from_json(data: dict[str, Any]) -> EarlyTerminationPolicy | None:
    """Rebuild a policy from its ``to_json()`` form (``{"name", "properties"}``)."""
    if data.get("name") in (None, "Default"):
        return None
    for cls in _subclasses(EarlyTerminationPolicy):
        if getattr(cls, "policy_name", None) == data["name"] and cls is not NoTerminationPolicy:
            return cls(**data.get("properties", {}))
    raise InvalidConfigError(f"Unknown early-termination policy {data['name']!r} in the stored sweep.")


def run_config_from_description(description: dict[str, Any]) -> ScriptRunConfig | FunctionRunConfig:
    """The run configuration a stored sweep was submitted with (scripts run from their snapshot)."""
    rc = description["run_config"]
    if rc["type"] == "script":
        return ScriptRunConfig(
            source_directory=rc["snapshot"],
            script=rc.get("script"),
            arguments=rc.get("arguments") or None,
            command=rc.get("command"),
            environment_variables=rc.get("environment_variables"),
            inputs=rc.get("inputs"),
            compute_target=rc.get("target"),
            resources=rc.get("resources"),
        )
    module, _, qualname = rc["function"].partition(":")
    try:
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        raise InvalidConfigError(
            f"The sweep's trial is the callable {rc['function']}, which cannot be imported here; "
            "resume it from Python with HyperDriveRun.resume(run_config=<the function>)."
        ) from None
    return FunctionRunConfig(target, compute_target=rc.get("target"), resources=rc.get("resources"))


# -- warm start and resumed child runs ----------------------------------------------------------


def _sweep_row(store: Store, ref: Any) -> Any:
    sweep_id = ref if isinstance(ref, str) else ref.id
    try:
        return store.sweep(sweep_id)
    except NotFoundError:
        raise InvalidConfigError(f"resume_from names {sweep_id!r}, which is not a sweep of this workspace.") from None


def _check_parent(row: Any, metric: str, goal: PrimaryMetricGoal, param: str) -> None:
    if row["primary_metric"] != metric or PrimaryMetricGoal.from_str(row["goal"]) is not goal:
        raise InvalidConfigError(
            f"{param}: the primary metric must be the same for all sweeps. This sweep's is {metric!r} "
            f"({goal.name.lower()}), while {row['id']} has {row['primary_metric']!r} ({row['goal']})."
        )


def warm_start(
    store: Store,
    metric: str,
    goal: PrimaryMetricGoal,
    sampling: HyperParameterSampling,
    resume_from: Sequence[Any],
    resume_child_runs: Sequence[Any],
    max_total_runs: int,
) -> tuple[list[PriorRun], list[ResumeRequest], list[str], list[str]]:
    """Resolve and check ``resume_from`` and ``resume_child_runs`` (runs or ids).

    Returns:
        (prior runs, resume requests, parent sweep ids, resumed child run ids).
    """
    parents = [_sweep_row(store, ref) for ref in resume_from]
    total = max_total_runs
    for row in parents:
        _check_parent(row, metric, goal, "resume_from")
        if row["status"] not in (RunStatus.COMPLETED.value, RunStatus.CANCELED.value):
            raise InvalidConfigError(
                f"All resume_from sweeps must be Completed or Canceled; {row['id']} is {row['status']}."
            )
        if sampling.sampling_name == "BayesianOptimization":
            stored = json.loads(row["config"])["generator_config"]["parameter_space"]
            if json.dumps(stored, sort_keys=True) != json.dumps(sampling.space.to_list(), sort_keys=True):
                raise InvalidConfigError(
                    f"With Bayesian sampling, the search space must be the same as resume_from sweep {row['id']}'s."
                )
        total += row["max_total_runs"]
    if total > MAX_TOTAL_RUNS:
        raise InvalidConfigError(
            f"The total number of runs, with the resume_from sweeps', must not exceed {MAX_TOTAL_RUNS}; it is {total}."
        )
    priors = []
    for row in parents:
        runs = [r for r in store.runs(row["id"]) if RunStatus(r["status"]).is_terminal]
        series = store.metric_series([r["id"] for r in runs], metric)
        for r in runs:
            best = r["best_value"]
            priors.append(
                PriorRun(r["id"], json.loads(r["hyperparameters"]), series[r["id"]], RunStatus(r["status"]),
                         math.nan if best is None else best)
            )
    resumes, child_parents = [], set()
    for ref in resume_child_runs:
        run_id = ref if isinstance(ref, str) else ref.id
        try:
            row = store.run(run_id)
        except NotFoundError:
            raise InvalidConfigError(f"resume_child_runs names {run_id!r}, which is not a run of this workspace.") from None
        if not RunStatus(row["status"]).is_terminal:
            raise InvalidConfigError(
                f"All resume_child_runs must have ended (Completed, Failed or Canceled); {run_id} is {row['status']}."
            )
        _check_parent(store.sweep(row["sweep_id"]), metric, goal, "resume_child_runs")
        child_parents.add(row["sweep_id"])
        checkpoint = str(Path(row["run_dir"]) / "outputs")
        resumes.append(ResumeRequest(json.loads(row["hyperparameters"]), checkpoint, {"resumed_from": run_id, "checkpoint": checkpoint}))
    if len(child_parents) > MAX_PARENTS:
        raise InvalidConfigError(
            f"resume_child_runs must come from at most {MAX_PARENTS} sweeps; they come from {len(child_parents)}."
        )
    return priors, resumes, [r["id"] for r in parents], [r.origin["resumed_from"] for r in resumes]


# -- building the controller --------------------------------------------------------------------


def trial_factory(
    ws_path: Path,
    experiment: str,
    run_config: ScriptRunConfig | FunctionRunConfig,
    primary_metric: str,
    snapshot: Path,
) -> Any:
    """The controller's factory: builds each run's command (or call), environment and folder."""
    rc = run_config

    def make(
        run_id: str, number: int, values: dict[str, Any], run_dir: Path, resume_from: str | None = None
    ) -> tuple[TrialSpec, list[str]]:
        arguments = rc.build_arguments(values)
        plain = {plain_name(k): v for k, v in values.items()}
        if resume_from is not None:
            arguments += ["--resume-from", resume_from]
        if isinstance(rc, FunctionRunConfig):
            run_dir.mkdir(parents=True, exist_ok=True)
            if resume_from is not None:
                plain["resume_from"] = resume_from
            spec = TrialSpec(run_id, run_dir, plain, function=rc.function, primary_metric=primary_metric,
                             resources=dict(rc.resources), env=mlflow_trial_env(ws_path, experiment))
            return spec, arguments
        spec = TrialSpec(
            run_id, run_dir, plain, argv=rc.build_argv(arguments), primary_metric=primary_metric,
            source_dir=snapshot, resources=dict(rc.resources),
        )
        spec.env = {
            **mlflow_trial_env(ws_path, experiment),  # MLflow in the script logs to this run
            **rc.environment_variables,
            ENV_RUN_ID: run_id,
            ENV_EVENTS: str(spec.events_path),
            ENV_WORKSPACE: str(ws_path),
            ENV_EXPERIMENT: experiment,
            ENV_PRIMARY_METRIC: primary_metric,
            "AZUREML_RUN_ID": run_id,
        }
        if resume_from is not None:
            spec.env[ENV_RESUME_FROM] = resume_from
            spec.env["AZUREML_DATAREFERENCE_MODEL_LOCATION"] = resume_from
        return spec, arguments

    return make


def build_controller(
    store: Store,
    ws_path: Path,
    experiment: str,
    sweep_id: str,
    description: dict[str, Any],
    *,
    sampling: HyperParameterSampling,
    policy: EarlyTerminationPolicy | None,
    run_config: ScriptRunConfig | FunctionRunConfig,
    priors: Sequence[PriorRun] = (),
    resumes: Sequence[ResumeRequest] = (),
    elapsed_seconds: float = 0.0,
) -> SweepController:
    """A controller for the sweep ``sweep_id`` (recorded already) with the given deciders."""
    state_dir = ws_path / STATE_DIR
    plan = SweepPlan(
        sweep_id=sweep_id,
        sampling=sampling,
        policy=policy,
        goal=PrimaryMetricGoal.from_str(description["primary_metric"]["goal"]),
        primary_metric=description["primary_metric"]["name"],
        max_total_runs=description["max_total_runs"],
        max_concurrent_runs=description["max_concurrent_runs"],
        max_duration_seconds=description["max_duration_minutes"] * 60.0 - elapsed_seconds,
        trial_timeout=description["trial_timeout"],
        runs_dir=state_dir / "runs",
        priors=list(priors),
        resumes=list(resumes),
    )
    executor = make_executor(run_config.compute_target, plan.max_concurrent_runs, isinstance(run_config, FunctionRunConfig))
    snapshot = Path(description["run_config"].get("snapshot") or state_dir / "snapshots" / sweep_id)
    factory = trial_factory(ws_path, experiment, run_config, plan.primary_metric, snapshot)
    return SweepController(store, plan, executor, factory)


def create_sweep(store: Store, ws_path: Path, experiment: str, config: HyperDriveConfig, sweep_id: str,
                 tags: dict[str, str]) -> SweepController:
    """Check, record and snapshot a new sweep; return its controller (not started)."""
    priors, resumes, parent_ids, child_ids = warm_start(
        store, config.primary_metric_name, config.primary_metric_goal, config.hyperparameter_sampling,
        config.resume_from, config.resume_child_runs, config.max_total_runs,
    )
    description = config.describe()
    description["resume_from"], description["resume_child_runs"] = parent_ids, child_ids
    description["seed"] = config.hyperparameter_sampling.seed
    rc = config.run_config
    if isinstance(rc, ScriptRunConfig):
        snapshot = ws_path / STATE_DIR / "snapshots" / sweep_id
        take_snapshot(rc.source_directory, snapshot)
        description["run_config"]["snapshot"] = str(snapshot)
    store.create_sweep(sweep_id, experiment, description, tags)
    try:
        return build_controller(
            store, ws_path, experiment, sweep_id, description, sampling=config.hyperparameter_sampling,
            policy=config.policy, run_config=rc, priors=priors, resumes=resumes,
        )
    except BaseException as exc:  # e.g. the compute target cannot be reached: no sweep stays Queued
        now = time.time()
        store.update_sweep(sweep_id, status=RunStatus.FAILED.value, ended=now, error=f"{type(exc).__name__}: {exc}")
        raise


def resume_sweep(store: Store, ws_path: Path, sweep_id: str, run_config: Any = None) -> SweepController:
    """A controller that continues ``sweep_id`` after its driver died (see ``SweepController.restore``)."""
    row = store.sweep(sweep_id)
    if RunStatus(row["status"]).is_terminal:
        raise InvalidConfigError(f"Sweep {sweep_id} has already ended ({row['status']}); there is nothing to resume.")
    if driver_alive(row):
        raise InvalidConfigError(
            f"Sweep {sweep_id} is still being driven by process {row['driver_pid']}; cancel it or wait for it."
        )
    description = json.loads(row["config"])
    rc = run_config if run_config is not None else run_config_from_description(description)
    if run_config is not None and not isinstance(rc, (ScriptRunConfig, FunctionRunConfig)):
        rc = FunctionRunConfig(rc)
    sampling = sampling_from_json(description["generator_config"])
    priors, resumes, _, _ = warm_start(
        store, description["primary_metric"]["name"], PrimaryMetricGoal.from_str(description["primary_metric"]["goal"]),
        sampling, description.get("resume_from", []), description.get("resume_child_runs", []), 0,
    )
    started = row["started"] or row["created"]
    elapsed = max(0.0, (row["heartbeat"] or started) - started)
    controller = build_controller(
        store, ws_path, row["experiment"], sweep_id, description, sampling=sampling,
        policy=policy_from_json(description["policy_config"]), run_config=rc, priors=priors,
        resumes=resumes, elapsed_seconds=elapsed,
    )

    def spec_for(run_id: str, run_dir: Path) -> TrialSpec:
        return TrialSpec(run_id, run_dir, {})

    controller.restore(spec_for)
    return controller


def driver_alive(row: Any, stale_seconds: float = 10.0) -> bool:
    """True if the sweep's driving process still runs and has written a heartbeat recently."""
    pid = row["driver_pid"]
    if not pid or time.time() - (row["heartbeat"] or 0) > stale_seconds:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
