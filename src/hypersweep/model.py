"""``Model``: a local model registry with Azure ML's ``azureml.core.Model`` API.

A registered model is a copy of a file or a folder, kept in the workspace under
``.hypersweep/models/<name>/<version>/`` so that it outlives the run that made it. Versions count
up from 1 per name; the next version is allocated in the same write transaction that records it,
so two registrations at once get distinct versions.

Example:
    >>> model = best_run.register_model("digits-mlp", "outputs/model.joblib")   # doctest: +SKIP
    >>> Model(ws, "digits-mlp").download("here")                                 # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from hypersweep._validation import invalid
from hypersweep.errors import InvalidConfigError, NotFoundError
from hypersweep.run import ENV_WORKSPACE
from hypersweep.store import DB_NAME, STATE_DIR, ModelRecord, Store


class Workspace(Protocol):
    """What a model needs of a workspace (:class:`hypersweep.Workspace`): its folder and its store."""

    @property
    def path(self) -> Path: ...

    @property
    def store(self) -> Store: ...


class _DefaultWorkspace:
    """The workspace ``Workspace()`` opens (``$HYPERSWEEP_WORKSPACE`` or the current folder), for
    :meth:`Model.get_model_path` without a workspace."""

    def __init__(self) -> None:
        self.path = Path(os.environ.get(ENV_WORKSPACE) or Path.cwd()).expanduser().resolve()
        self.store = Store(self.path / STATE_DIR / DB_NAME)


MODELS_DIR = "models"
# Azure's rule for model names: letters, digits, '-', '_' and '.', at most 255, starting with a letter or digit.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}")


def check_model_name(name: Any, owner: str, param: str = "model_name") -> str:
    """A model name as Azure allows it, else :class:`InvalidConfigError` naming the parameter."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise invalid(
            param,
            owner,
            "1-255 letters, digits, '-', '_' or '.', starting with a letter or digit",
            name,
        )
    return name


def _str_dict(value: Any, param: str, owner: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid(param, owner, "a dict of {key: value}", value)
    return {str(k): str(v) for k, v in value.items()}


def _properties(
    properties: Any, framework: str | None, framework_version: str | None, owner: str
) -> dict[str, str]:
    """A model's properties: ``properties``, and the framework and its version unless they set them."""
    props = _str_dict(properties, "properties", owner)
    if framework:
        props.setdefault("model_framework", str(framework))
    if framework_version:
        props.setdefault("model_framework_version", str(framework_version))
    return props


def _models_root(ws_path: Path) -> Path:
    return ws_path / STATE_DIR / MODELS_DIR


def _copy(source: Path, target: Path) -> None:
    """Copy a file or a folder; a folder's workspace state (``.hypersweep/``, the registry itself) stays out."""
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(STATE_DIR))
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _register(
    ws_path: Path,
    source: Path,
    name: str,
    *,
    run_id: str | None,
    experiment: str | None,
    source_label: str,
    tags: dict[str, str],
    properties: dict[str, str],
    description: str | None,
) -> tuple[str, int]:
    """Copy ``source`` into the registry and record it; return (name, version)."""
    root = _models_root(ws_path) / name
    staging = root / f".staging-{uuid.uuid4().hex}"
    _copy(source, staging / source.name)  # the slow part, outside the write transaction
    store = Store(ws_path / STATE_DIR / DB_NAME)

    def place(version: int) -> None:
        staging.rename(root / str(version))

    try:
        version = store.add_model(
            name,
            {
                "run_id": run_id,
                "experiment": experiment,
                "path": source.name,
                "source": source_label,
                "tags": tags,
                "properties": properties,
                "description": description,
            },
            place,
        )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        store.close()
    return name, version


