"""``Workspace``, ``Experiment`` and ``HyperDriveRun``: submitting sweeps and reading their results."""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any, overload

from hypersweep._launch import SINGLE, create_child_run, create_single, create_sweep, resume_sweep
from hypersweep._results import RunView, iso
from hypersweep.config import FunctionRunConfig, HyperDriveConfig, ScriptRunConfig
from hypersweep.controller import SweepController, active_controller
from hypersweep.errors import HypersweepError, InvalidConfigError, NotFoundError, RunFailedError
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.model import Model, register_from_run
from hypersweep.run import ENV_WORKSPACE, Run
from hypersweep.status import RunStatus
from hypersweep.store import DB_NAME, STATE_DIR, RunRecord, Store, SweepRecord

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-.]{0,254}")


CONFIG_FILE = "config.json"
_CONFIG_DIRS = (".azureml", "aml_config", "")


def find_azure_config(
    path: str | os.PathLike[str] | None = None, file_name: str | None = None
) -> Path | None:
    """An Azure ML ``config.json`` as Azure looks for it: ``path`` itself if it is a file, else in
    ``.azureml/``, ``aml_config/`` or the folder itself, for ``path`` (default: the current folder)
    and then each of its parents. A file found by searching counts only if it is a JSON object that
    names a workspace (so an unrelated ``config.json`` on the way is passed over). None when there is none."""
    name = file_name or CONFIG_FILE
    start = Path(path).expanduser() if path is not None else Path.cwd()
    if start.is_file():
        return start
    for folder in [start.resolve(), *start.resolve().parents]:
        for sub in _CONFIG_DIRS:
            candidate = folder / sub / name
            if candidate.is_file():
                try:
                    if "workspace_name" in read_azure_config(candidate):
                        return candidate
                except InvalidConfigError:
                    continue
    return None


def read_azure_config(file: Path) -> dict[str, str]:
    """``subscription_id``, ``resource_group`` and ``workspace_name`` from an Azure ``config.json``."""
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidConfigError(
            f"The 'path' parameter of Workspace.from_config: {str(file)!r} is not a JSON config file: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise InvalidConfigError(
            f"The 'path' parameter of Workspace.from_config: {str(file)!r} is not a JSON object."
        )
    out = {}
    for key, alias in (
        ("subscription_id", "Subscription ID"),
        ("resource_group", "Resource Group"),
        ("workspace_name", "Workspace Name"),
    ):
        value = data.get(key, data.get(alias))
        if value is not None:
            out[key] = str(value)
    return out


