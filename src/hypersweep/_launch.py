"""Turning a sweep definition into a running controller: new sweeps, warm starts and resumed sweeps.

One driver per sweep
    The process that drives a sweep holds an exclusive ``flock`` on the sweep's lock file,
    ``.hypersweep/locks/<sweep id>.lock``, from before the sweep is recorded (or resumed) until its
    final state is written; the file says which process holds it. The kernel releases the lock
    when that process ends, however it ends, and never while it lives: a driver that is paused
    (Ctrl-Z, SIGSTOP, a suspended laptop) keeps its sweep, and ``resume`` names it instead of
    taking over. Two ``resume`` commands started together cannot both win: ``flock`` is atomic.
    Behind the lock, the driver records a random token in the database and every transaction it
    makes checks it (see ``Store.fenced``), so should the lock ever be bypassed (a deleted lock
    file, a file system without ``flock``), the driver that lost the sweep stops with a message and
    writes nothing more. The heartbeat is only shown, never used to decide who drives.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import socket
import sys
import time
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypersweep.compute import resolve_target
from hypersweep.config import (
    MAX_PARENTS,
    MAX_TOTAL_RUNS,
    FunctionRunConfig,
    HyperDriveConfig,
    ScriptRunConfig,
    format_value,
)
from hypersweep.controller import PriorRun, ResumeRequest, SweepController, SweepPlan
from hypersweep.environment import Environment, PreparedEnvironment, prepare
from hypersweep.errors import InvalidConfigError, NotFoundError, SweepBusyError
from hypersweep.executors import TrialSpec, make_executor
from hypersweep.executors._devices import check_request, discover, thread_variables
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.mlflow import trial_env as mlflow_trial_env
from hypersweep.policy._from_data import policy_from_json
from hypersweep.run import ENV_EVENTS, ENV_EXPERIMENT, ENV_PRIMARY_METRIC, ENV_RUN_ID, ENV_WORKSPACE
from hypersweep.sampling import HyperParameterSampling
from hypersweep.sampling.base import sampling_from_json as _registered_sampling
from hypersweep.snapshot import take_snapshot
from hypersweep.space import plain_name
from hypersweep.space_nested import flat_values
from hypersweep.status import RunStatus
from hypersweep.store import STATE_DIR, Batch, NewRun, Store, SweepRecord

ENV_RESUME_FROM = "HYPERSWEEP_RESUME_FROM"

try:
    import fcntl
except ImportError:  # Windows: no flock; the database token alone decides
    fcntl = None  # type: ignore[assignment]


class SweepLease:
    """This process's exclusive right to drive one sweep: a held lock file and a database token.

    Take one with :func:`take_sweep`; :meth:`release` (or the end of this process) gives it back.
    """

    def __init__(self, sweep_id: str, path: Path, fd: int | None) -> None:
        self.sweep_id, self.path, self._fd = sweep_id, path, fd
        self.token = uuid.uuid4().hex

    def release(self) -> None:
        """Give the sweep up (the lock file stays, unlocked: deleting it would race with the next taker)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)


def _holder(path: Path, store: Store, sweep_id: str) -> str:
    """Who holds a sweep's lock, as the lock file (or, while it is being written, the database) says."""
    deadline = time.monotonic() + 2.0
    while True:
        with contextlib.suppress(OSError, ValueError):
            info = json.loads(path.read_text())
            return f"process {info['pid']} on {info['host']}"
        if time.monotonic() > deadline:
            with contextlib.suppress(NotFoundError):
                pid = store.sweep(sweep_id).driver_pid
                if pid:
                    return f"process {pid}"
            return "another process"
        time.sleep(0.05)


def take_sweep(store: Store, ws_path: Path, sweep_id: str) -> SweepLease:
    """Become the only driver of ``sweep_id``, or fail at once if another process drives it.

    Raises:
        SweepBusyError: another live process holds the sweep's lock (the message names it).
    """
    path = ws_path / STATE_DIR / "locks" / f"{sweep_id}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        return SweepLease(sweep_id, path, None)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise SweepBusyError(
            f"Sweep {sweep_id} is still being driven by {_holder(path, store, sweep_id)}; "
            f"cancel it (hypersweep cancel {sweep_id}) or wait for it."
        ) from None
    os.ftruncate(fd, 0)
    os.write(
        fd,
        json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        ).encode(),
    )
    return SweepLease(sweep_id, path, fd)


