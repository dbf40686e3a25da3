"""``MLClient`` and its ``jobs`` operations, on a local hypersweep workspace."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from hypersweep._validation import invalid
from hypersweep.errors import NotFoundError
from hypersweep.experiment import Experiment, Workspace
from hypersweep.v2._jobs import Job, SweepJob, check_job


class DefaultAzureCredential:
    """A stand-in for ``azure.identity.DefaultAzureCredential``: nothing is signed in to; it does nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def get_token(self, *scopes: str, **kwargs: Any) -> None:
        """No token: hypersweep talks to no service."""
        return None


class _Poller:
    """What ``begin_cancel`` returns: the cancel has been requested; ``result()`` waits for the job to end."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def done(self) -> bool:
        from hypersweep.status import RunStatus

        return RunStatus(self._run.get_status()).is_terminal

    def result(self, timeout: float | None = None) -> None:
        if hasattr(self._run, "_wait_done") and getattr(self._run, "_thread", None) is not None:
            self._run._wait_done()
        return None

    wait = result


class JobOperations:
    """``ml_client.jobs``: create_or_update, stream, get, list, download, begin_cancel."""

    def __init__(self, client: MLClient) -> None:
        self._client = client

    @property
    def _ws(self) -> Workspace:
        return self._client.workspace

    def create_or_update(self, job: Any, **kwargs: Any) -> SweepJob:
        """Validate and start ``job`` (a sweep job); return it with ``name``, ``status`` and ``studio_url``."""
        from hypersweep.sweepfile import sweep_from_data

        job = check_job(job)
        data = job._to_data(base=Path.cwd())
        spec = sweep_from_data(data, Path.cwd() / "sweep-job.yml", workspace=self._ws.path)
        experiment = Experiment(self._ws, job.experiment_name or spec.experiment_name)
        sweep = experiment.submit(spec.config, tags=spec.tags)
        submitted = _copy_job(job)
        submitted.name, submitted._ws = sweep.id, self._ws
        submitted.experiment_name = experiment.name
        self._client._submitted[sweep.id] = sweep
        return submitted

    def _run(self, name: Any) -> Any:
        if isinstance(name, (SweepJob, Job)):
            name = name.name
        if not isinstance(name, str) or not name:
            raise invalid("name", "ml_client.jobs", "a job name (the name of a returned job)", name)
        live = self._client._submitted.get(name)
        return live if live is not None else self._ws.get_run(name)

    def get(self, name: str) -> Job:
        """The job ``name``: a sweep or one of its trials."""
        return Job(self._run(name))

    def list(self, parent_job_name: str | None = None, **kwargs: Any) -> list[Job]:
        """The trials of ``parent_job_name``, or every sweep of the workspace."""
        if parent_job_name is not None:
            return [Job(child) for child in self._run(parent_job_name).get_children()]
        store = self._ws.store
        return [Job(self._ws.get_run(row.id)) for row in store.sweeps()]

    def stream(self, name: str, **kwargs: Any) -> None:
        """Show the job's progress (a sweep's table, or a trial's output) until it ends."""
        run = self._run(name)
        run.wait_for_completion(show_output=True, raise_on_error=False)

    def download(
        self,
        name: str,
        *,
        download_path: str | os.PathLike[str] = ".",
        output_name: str | None = None,
        all: bool = False,
        **kwargs: Any,
    ) -> None:  # noqa: A002 - v2's argument name
        """Copy a job's files to ``download_path``: ``named-outputs/OUTPUT`` (one named output) or, with
        ``all=True`` or no ``output_name``, ``artifacts/outputs/...`` and ``artifacts/logs/...``.
        For a sweep, the files of its best trial."""
        run = self._run(name)
        if hasattr(run, "get_best_run_by_primary_metric"):
            best = run.get_best_run_by_primary_metric()
            if best is None:
                raise NotFoundError(
                    f"Sweep {run.id} has no best trial yet (no trial logged its primary metric)."
                )
            run = best
        folder = Path(self._ws.store.run(run.id).run_dir)
        target = Path(download_path)
        if output_name is not None:
            source = folder / "outputs" / output_name
            if not source.is_dir():
                known = (
                    sorted(p.name for p in (folder / "outputs").iterdir() if p.is_dir())
                    if (folder / "outputs").is_dir()
                    else []
                )
                raise invalid(
                    "output_name",
                    "ml_client.jobs.download",
                    f"an output of {run.id} ({', '.join(known) or 'none'})",
                    output_name,
                )
            shutil.copytree(source, target / "named-outputs" / output_name, dirs_exist_ok=True)
        if all or output_name is None:
            for sub in ("outputs", "logs"):
                if (folder / sub).is_dir():
                    shutil.copytree(folder / sub, target / "artifacts" / sub, dirs_exist_ok=True)

    def begin_cancel(self, name: str, **kwargs: Any) -> _Poller:
        """Request that the job stop (a sweep stops all its trials)."""
        run = self._run(name)
        run.cancel()
        return _Poller(run)


class MLClient:
    """``MLClient(credential, subscription_id, resource_group_name, workspace_name)``: accepted, and local.

    The records go to a hypersweep workspace folder: ``workspace_path``, else ``$HYPERSWEEP_WORKSPACE``,
    else the current folder. Nothing leaves the machine.
    """

    def __init__(
        self,
        credential: Any = None,
        subscription_id: str | None = None,
        resource_group_name: str | None = None,
        workspace_name: str | None = None,
        *,
        workspace_path: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        for key, value in (
            ("subscription_id", subscription_id),
            ("resource_group_name", resource_group_name),
            ("workspace_name", workspace_name),
        ):
            if value is not None and not isinstance(value, str):
                raise invalid(key, "MLClient", "a string (it is accepted and not used)", value)
        self.subscription_id, self.resource_group_name = subscription_id, resource_group_name
        self.workspace_name = workspace_name
        self.workspace = Workspace(workspace_path)
        self._submitted: dict[str, Any] = {}
        self.jobs = JobOperations(self)

    @classmethod
    def from_config(
        cls,
        credential: Any = None,
        *,
        path: str | os.PathLike[str] | None = None,
        file_name: str | None = None,
        **kwargs: Any,
    ) -> MLClient:
        """The local workspace (``path`` if given; no config.json is needed)."""
        folder = None if path is None else Path(path)
        if folder is not None and folder.is_file():
            folder = folder.parent
        return cls(credential, workspace_path=folder, **kwargs)

    def create_or_update(self, job: Any, **kwargs: Any) -> SweepJob:
        """``ml_client.jobs.create_or_update``."""
        return self.jobs.create_or_update(job, **kwargs)

    def __repr__(self) -> str:
        return f"MLClient(workspace={str(self.workspace.path)!r})"


def _copy_job(job: SweepJob) -> SweepJob:
    import copy

    return copy.copy(job)