def register_from_run(
    workspace: Workspace,
    run_id: str,
    experiment: str | None,
    run_dir: Path,
    model_name: str,
    model_path: str | None,
    *,
    tags: Any = None,
    properties: Any = None,
    description: str | None = None,
    model_framework: str | None = None,
    model_framework_version: str | None = None,
) -> Model:
    """``Run.register_model``: register the run's file or folder ``model_path`` (relative to the run's folder)."""
    ws_path = workspace.path
    owner = "Run.register_model"
    check_model_name(model_name, owner)
    if model_path is None:
        model_path = "outputs"
    if not isinstance(model_path, str) or not model_path.strip():
        raise invalid(
            "model_path", owner, "a path in the run such as 'outputs/model.joblib'", model_path
        )
    root = Path(run_dir).resolve()
    source = (root / model_path).resolve()
    if not source.is_relative_to(root) or not source.exists():
        present = (
            sorted(
                p.relative_to(root).as_posix() for p in (root / "outputs").rglob("*") if p.is_file()
            )
            if (root / "outputs").is_dir()
            else []
        )
        raise InvalidConfigError(
            f"The 'model_path' parameter of {owner} must be a file or folder in run {run_id} "
            f"(relative to its folder, e.g. 'outputs/model.joblib'). Got {model_path!r}, which the run does not "
            f"have; its outputs are: {', '.join(present[:20]) or 'none'}."
        )
    props = _properties(properties, model_framework, model_framework_version, owner)
    name, version = _register(
        ws_path,
        source,
        model_name,
        run_id=run_id,
        experiment=experiment,
        source_label=f"{run_id}:{Path(model_path).as_posix()}",
        tags=_str_dict(tags, "tags", owner),
        properties=props,
        description=description,
    )
    return Model(workspace, name, version=version)