def sweep_driven(row: SweepRecord, ws_path: Path) -> bool:
    """True if a live process drives the sweep of ``row`` (a sweeps record): it holds the sweep's lock.

    Asks the lock as :func:`take_sweep` does, without keeping it: a shared lock taken and given back
    at once succeeds only when no driver holds the exclusive one. Without ``flock`` (Windows), or for
    a sweep that has no lock file, the heartbeat decides (:func:`driver_alive`). A sweep that has ended
    has no driver.
    """
    if row.status.is_terminal:
        return False
    path = ws_path / STATE_DIR / "locks" / f"{row.id}.lock"
    if fcntl is None or not path.exists():
        return driver_alive(row)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return driver_alive(row)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing gives a shared lock taken here back
    return False


SINGLE = "single"  # the kind of the record of a single run (a sweep record otherwise)


class SingleRunSampling:
    """The "sampler" of a single run: one empty configuration, once. The run's arguments are fixed."""

    sampling_name = SINGLE
    seed = None

    def suggest(self, n: int, observations: Sequence[Any], goal: Any) -> list[dict[str, Any]]:
        return [{}] if n > 0 and not observations else []

    def to_json(self) -> dict[str, Any]:
        return {"name": SINGLE, "parameter_space": {}, "properties": {}}


def sampling_from_json(data: dict[str, Any]) -> HyperParameterSampling:
    """Rebuild a sampling method from its ``to_json()`` form (``{"name", "parameter_space", "properties"}``).

    A single run's record has the "sampler" :class:`SingleRunSampling`; every other name is looked up
    among the registered sampling methods (:data:`hypersweep.sampling.SAMPLERS`).
    """
    if data["name"] == SINGLE:
        return SingleRunSampling()  # type: ignore[return-value]
    return _registered_sampling(data)


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
            outputs=rc.get("outputs"),
            compute_target=rc.get("target"),
            resources=rc.get("resources"),
            environment=Environment.from_dict(rc["environment"]) if rc.get("environment") else None,
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


def _sweep_row(store: Store, ref: Any) -> SweepRecord:
    sweep_id = ref if isinstance(ref, str) else ref.id
    try:
        return store.sweep(sweep_id)
    except NotFoundError:
        raise InvalidConfigError(
            f"resume_from names {sweep_id!r}, which is not a sweep of this workspace."
        ) from None