class Workspace:
    """A folder holding everything hypersweep records: ``.hypersweep/hypersweep.db`` and the run folders.

    ``Workspace(path)`` is the folder ``path``. Azure ML's form, ``Workspace(subscription_id,
    resource_group, workspace_name)``, is accepted too: the folder is then ``$HYPERSWEEP_WORKSPACE`` or
    the current folder, and the three names are what ``ws.name``, ``ws.resource_group`` and
    ``ws.subscription_id`` say.

    Args:
        path: the folder (default: ``$HYPERSWEEP_WORKSPACE``, or the current folder); in Azure's
            form, the subscription id.
        resource_group, workspace_name: Azure's names, kept for display.

    Example:
        >>> ws = Workspace("/tmp/my-sweeps")   # doctest: +SKIP
        >>> ws = Workspace.from_config()       # reads .azureml/config.json if there is one  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        auth: Any = None,
        _location: str | None = None,
        _disable_service_check: bool = False,
        *,
        subscription_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        if (
            subscription_id is None
            and path is not None
            and resource_group is not None
            and workspace_name is not None
        ):
            subscription_id, path = (
                str(path),
                None,
            )  # Workspace(subscription_id, resource_group, workspace_name)
        folder = path or os.environ.get(ENV_WORKSPACE) or Path.cwd()
        self.path = Path(folder).expanduser().resolve()
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._subscription_id = subscription_id
        self._resource_group = resource_group
        self._workspace_name = workspace_name

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        auth: Any = None,
        _logger: Any = None,
        _file_name: str | None = None,
        **kwargs: Any,
    ) -> Workspace:
        """HyperDrive's constructor: the folder ``path`` (default: ``$HYPERSWEEP_WORKSPACE`` or the current folder).

        An Azure ``config.json`` is read when there is one (``path`` itself, or ``.azureml/config.json``,
        ``aml_config/config.json`` or ``config.json`` in the folder or a parent, as Azure looks): its
        ``workspace_name``, ``resource_group`` and ``subscription_id`` become the workspace's names.
        None is needed.
        """
        folder: str | os.PathLike[str] | None = path
        if path is not None and Path(path).expanduser().is_file():
            parent = Path(path).expanduser().resolve().parent
            folder = parent.parent if parent.name in (".azureml", "aml_config") else parent
        names: dict[str, str] = {}
        found = find_azure_config(
            path if path is not None else (os.environ.get(ENV_WORKSPACE) or None), _file_name
        )
        if found is not None:
            names = read_azure_config(found)
        return cls(
            folder,
            resource_group=names.get("resource_group"),
            workspace_name=names.get("workspace_name"),
            subscription_id=names.get("subscription_id", ""),
        )

    @classmethod
    def get(
        cls,
        name: str,
        auth: Any = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        cloud: str | None = None,
        id: str | None = None,
        **kwargs: Any,
    ) -> Workspace:
        """Azure ML's lookup by name: the workspace in ``$HYPERSWEEP_WORKSPACE`` or the current folder, named ``name``."""
        if not isinstance(name, str) or not name:
            raise InvalidConfigError(
                f"The 'name' parameter of Workspace.get must be a workspace name. Got {name!r} instead."
            )
        return cls(
            None,
            resource_group=resource_group,
            workspace_name=name,
            subscription_id=subscription_id,
        )

    create = get  # Azure ML's Workspace.create(name, ...): the same local folder

    @property
    def name(self) -> str:
        """The workspace name from Azure's config, or the folder's name."""
        return self._workspace_name or self.path.name

    @property
    def location(self) -> str:
        return "local"

    @property
    def resource_group(self) -> str:
        return self._resource_group or "local"

    @property
    def subscription_id(self) -> str:
        return self._subscription_id or "local"

    def get_details(self) -> dict[str, Any]:
        """The workspace as Azure ML describes one (``location`` is ``"local"``)."""
        return {
            "id": str(self.path),
            "name": self.name,
            "friendlyName": self.name,
            "location": self.location,
            "resourceGroup": self.resource_group,
            "subscriptionId": self.subscription_id,
            "workspaceid": str(self.path),
            "description": "a hypersweep workspace (local)",
            "path": str(self.path),
            "database": str(self.state_dir / DB_NAME),
        }

    def write_config(
        self, path: str | os.PathLike[str] | None = None, file_name: str | None = None
    ) -> str:
        """Write Azure's ``config.json`` (in ``<path>/.azureml/``, default: the workspace folder); return its path."""
        folder = Path(path).expanduser() if path is not None else self.path
        target = folder / ".azureml" / (file_name or CONFIG_FILE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            json.dumps(
                {
                    "subscription_id": self.subscription_id,
                    "resource_group": self.resource_group,
                    "workspace_name": self.name,
                },
                indent=4,
            )
            + "\n"
        )
        return str(target)

    @property
    def compute_targets(self) -> dict[str, Any]:
        """``{name: ComputeTarget}``: ``local`` and every target created here (see :mod:`hypersweep.compute`)."""
        from hypersweep.compute import ComputeTarget

        return {t.name: t for t in ComputeTarget.list(self)}

    @property
    def environments(self) -> dict[str, Any]:
        """``{name: Environment}``: the newest version of every environment registered here."""
        from hypersweep.environment import Environment

        return Environment.list(self)

    @property
    def state_dir(self) -> Path:
        return self.path / STATE_DIR

    @property
    def store(self) -> Store:
        """The workspace database (created on first use)."""
        with self._lock:
            if self._store is None:
                self._store = Store(self.state_dir / DB_NAME)
            return self._store

    @property
    def experiments(self) -> dict[str, Experiment]:
        """``{name: Experiment}`` for every experiment recorded here."""
        return {row.name: Experiment(self, row.name) for row in self.store.experiments()}

    def get_run(self, run_id: str) -> Run:
        """A sweep (``HD_...``) or one of its runs (``HD_..._3``) by id."""
        store = self.store
        try:
            record = store.sweep(run_id)
        except NotFoundError:
            run = store.find_run(run_id)
            sweep = store.sweep(run.sweep_id)
            cls = ScriptRun if sweep.kind == SINGLE else Run
            return cls(Experiment(self, sweep.experiment), run.id)
        experiment = Experiment(self, record.experiment)
        if record.kind == SINGLE:  # a single run's record: the run itself
            return ScriptRun(experiment, f"{record.id}_0")
        return HyperDriveRun(experiment, record.id)

    @property
    def models(self) -> dict[str, Any]:
        """``{name: Model}``: the latest version of every registered model."""
        return {m.name: m for m in Model.list(self, latest=True)}

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"