class Model:
    """A registered model: one version of a name.

    Args:
        workspace: the :class:`~hypersweep.Workspace`.
        name: the model's name.
        id: ``"name:version"``, instead of ``name`` and ``version``.
        version: the version (default: the latest).
        tags, properties, run_id: with no version, the latest version that matches these too.

    Raises:
        NotFoundError: no such model (or version) in the workspace.

    Attributes:
        name, version, id, run_id, experiment_name, tags, properties, description, created_time, url.
    """

    def __init__(
        self,
        workspace: Workspace,
        name: str | None = None,
        id: str | None = None,
        tags: Any = None,
        properties: Any = None,
        version: int | None = None,
        run_id: str | None = None,
        model_framework: str | None = None,
        expand: bool = True,
        **kwargs: Any,
    ) -> None:
        owner = "Model"
        if id is not None:
            if not isinstance(id, str) or ":" not in id:
                raise invalid("id", owner, "'name:version'", id)
            name, _, ver = id.rpartition(":")
            version = int(ver) if ver.isdigit() else None
            if version is None:
                raise invalid("id", owner, "'name:version' with an integer version", id)
        if name is None:
            raise invalid(
                "name", owner, "the name of a registered model (or id='name:version')", None
            )
        self.workspace = workspace
        row = kwargs.pop("_row", None)
        if row is None:
            if version is not None and (
                isinstance(version, bool) or not isinstance(version, int) or version < 1
            ):
                raise invalid(
                    "version", owner, "a positive integer, or None for the latest", version
                )
            candidates = [
                r
                for r in workspace.store.models(name)
                if (version is None or r.version == version)
                and (run_id is None or r.run_id == run_id)
            ]
            candidates = [r for r in candidates if _matches(r, tags, properties)]
            if not candidates:
                known = sorted({r.name for r in workspace.store.models()})
                what = f"model {name!r}" + (f" version {version}" if version is not None else "")
                raise NotFoundError(
                    f"The 'name' parameter of Model names no registered model: there is no {what} in workspace "
                    f"{workspace.path}. Registered models: {', '.join(known) or 'none'} (hypersweep models)."
                )
            row = candidates[-1]
        self._load(row)

    def _load(self, row: ModelRecord) -> None:
        self.name: str = row.name
        self.version: int = int(row.version)
        self.id = f"{self.name}:{self.version}"
        self.run_id: str | None = row.run_id
        self.experiment_name: str | None = row.experiment
        self.tags: dict[str, str] = dict(row.tags)
        self.properties: dict[str, str] = dict(row.properties)
        self.description: str | None = row.description
        self.created_time = datetime.fromtimestamp(row.created, tz=timezone.utc)
        self.created_by = None
        self.model_framework = self.properties.get("model_framework")
        self.model_framework_version = self.properties.get("model_framework_version")
        self._path: str = row.path
        self._source: str = row.source

    @property
    def url(self) -> str:
        """Where the registry keeps this version's files."""
        return str(self._dir() / self._path)

    def _dir(self) -> Path:
        return _models_root(self.workspace.path) / self.name / str(self.version)

    # -- registering -----------------------------------------------------------------------------

    @staticmethod
    def register(
        workspace: Workspace,
        model_path: str,
        model_name: str,
        tags: Any = None,
        properties: Any = None,
        description: str | None = None,
        datasets: Any = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        child_paths: Sequence[str] | None = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
    ) -> Model:
        """Register a local file or folder as a new version of ``model_name``; it is copied into the workspace.

        Raises:
            InvalidConfigError: the name breaks Azure's rule, or ``model_path`` does not exist.
        """
        owner = "Model.register"
        check_model_name(model_name, owner)
        if not isinstance(model_path, (str, Path)) or not Path(model_path).exists():
            raise invalid("model_path", owner, "an existing local file or folder", model_path)
        source = Path(model_path).resolve()
        props = _properties(properties, model_framework, model_framework_version, owner)
        name, version = _register(
            workspace.path,
            source,
            model_name,
            run_id=None,
            experiment=None,
            source_label=str(source),
            tags=_str_dict(tags, "tags", owner),
            properties=props,
            description=description,
        )
        return Model(workspace, name, version=version)

    # -- reading ---------------------------------------------------------------------------------

    @staticmethod
    def list(
        workspace: Workspace,
        name: str | None = None,
        tags: Any = None,
        properties: Any = None,
        run_id: str | None = None,
        latest: bool = False,
        dataset_id: str | None = None,
        expand: bool = True,
        page_count: int = 255,
        model_framework: str | None = None,
    ) -> list[Model]:
        """Registered models (every version, by name then version), optionally filtered.

        Args:
            name: only this name.
            tags: ``["key", ...]`` (the tag is set) or ``[["key", "value"], ...]`` (set to value), or a dict.
            properties: the same, for properties.
            run_id: only models registered from this run.
            latest: only the latest version of each name.
        """
        rows = [r for r in workspace.store.models(name) if run_id is None or r.run_id == run_id]
        rows = [r for r in rows if _matches(r, tags, properties)]
        if model_framework is not None:
            rows = [r for r in rows if r.properties.get("model_framework") == model_framework]
        if latest:
            last: dict[str, Any] = {}
            for r in rows:
                last[r.name] = r
            rows = list(last.values())
        return [Model(workspace, r.name, _row=r) for r in rows]

    @staticmethod
    def get_model_path(
        model_name: str, version: int | None = None, _workspace: Workspace | None = None
    ) -> str:
        """The path of a registered model's file or folder in the registry (the latest version by default)."""
        return Model(_workspace or _DefaultWorkspace(), model_name, version=version).url

    def download(
        self, target_dir: str = ".", exist_ok: bool = False, exists_ok: bool | None = None
    ) -> str:
        """Copy the model's file or folder into ``target_dir``; return the path written.

        Raises:
            InvalidConfigError: the target exists already and ``exist_ok`` is False.
        """
        if exists_ok is not None:
            exist_ok = exists_ok
        target = Path(target_dir) / self._path
        if target.exists():
            if not exist_ok:
                raise invalid(
                    "exist_ok",
                    "Model.download",
                    f"True to overwrite {target}, which exists",
                    exist_ok,
                )
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()
        _copy(self._dir() / self._path, target)
        return str(target)

    def serialize(self) -> dict[str, Any]:
        """The model as a JSON-ready dict (what ``hypersweep models --json`` prints)."""
        return {
            "name": self.name,
            "version": self.version,
            "id": self.id,
            "run_id": self.run_id,
            "experiment_name": self.experiment_name,
            "tags": self.tags,
            "properties": self.properties,
            "description": self.description,
            "created_time": self.created_time.isoformat().replace("+00:00", "Z"),
            "path": self._path,
            "source": self._source,
            "url": self.url,
        }

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Model)
            and other.id == self.id
            and other.workspace.path == self.workspace.path
        )

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Model(name={self.name!r}, version={self.version}, run_id={self.run_id!r})"


def _pairs(value: Any) -> list[tuple[str, str | None]]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [(str(k), str(v)) for k, v in value.items()]
    out: list[tuple[str, str | None]] = []
    for item in value if not isinstance(value, str) else [value]:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            out.append((str(item[0]), str(item[1])))
        else:
            out.append((str(item), None))
    return out


def _matches(row: ModelRecord, tags: Any, properties: Any) -> bool:
    for have, wanted in ((row.tags, tags), (row.properties, properties)):
        for key, value in _pairs(wanted):
            if key not in have or (value is not None and have[key] != value):
                return False
    return True