def _check_parent(row: SweepRecord, metric: str, goal: PrimaryMetricGoal, param: str) -> None:
    if row.primary_metric != metric or PrimaryMetricGoal.from_str(row.goal) is not goal:
        raise InvalidConfigError(
            f"{param}: the primary metric must be the same for all sweeps. This sweep's is {metric!r} "
            f"({goal.name.lower()}), while {row.id} has {row.primary_metric!r} ({row.goal})."
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
        if row.status not in (RunStatus.COMPLETED.value, RunStatus.CANCELED.value):
            raise InvalidConfigError(
                f"All resume_from sweeps must be Completed or Canceled; {row.id} is {row.status}."
            )
        if sampling.uses_observations:  # the parents' runs are data for its model: the same space
            stored = row.config["generator_config"]["parameter_space"]
            if json.dumps(stored, sort_keys=True) != json.dumps(
                sampling.space.to_list(), sort_keys=True
            ):
                raise InvalidConfigError(
                    f"With {sampling.sampling_title} sampling, the search space must be the same as "
                    f"resume_from sweep {row.id}'s."
                )
        total += row.max_total_runs
    if total > MAX_TOTAL_RUNS:
        raise InvalidConfigError(
            f"The total number of runs, with the resume_from sweeps', must not exceed {MAX_TOTAL_RUNS}; it is {total}."
        )
    priors = []
    for row in parents:
        runs = [r for r in store.runs(row.id) if r.status.is_terminal]
        series = store.metric_series([r.id for r in runs], metric)
        for r in runs:
            best = r.best_value
            priors.append(
                PriorRun(
                    r.id,
                    r.hyperparameters,
                    series[r.id],
                    r.status,
                    math.nan if best is None else best,
                )
            )
    resumes, child_parents = [], set()
    for ref in resume_child_runs:
        run_id = ref if isinstance(ref, str) else ref.id
        try:
            child = store.run(run_id)
        except NotFoundError:
            raise InvalidConfigError(
                f"resume_child_runs names {run_id!r}, which is not a run of this workspace."
            ) from None
        if not child.status.is_terminal:
            raise InvalidConfigError(
                f"All resume_child_runs must have ended (Completed, Failed or Canceled); {run_id} is {child.status}."
            )
        _check_parent(store.sweep(child.sweep_id), metric, goal, "resume_child_runs")
        child_parents.add(child.sweep_id)
        checkpoint = str(Path(child.run_dir) / "outputs")
        resumes.append(
            ResumeRequest(
                child.hyperparameters,
                checkpoint,
                {"resumed_from": run_id, "checkpoint": checkpoint},
            )
        )
    if len(child_parents) > MAX_PARENTS:
        raise InvalidConfigError(
            f"resume_child_runs must come from at most {MAX_PARENTS} sweeps; they come from {len(child_parents)}."
        )
    return priors, resumes, [r.id for r in parents], [r.origin["resumed_from"] for r in resumes]


# -- building the controller --------------------------------------------------------------------


def trial_factory(
    ws_path: Path,
    experiment: str,
    run_config: ScriptRunConfig | FunctionRunConfig,
    primary_metric: str,
    snapshot: Path,
    prepared: PreparedEnvironment | None = None,
) -> Any:
    """The controller's factory: builds each run's command (or call), environment and folder.

    ``prepared`` is the run configuration's environment made real here: its interpreter runs the
    script, and its environment variables reach it.
    """
    rc = run_config
    prepared = prepared or PreparedEnvironment(sys.executable)

    def make(
        run_id: str,
        number: int,
        values: dict[str, Any],
        run_dir: Path,
        resume_from: str | None = None,
    ) -> tuple[TrialSpec, list[str]]:
        arguments = rc.build_arguments(values)
        plain = {plain_name(k): v for k, v in values.items()}
        if resume_from is not None:
            arguments += ["--resume-from", resume_from]
        if isinstance(rc, FunctionRunConfig):
            run_dir.mkdir(parents=True, exist_ok=True)
            if resume_from is not None:
                plain["resume_from"] = resume_from
            spec = TrialSpec(
                run_id,
                run_dir,
                flat_values(plain),
                function=rc.function,
                primary_metric=primary_metric,
                resources=dict(rc.resources),
                env=mlflow_trial_env(ws_path, experiment),
            )
            spec.env.update(
                {ENV_WORKSPACE: str(ws_path), ENV_EXPERIMENT: experiment}
            )  # register_model, child_run
            return spec, arguments
        spec = TrialSpec(
            run_id,
            run_dir,
            plain,
            argv=rc.build_argv(arguments, prepared.python),
            primary_metric=primary_metric,
            source_dir=snapshot,
            resources=dict(rc.resources),
            output_dirs=list(rc.outputs),
        )
        spec.env = {
            **mlflow_trial_env(ws_path, experiment),  # MLflow in the script logs to this run
            **prepared.env,
            **rc.environment_variables,
            ENV_RUN_ID: run_id,
            ENV_EVENTS: str(spec.events_path),
            ENV_WORKSPACE: str(ws_path),
            ENV_EXPERIMENT: experiment,
            ENV_PRIMARY_METRIC: primary_metric,
            "AZUREML_RUN_ID": run_id,
            # As Azure ML's sweep jobs do: each sampled value as AZUREML_SWEEP_<name> (a nested choice as JSON).
            **{f"AZUREML_SWEEP_{name}": format_value(value) for name, value in plain.items()},
        }
        # num_cpus: BLAS and OpenMP start that many threads, not one per core (unless the user set them)
        spec.env.update(thread_variables(rc.resources.get("num_cpus"), {**os.environ, **spec.env}))
        if resume_from is not None:
            spec.env[ENV_RESUME_FROM] = resume_from
            spec.env["AZUREML_DATAREFERENCE_MODEL_LOCATION"] = resume_from
        return spec, arguments

    return make


def check_devices(run_config: ScriptRunConfig | FunctionRunConfig, ws_path: Path) -> None:
    """At submission: a local trial asking for more GPUs than this machine has is refused.

    Nothing is looked up for a trial that asks for none. Callable trials run in threads of this
    process and share its devices (they are only told theirs): one warning says so.

    Raises:
        InvalidConfigError: more GPUs are asked than were found (the message says how many, and where).
    """
    gpus = float(run_config.resources.get("num_gpus", 0) or 0)
    if gpus <= 0 or resolve_target(run_config.compute_target, ws_path) != "local":
        return
    owner = type(run_config).__name__
    check_request(gpus, discover(), owner)
    if isinstance(run_config, FunctionRunConfig):
        warnings.warn(
            "FunctionRunConfig: resources['num_gpus'] locally limits how many callables run at once and names "
            "each one's devices in its tag hypersweep.devices, but callables run in threads of this process and "
            "share every GPU it sees. For devices isolated per trial, run the trial as a script "
            "(ScriptRunConfig) or on Ray (compute_target='ray').",
            UserWarning,
            stacklevel=4,
        )


def build_controller(
    store: Store,
    ws_path: Path,
    experiment: str,
    sweep_id: str,
    description: dict[str, Any],
    *,
    run_config: ScriptRunConfig | FunctionRunConfig,
    priors: Sequence[PriorRun] = (),
    resumes: Sequence[ResumeRequest] = (),
    elapsed_seconds: float = 0.0,
    lease: SweepLease | None = None,
    classes: tuple[type | None, type | None] = (None, None),
) -> SweepController:
    """A controller for the sweep ``sweep_id`` (recorded already), as ``description`` defines it.

    Its sampler and policy are always built from the description (new and resumed sweeps alike), so
    every controller has its own, never the user's objects, nor another sweep's. ``classes`` are the
    classes of the sampler and policy a new sweep was submitted with: a subclass defined in this
    process that declares no name of its own (a user's ``BanditPolicy`` with its own ``evaluate``) is
    built as itself from the description, not as the registered class of its name.
    With a ``lease``, the controller writes only while it owns the sweep and releases it at its end.
    """
    state_dir = ws_path / STATE_DIR
    sampling = sampling_from_json(description["generator_config"])
    policy = policy_from_json(description["policy_config"])
    plan = SweepPlan(
        sweep_id=sweep_id,
        sampling=_as_class(sampling, classes[0], description["generator_config"]),
        policy=_as_class(policy, classes[1], description["policy_config"]),
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
    target = resolve_target(
        run_config.compute_target, ws_path
    )  # a compute target's name: what it runs on
    # the environment is built (or found in the cache) before any trial starts; a failure stops here
    prepared = (
        prepare(run_config.environment, ws_path)
        if isinstance(run_config, ScriptRunConfig)
        else None
    )
    if prepared is not None and prepared.built is not None and target != "local":
        warnings.warn(
            f"The environment's virtual environment ({prepared.built}) is on this machine: Ray workers on "
            "other nodes can run it only where the workspace folder is shared at the same path; elsewhere, "
            "install the environment's packages on every node and leave environment=None.",
            UserWarning,
            stacklevel=4,
        )
    executor = make_executor(
        target,
        plan.max_concurrent_runs,
        isinstance(run_config, FunctionRunConfig),
        dict(run_config.resources),
    )
    snapshot = Path(description["run_config"].get("snapshot") or state_dir / "snapshots" / sweep_id)
    factory = trial_factory(
        ws_path, experiment, run_config, plan.primary_metric, snapshot, prepared
    )
    if lease is not None:
        store.claim_driver(sweep_id, lease.token, os.getpid())
        return SweepController(
            store.fenced(sweep_id, lease.token), plan, executor, factory, on_end=lease.release
        )
    return SweepController(store, plan, executor, factory)


def _as_class(built: Any, cls: type | None, data: dict[str, Any]) -> Any:
    """``built``, or the same description built by ``cls`` when that is a subclass of ``built``'s class
    (one that did not declare a name of its own, so the registry knows only its parent)."""
    if built is None or cls is None or type(built) is cls or not issubclass(cls, type(built)):
        return built
    try:
        if "parameter_space" in data:  # a sampling method: (parameter_space, properties)
            return cls(data["parameter_space"], properties=data.get("properties"))
        return cls(**data.get("properties", {}))
    except TypeError:  # a constructor of its own: the registered parent's behaviour, as on resume
        warnings.warn(
            f"{cls.__name__} cannot be rebuilt from its stored form (its constructor differs from "
            f"{type(built).__name__}'s); the sweep uses {type(built).__name__}. Give it a name of its own "
            "(see CONTRIBUTING.md) to have it rebuilt as itself.",
            stacklevel=2,
        )
        return built


def create_sweep(
    store: Store,
    ws_path: Path,
    experiment: str,
    config: HyperDriveConfig,
    sweep_id: str,
    tags: dict[str, str],
) -> SweepController:
    """Check, record and snapshot a new sweep; return its controller (not started)."""
    sampling = config.hyperparameter_sampling.for_sweep()  # unseeded: a seed of its own, drawn now
    priors, resumes, parent_ids, child_ids = warm_start(
        store,
        config.primary_metric_name,
        config.primary_metric_goal,
        sampling,
        config.resume_from,
        config.resume_child_runs,
        config.max_total_runs,
    )
    description = config.describe()
    description["generator_config"] = sampling.to_json()  # with the seed this sweep uses
    description["resume_from"], description["resume_child_runs"] = parent_ids, child_ids
    description["seed"] = sampling.seed
    rc = config.run_config
    check_devices(rc, ws_path)
    if isinstance(rc, ScriptRunConfig):
        snapshot = ws_path / STATE_DIR / "snapshots" / sweep_id
        take_snapshot(rc.source_directory, snapshot)
        description["run_config"]["snapshot"] = str(snapshot)
    lease = take_sweep(
        store, ws_path, sweep_id
    )  # before it is recorded: no resume can take it while Queued
    try:
        store.create_sweep(sweep_id, experiment, description, tags)
    except BaseException:
        lease.release()
        raise
    try:
        return build_controller(
            store,
            ws_path,
            experiment,
            sweep_id,
            description,
            run_config=rc,
            priors=priors,
            resumes=resumes,
            lease=lease,
            classes=(type(sampling), type(config.policy) if config.policy is not None else None),
        )
    except BaseException as exc:  # e.g. the compute target cannot be reached: no sweep stays Queued
        now = time.time()
        store.update_sweep(
            sweep_id, status=RunStatus.FAILED.value, ended=now, error=f"{type(exc).__name__}: {exc}"
        )
        lease.release()
        raise


def resume_sweep(
    store: Store, ws_path: Path, sweep_id: str, run_config: Any = None
) -> SweepController:
    """A controller that continues ``sweep_id`` after its driver died (see ``SweepController.restore``).

    Raises:
        SweepBusyError: a live process drives the sweep (paused or not); the message names it.
        InvalidConfigError: the sweep has ended.
    """
    row = store.sweep(sweep_id)
    if row.status.is_terminal:
        raise InvalidConfigError(
            f"Sweep {sweep_id} has already ended ({row.status}); there is nothing to resume."
        )
    lease = take_sweep(store, ws_path, sweep_id)
    try:
        controller = _resumed_controller(store, ws_path, sweep_id, run_config, lease)
    except BaseException:
        lease.release()
        raise
    return controller


def _resumed_controller(
    store: Store, ws_path: Path, sweep_id: str, run_config: Any, lease: SweepLease
) -> SweepController:
    row = store.sweep(sweep_id)  # read again under the lock: the last driver may have just ended it
    if row.status.is_terminal:
        raise InvalidConfigError(
            f"Sweep {sweep_id} has already ended ({row.status}); there is nothing to resume."
        )
    if fcntl is None and driver_alive(row):
        raise SweepBusyError(
            f"Sweep {sweep_id} is still being driven by process {row.driver_pid}; cancel it or wait for it."
        )
    description = row.config
    rc = run_config if run_config is not None else run_config_from_description(description)
    if run_config is not None and not isinstance(rc, (ScriptRunConfig, FunctionRunConfig)):
        rc = FunctionRunConfig(rc)
    sampling = sampling_from_json(description["generator_config"])
    priors, resumes, _, _ = warm_start(
        store,
        description["primary_metric"]["name"],
        PrimaryMetricGoal.from_str(description["primary_metric"]["goal"]),
        sampling,
        description.get("resume_from", []),
        description.get("resume_child_runs", []),
        0,
    )
    started = row.started or row.created
    elapsed = max(0.0, (row.heartbeat or started) - started)
    controller = build_controller(
        store,
        ws_path,
        row.experiment,
        sweep_id,
        description,
        run_config=rc,
        priors=priors,
        resumes=resumes,
        elapsed_seconds=elapsed,
        lease=lease,
    )

    def spec_for(run_id: str, run_dir: Path) -> TrialSpec:
        return TrialSpec(run_id, run_dir, {})

    controller.restore(spec_for)
    return controller


def driver_alive(row: SweepRecord, stale_seconds: float = 10.0) -> bool:
    """True if the sweep's driving process still runs and has written a heartbeat recently.

    Only a guess (a paused driver looks dead): used where ``flock`` is missing (Windows).
    """
    pid = row.driver_pid
    if not pid or time.time() - (row.heartbeat or 0) > stale_seconds:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


# -- single runs and child runs -----------------------------------------------------------------


def single_description(run_config: ScriptRunConfig | FunctionRunConfig) -> dict[str, Any]:
    """The stored definition of a single run: its run config, no sampler, no policy, no primary metric."""
    timeout = (
        run_config.max_run_duration_seconds if isinstance(run_config, ScriptRunConfig) else None
    )
    return {
        "generator_config": SingleRunSampling().to_json(),
        "primary_metric": {"name": "", "goal": "maximize"},
        "policy_config": {"name": "Default"},
        "max_total_runs": 1,
        "max_concurrent_runs": 1,
        "max_duration_minutes": 1e9,  # no limit: a run may take as long as it takes
        "trial_timeout": timeout,
        "run_config": run_config.describe(),
        "resume_from": [],
        "resume_child_runs": [],
        "seed": None,
    }


def create_single(
    store: Store,
    ws_path: Path,
    experiment: str,
    run_config: ScriptRunConfig | FunctionRunConfig,
    record_id: str,
    tags: dict[str, str],
) -> SweepController:
    """Record and snapshot a single run (a record of kind ``single`` with one run); return its controller.

    The run goes through the same controller, executors and store as a sweep's; its id is
    ``<record_id>_0``.
    """
    check_devices(run_config, ws_path)
    description = single_description(run_config)
    if isinstance(run_config, ScriptRunConfig):
        snapshot = ws_path / STATE_DIR / "snapshots" / record_id
        take_snapshot(run_config.source_directory, snapshot)
        description["run_config"]["snapshot"] = str(snapshot)
    store.create_sweep(record_id, experiment, description, tags, kind=SINGLE)
    try:
        return build_controller(
            store,
            ws_path,
            experiment,
            record_id,
            description,
            run_config=run_config,
        )
    except BaseException as exc:
        now = time.time()
        store.update_sweep(
            record_id,
            status=RunStatus.FAILED.value,
            ended=now,
            error=f"{type(exc).__name__}: {exc}",
        )
        raise


def create_child_run(
    store: Store,
    ws_path: Path,
    experiment: str,
    parent_id: str,
    name: str | None,
    run_id: str | None,
) -> str:
    """Record a child run of ``parent_id`` (``Run.child_run``): a single run that the caller logs to and
    completes; no process is started. Returns the child's id."""
    import uuid

    record_id = run_id or f"{parent_id}_child_{uuid.uuid4().hex[:8]}"
    description = {
        **single_description(FunctionRunConfig(lambda cfg: None)),
        "parent_run_id": parent_id,
    }
    description["run_config"] = {"type": "child", "target": "local", "parent": parent_id}
    store.create_sweep(record_id, experiment, description, {}, kind=SINGLE)
    child_id = f"{record_id}_0"
    run_dir = ws_path / STATE_DIR / "runs" / child_id
    for sub in ("outputs", "logs"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    now = time.time()
    child = NewRun(child_id, record_id, 0, now, {}, [], str(run_dir), status=RunStatus.RUNNING)
    fields = [(child_id, "property", "azureml.parentRunId", parent_id)]
    if name:
        fields.append((child_id, "display_name", "display_name", str(name)))
    batch = Batch(
        runs=[child], run_fields=fields, sweep={"status": RunStatus.RUNNING.value, "started": now}
    )
    store.apply(batch, record_id)
    return child_id