class Experiment:
    """A named group of sweeps in a workspace.

    Args:
        workspace: the :class:`Workspace`.
        name: letters, digits, ``_``, ``-`` and ``.``.
    """

    def __init__(self, workspace: Workspace, name: str) -> None:
        if not isinstance(workspace, Workspace):
            raise InvalidConfigError(
                f"The 'workspace' parameter of Experiment must be a Workspace. Got {workspace!r} instead."
            )
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InvalidConfigError(
                "The 'name' parameter of Experiment must be 1-255 letters, digits, '_', '-' or '.', "
                f"starting with a letter or digit. Got {name!r} instead."
            )
        self.workspace, self.name = workspace, name

    @overload
    def submit(
        self, config: HyperDriveConfig, tags: dict[str, str] | None = None, **kwargs: Any
    ) -> HyperDriveRun: ...

    @overload
    def submit(self, config: Any, tags: dict[str, str] | None = None, **kwargs: Any) -> Run: ...

    def submit(self, config: Any, tags: dict[str, str] | None = None, **kwargs: Any) -> Run:
        """Start a sweep or a single run in the background and return it at once.

        Args:
            config: a :class:`HyperDriveConfig` (a sweep: returns a :class:`HyperDriveRun`), or a
                :class:`ScriptRunConfig`, :class:`FunctionRunConfig` or callable (one run: returns a
                :class:`ScriptRun`, which ``wait_for_completion(show_output=True)`` follows).
            tags: tags of the sweep (of the run, for a single run).
        """
        if isinstance(config, (ScriptRunConfig, FunctionRunConfig)) or (
            callable(config) and not isinstance(config, HyperDriveConfig)
        ):
            return self._submit_single(config, tags or {})
        if not isinstance(config, HyperDriveConfig):
            raise InvalidConfigError(
                "The 'config' parameter of Experiment.submit must be a HyperDriveConfig, a ScriptRunConfig or a "
                f"callable. Got {type(config).__name__} instead."
            )
        ws = self.workspace
        sweep_id = config.custom_run_id or f"HD_{uuid.uuid4()}"
        try:
            ws.store.sweep(sweep_id)
        except NotFoundError:
            pass
        else:
            raise InvalidConfigError(
                f"A sweep with id {sweep_id!r} already exists in this workspace."
            )
        controller = create_sweep(ws.store, ws.path, self.name, config, sweep_id, tags or {})
        run = HyperDriveRun(self, sweep_id, hyperdrive_config=config)
        run._start(controller)
        return run

    def _submit_single(self, config: Any, tags: dict[str, str]) -> ScriptRun:
        rc = (
            config
            if isinstance(config, (ScriptRunConfig, FunctionRunConfig))
            else FunctionRunConfig(config)
        )
        if isinstance(rc, ScriptRunConfig):
            rc.validate_space(
                []
            )  # a single run has no search space: a ${{search_space.x}} is an error now
        ws = self.workspace
        record_id = f"{self.name}_{int(time.time())}_{uuid.uuid4().hex[:8]}"
        controller = create_single(ws.store, ws.path, self.name, rc, record_id, {})
        run = ScriptRun(self, f"{record_id}_0", run_config=rc)
        run._start(controller, tags)
        return run

    def get_runs(self) -> list[Run]:
        """The experiment's sweeps (:class:`HyperDriveRun`) and single runs (:class:`ScriptRun`), newest first."""
        return [
            ScriptRun(self, f"{record.id}_0")
            if record.kind == SINGLE
            else HyperDriveRun(self, record.id)
            for record in reversed(self.workspace.store.sweeps(self.name))
        ]

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, workspace={self.workspace!r})"


class ScriptRun(Run):
    """A single run submitted with ``Experiment.submit(ScriptRunConfig(...))`` (or a callable).

    It runs through the same executors and store as a sweep's runs; everything :class:`Run` offers
    works on it, and ``wait_for_completion(show_output=True)`` streams its output.
    """

    def __init__(
        self, experiment: Experiment, run_id: str, run_config: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(experiment, run_id)
        self._controller: SweepController | None = None
        self._environment = getattr(run_config, "environment", None)

    def _start(self, controller: SweepController, tags: dict[str, str]) -> None:
        self._controller = controller
        threading.Thread(target=controller.run, name=f"hypersweep-{self.id}").start()
        if tags:
            deadline = time.monotonic() + 30
            while (
                time.monotonic() < deadline
            ):  # the run's row exists once the controller launched it
                try:
                    self.experiment.workspace.store.run(self.id)
                    break
                except NotFoundError:
                    time.sleep(0.01)
            self.set_tags(tags)

    @property
    def parent(self) -> Run | None:
        """A single run has no parent sweep (a child run's parent is in its ``azureml.parentRunId`` property)."""
        parent = self.get_properties().get("azureml.parentRunId")
        return self.experiment.workspace.get_run(parent) if parent else None

    def _wait(self, show_output: bool, raise_on_error: bool) -> dict[str, Any]:
        """Wait for the run's row, then for its end and for the sweep that drives it; Ctrl-C
        cancels the run."""
        self._wait_row()
        try:
            details = super()._wait(show_output, False)
            if self._controller is not None:
                while not self._controller.wait(0.2):
                    pass
        except KeyboardInterrupt:
            self.cancel()
            if self._controller is not None:
                self._controller.wait(60)
            raise
        details = self.get_details()
        if raise_on_error and details["status"] == RunStatus.FAILED.value:
            raise RunFailedError(f"Run {self.id} failed: {details.get('error', {}).get('message')}")
        return details

    def _wait_row(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                self.experiment.workspace.store.run(self.id)
                return
            except NotFoundError:
                controller = self._controller
                if (
                    controller is not None
                    and controller.done.is_set()
                    or time.monotonic() > deadline
                ):
                    raise
                time.sleep(0.02)

    def get_status(self) -> str:
        try:
            return super().get_status()
        except NotFoundError:  # submitted a moment ago: the controller has not created the row yet
            record = self.experiment.workspace.store.sweep(self.id.rsplit("_", 1)[0])
            return record.status.value if record.status.is_terminal else RunStatus.QUEUED.value

    def cancel(self) -> bool:
        """Cancel the run; False if it has already ended."""
        self._wait_row()
        return super().cancel()

    def __repr__(self) -> str:
        return f"ScriptRun(id={self.id!r}, experiment={self.experiment.name!r})"


class HyperDriveRun(Run):
    """A sweep: its status, its child runs and the results API.

    Example:
        >>> run = experiment.submit(config)                       # doctest: +SKIP
        >>> run.wait_for_completion(show_output=True)             # doctest: +SKIP
        >>> best = run.get_best_run_by_primary_metric()           # doctest: +SKIP
        >>> best.get_details()["runDefinition"]["arguments"]      # doctest: +SKIP
    """

    def __init__(
        self,
        experiment: Experiment,
        run_id: str,
        hyperdrive_config: HyperDriveConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(experiment, run_id)
        self._config = hyperdrive_config
        self._controller: SweepController | None = None
        self._thread: threading.Thread | None = None

    # -- the sweep itself -----------------------------------------------------------------------

    def _store(self) -> Store:
        return self.experiment.workspace.store

    def _row(self) -> SweepRecord:
        return self._store().sweep(self.id)

    def _definition(self) -> dict[str, Any]:
        return self._row().config

    @property
    def hyperdrive_config(self) -> HyperDriveConfig | None:
        """The HyperDriveConfig this sweep was submitted with (None when read back from the workspace)."""
        return self._config

    @property
    def primary_metric(self) -> str:
        return self._row().primary_metric

    @property
    def goal(self) -> PrimaryMetricGoal:
        return PrimaryMetricGoal.from_str(self._row().goal)

    def get_status(self) -> str:
        return self._row().status.value

    def get_details(self) -> dict[str, Any]:
        row = self._row()
        definition = row.config
        details: dict[str, Any] = {
            "runId": row.id,
            "status": row.status.value,
            "target": definition["run_config"].get("target", "local"),
            "startTimeUtc": iso(row.started),
            "properties": {
                "primary_metric_config": json.dumps(definition["primary_metric"]),
                "generator_config": json.dumps(definition["generator_config"]),
                "policy_config": json.dumps(definition["policy_config"]),
                "max_total_jobs": str(row.max_total_runs),
                "max_concurrent_jobs": str(row.max_concurrent_runs),
                "max_duration_minutes": str(definition["max_duration_minutes"]),
                "platform": "local",
            },
            "runDefinition": definition["run_config"],
            "tags": dict(row.tags),
        }
        if row.ended is not None:
            details["endTimeUtc"] = iso(row.ended)
        if row.error:
            details["error"] = {"message": row.error}
        return details

    def get_tags(self) -> dict[str, str]:
        return dict(self._row().tags)

    def tag(self, key: str, value: Any = None) -> None:
        """Set a tag on the sweep."""
        tags = self.get_tags()
        tags[str(key)] = "" if value is None else str(value)
        self._store().update_sweep(self.id, tags=tags)

    def get_file_names(self) -> list[str]:
        return []

    def cancel(self) -> bool:
        """Cancel the sweep: every running run is stopped and the sweep ends as Canceled."""
        if RunStatus(self.get_status()).is_terminal:
            return False
        self._store().request_cancel(self.id)
        controller = self._controller or active_controller(self.id)
        if controller is not None:
            controller.cancel()
        return True

    def _wait(self, show_output: bool, raise_on_error: bool) -> dict[str, Any]:
        """Wait for the sweep's end, with its live display if ``show_output``; Ctrl-C cancels the
        sweep (every run is stopped, its state recorded)."""
        try:
            if show_output:
                from hypersweep.display import watch

                watch(self)
            self._wait_done()
        except KeyboardInterrupt:
            self.cancel()
            self._wait_done()
            raise
        details = self.get_details()
        if raise_on_error and details["status"] == RunStatus.FAILED.value:
            raise RunFailedError(
                f"Sweep {self.id} failed: {details.get('error', {}).get('message')}"
            )
        return details

    def _start(self, controller: SweepController) -> None:
        self._controller = controller
        self._thread = threading.Thread(target=controller.run, name=f"hypersweep-{self.id}")
        self._thread.start()

    def resume(self, run_config: Any = None) -> HyperDriveRun:
        """Continue this sweep after the process driving it died (killed, power loss, closed notebook).

        Finished runs and every logged value are kept; runs that were in flight end as Failed
        ("interrupted") and count toward ``max_total_runs``; the sampler continues without repeating
        configurations. The sweep then runs in the background of this process.

        Args:
            run_config: the trial callable (or run config), needed only for callable trials that
                cannot be imported by name.

        Raises:
            InvalidConfigError: if the sweep has ended, or its driver is still alive.
        """
        ws = self.experiment.workspace
        controller = resume_sweep(ws.store, ws.path, self.id, run_config)
        self._start(controller)
        return self

    def _wait_done(self) -> None:
        """Until the sweep has ended and (when driven here) its final state is recorded."""
        controller = self._controller
        if controller is not None:
            while not controller.wait(0.2):
                pass
            return
        while not RunStatus(self.get_status()).is_terminal:
            time.sleep(0.2)

    def get_diagnostics(self) -> None:
        raise HypersweepError("Get diagnostics is not implemented for HyperDrive run")

    def fail(self, *args: Any, **kwargs: Any) -> None:
        raise HypersweepError("Fail is not implemented for HyperDrive run")

    # -- children -------------------------------------------------------------------------------

    def _child_rows(self) -> list[RunRecord]:
        return self._store().runs(self.id)

    def _children(self, status: str | None) -> list[Run]:
        """The sweep's runs in creation order (optionally only those with ``status``)."""
        return [
            Run(self.experiment, record.id)
            for record in self._child_rows()
            if status is None or record.status == status
        ]

    def get_hyperparameters(self) -> dict[str, str]:
        """``{child_run_id: JSON string of its sampled values}``, keyed by the search space's names."""
        return {record.id: json.dumps(record.hyperparameters) for record in self._child_rows()}

    def get_metrics(self, *args: Any, **kwargs: Any) -> dict[str, dict[str, Any]]:
        """``{child_run_id: {metric_name: value_or_list}}`` for every child."""
        from hypersweep._results import group_metrics

        return {
            run_id: group_metrics(records)
            for run_id, records in self._store().sweep_metrics(self.id).items()
        }

    def get_children_sorted_by_primary_metric(
        self, top: int = 0, reverse: bool = False, discard_no_metric: bool = False
    ) -> list[dict[str, Any]]:
        """Children as dicts ``{run_id, hyperparameters, best_primary_metric, status}``, best first.

        Args:
            top: how many to return (0: all).
            reverse: worst first (among children with the metric).
            discard_no_metric: leave out children that never logged the primary metric
                (otherwise they come last, in creation order).
        """
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise InvalidConfigError(
                f"Value of parameter top should be 0 or a positive integer. Got {top!r}."
            )
        if not isinstance(reverse, bool):
            raise InvalidConfigError(f"Type of parameter reverse should be bool. Got {reverse!r}.")
        if not isinstance(discard_no_metric, bool):
            raise InvalidConfigError(
                f"Type of parameter discard_no_metric should be bool. Got {discard_no_metric!r}."
            )
        maximize = self.goal is PrimaryMetricGoal.MAXIMIZE
        with_metric: list[dict[str, Any]] = []
        without: list[dict[str, Any]] = []
        for record in self._child_rows():
            entry = {
                "run_id": record.id,
                "hyperparameters": json.dumps(record.hyperparameters),
                "best_primary_metric": record.best_value,
                "status": record.status.value,
            }
            (without if record.best_value is None else with_metric).append(entry)
        with_metric.sort(key=lambda e: e["best_primary_metric"], reverse=maximize != reverse)
        result = with_metric + ([] if discard_no_metric else without)
        return result[:top] if top else result

    def get_best_run_by_primary_metric(
        self,
        include_failed: bool = True,
        include_canceled: bool = True,
        include_resume_from_runs: bool = True,
    ) -> Run | None:
        """The child with the best primary-metric value (max or min of all it logged), or None.

        Runs that never logged the metric (or logged only NaN) are ignored. With
        ``include_resume_from_runs``, the runs of the warm-start sweeps compete too.
        """
        entries = self.get_children_sorted_by_primary_metric(discard_no_metric=True)
        if include_resume_from_runs:
            for parent in self._definition().get("resume_from", []):
                entries += HyperDriveRun(
                    self.experiment, parent
                ).get_children_sorted_by_primary_metric(discard_no_metric=True)
            entries.sort(
                key=lambda e: e["best_primary_metric"],
                reverse=self.goal is PrimaryMetricGoal.MAXIMIZE,
            )
        for entry in entries:
            if entry["status"] == "Failed" and not include_failed:
                continue
            if entry["status"] == "Canceled" and not include_canceled:
                continue
            if entry["best_primary_metric"] is None or math.isnan(entry["best_primary_metric"]):
                continue
            return Run(self.experiment, entry["run_id"])
        return None

    def get_parameter_importances(self) -> dict[str, float]:
        """How much each hyperparameter matters to the primary metric: ``{name: share}``, most important first.

        A functional-ANOVA estimate on a random forest (as Optuna's default evaluator; see
        :mod:`hypersweep.importance`), from the Completed and Canceled runs that logged the metric,
        each with its ``best_primary_metric``; Failed and unfinished runs are left out. The shares sum
        to 1. With fewer than 3 usable runs the dict is empty; whenever the estimate is missing or
        rough, a ``UserWarning`` says why. Reproducible (fixed seed), and cached until the runs change.

        Example:
            >>> run.get_parameter_importances()   # doctest: +SKIP
            {'--learning_rate': 0.71, '--batch_size': 0.22, '--momentum': 0.07}
        """
        import warnings

        from hypersweep.importance import sweep_importances

        result = sweep_importances(self._row(), self._child_rows())
        if result.message:
            warnings.warn(f"Sweep {self.id}: {result.message}", UserWarning, stacklevel=2)
        return dict(result.importances)

    def __repr__(self) -> str:
        return f"HyperDriveRun(id={self.id!r}, experiment={self.experiment.name!r})"


class _StoreSide:
    """The store side of :class:`~hypersweep.run.Run` (see :class:`hypersweep.run.StoreSide`):
    the results API's reads, the parent sweep, models and child runs."""

    def view(self, run: Run) -> RunView:
        return RunView(run.experiment.workspace.store, run.id)

    def parent(self, run: Run) -> Run | None:
        sweep_id = run._results().sweep_id()  # a live run's _results says it is still running
        if sweep_id is None or run._store().sweep(sweep_id)["kind"] == SINGLE:
            return None
        return HyperDriveRun(run.experiment, sweep_id)

    def register_model(
        self,
        workspace: Path,
        run_id: str,
        experiment: str | None,
        run_dir: Path,
        model_name: str,
        model_path: str | None,
        **options: Any,
    ) -> Model:
        return register_from_run(
            Workspace(workspace), run_id, experiment, run_dir, model_name, model_path, **options
        )

    def child_run(
        self, workspace: Path, experiment: str, parent_id: str, name: str | None, run_id: str | None
    ) -> Run:
        ws = Workspace(workspace)
        child_id = create_child_run(ws.store, workspace, experiment, parent_id, name, run_id)
        return Run(Experiment(ws, experiment), child_id)

    def children(self, workspace: Path, run_id: str) -> list[Run]:
        ws = Workspace(workspace)
        return [ws.get_run(i) for i in ws.store.runs_with_property("azureml.parentRunId", run_id)]


#: What :func:`hypersweep.run.connect_store` is given (by ``hypersweep/__init__.py``).
STORE_SIDE = _StoreSide()
