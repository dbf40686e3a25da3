"""Compute targets, as Azure ML's ``azureml.core.compute``: the notebook's cluster cell runs locally.

``ComputeTarget.create(ws, "hd-cluster", AmlCompute.provisioning_configuration(...))`` gives a target
that runs trials on this machine, with one warning saying so (hypersweep has no Azure clusters).
A name can instead stand for a Ray cluster::

    ray_target = ComputeTarget.create(ws, "ray-cluster", RayCompute(address="ray://HOST:10001"))
    src = ScriptRunConfig(..., compute_target=ray_target)     # or compute_target="ray://HOST:10001"

(``RayCompute()`` alone means ``"ray"``: ``$RAY_ADDRESS``, a ``ray start`` cluster here, or a new local
Ray.) Targets are kept in the workspace, one JSON file each in ``.hypersweep/compute/<name>.json``
(``{"type": "Ray", "address": "ray://HOST:PORT"}`` written by hand works too), so
``ComputeTarget(workspace=ws, name=...)`` finds them again in a later session; ``"local"`` always exists.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

from hypersweep._validation import check_workspace, invalid
from hypersweep.errors import HypersweepError

COMPUTE_DIR = "compute"
LOCAL = "local"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9\-]{1,31}|local")


class ComputeTargetException(HypersweepError):
    """A compute target does not exist, or cannot be created (Azure ML's exception of the same name)."""


class AmlComputeProvisioningConfiguration:
    """What ``AmlCompute.provisioning_configuration`` returns: the settings, kept for display."""

    type = "AmlCompute"

    def __init__(self, **settings: Any) -> None:
        self.settings = settings
        self.vm_size: str = str(settings.get("vm_size") or "")
        self.max_nodes: Any = settings.get("max_nodes")
        self.min_nodes: Any = settings.get("min_nodes", 0)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **{k: v for k, v in self.settings.items() if _plain(v)}}


class AmlCompute:
    """Azure ML's managed cluster: accepted, and run on this machine."""

    @staticmethod
    def provisioning_configuration(
        vm_size: str = "",
        vm_priority: str = "dedicated",
        min_nodes: int = 0,
        max_nodes: int | None = None,
        idle_seconds_before_scaledown: int | None = None,
        **kwargs: Any,
    ) -> AmlComputeProvisioningConfiguration:
        """The settings of a cluster (kept, not used: trials run here)."""
        return AmlComputeProvisioningConfiguration(
            vm_size=vm_size,
            vm_priority=vm_priority,
            min_nodes=min_nodes,
            max_nodes=max_nodes,
            idle_seconds_before_scaledown=idle_seconds_before_scaledown,
            **kwargs,
        )

    @staticmethod
    def supported_vmsizes(workspace: Any, location: str | None = None) -> list[dict[str, Any]]:
        """No Azure VM sizes here: an empty list."""
        return []


class RayCompute:
    """hypersweep's compute target for a Ray cluster.

    Args:
        address: ``"ray"`` ($RAY_ADDRESS, a ``ray start`` cluster here, or a new local Ray) or
            ``"ray://HOST:PORT"`` (Ray Client).
    """

    type = "Ray"

    def __init__(self, address: str = "ray") -> None:
        if not isinstance(address, str) or not (
            address == "ray" or re.fullmatch(r"ray://[^\s/:]+(:\d+)?", address)
        ):
            raise invalid("address", "RayCompute", "'ray' or 'ray://HOST:PORT'", address)
        self.address = address

    @staticmethod
    def provisioning_configuration(address: str = "ray") -> RayCompute:
        return RayCompute(address)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "address": self.address}


class ComputeTargetStatus:
    """What ``ComputeTarget.get_status()`` returns (``serialize()`` gives a dict, as in Azure ML)."""

    def __init__(self, target: ComputeTarget) -> None:
        self.provisioning_state = "Succeeded"
        self.target = target

    def serialize(self) -> dict[str, Any]:
        return {
            "name": self.target.name,
            "type": self.target.type,
            "provisioningState": self.provisioning_state,
            "runsOn": self.target.hypersweep_target,
            "currentNodeCount": 1,
            "errors": None,
        }

    def __repr__(self) -> str:
        return f"ComputeTargetStatus({self.serialize()!r})"


class ComputeTarget:
    """A named compute target of the workspace: ``local`` (this machine) or a Ray cluster.

    ``ComputeTarget(workspace=ws, name=name)`` finds a target created earlier, and raises
    :class:`ComputeTargetException` for a name never created (as in Azure ML, so the notebook's
    ``try``/``except`` creates it). Pass it to ``ScriptRunConfig(compute_target=...)``.
    """

    def __init__(self, workspace: Any, name: str) -> None:
        _check_name(name)
        self.workspace, self.name = workspace, name
        if name == LOCAL:
            self._data: dict[str, Any] = {"type": "Local"}
            return
        file = _folder(workspace) / f"{name}.json"
        if not file.is_file():
            raise ComputeTargetException(
                f"ComputeTargetNotFound: Compute Target with name {name!r} not found in the workspace "
                f"{_ws_path(workspace)}; create it with ComputeTarget.create(ws, {name!r}, config)."
            )
        try:
            self._data = json.loads(file.read_text())
            if not isinstance(self._data, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            raise ComputeTargetException(
                f"The compute target file {file} is not valid JSON: {exc}"
            ) from None
        if self._data.get("type") == "Ray":
            RayCompute(self._data.get("address", "ray"))  # checks the address
        self._warn_if_local()

    @staticmethod
    def create(workspace: Any, name: str, provisioning_configuration: Any) -> ComputeTarget:
        """Create (or replace) the target ``name``: an ``AmlCompute`` configuration runs here; ``RayCompute`` on Ray."""
        _check_name(name)
        if name == LOCAL:
            raise invalid(
                "name",
                "ComputeTarget.create",
                "a name other than 'local' (which always exists)",
                name,
            )
        to_dict = getattr(provisioning_configuration, "to_dict", None)
        if not callable(to_dict):
            raise invalid(
                "provisioning_configuration",
                "ComputeTarget.create",
                "AmlCompute.provisioning_configuration(...) or RayCompute(address=...)",
                provisioning_configuration,
            )
        data = to_dict()
        folder = _folder(workspace)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.json.tmp"
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, folder / f"{name}.json")
        return ComputeTarget(workspace, name)

    @staticmethod
    def list(workspace: Any) -> list[ComputeTarget]:
        """``local`` and every target created in the workspace."""
        targets = [ComputeTarget(workspace, LOCAL)]
        folder = _folder(workspace)
        if folder.is_dir():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # listing is not using: no warning per cluster
                targets += [
                    ComputeTarget(workspace, p.stem)
                    for p in sorted(folder.glob("*.json"))
                    if _NAME.fullmatch(p.stem)
                ]
        return targets

    # -- what notebooks read ---------------------------------------------------------------------

    @property
    def type(self) -> str:
        return str(self._data.get("type", "Local"))

    @property
    def provisioning_state(self) -> str:
        return "Succeeded"

    @property
    def location(self) -> str:
        return "local"

    @property
    def hypersweep_target(self) -> str:
        """What runs trials: ``"local"``, ``"ray"`` or ``"ray://HOST:PORT"``."""
        if self.type == "Ray":
            return str(self._data.get("address", "ray"))
        return LOCAL

    def wait_for_completion(
        self,
        show_output: bool = False,
        min_node_count: int | None = None,
        timeout_in_minutes: int = 20,
        is_delete_operation: bool = False,
    ) -> None:
        """Nothing to wait for: the target is ready (with ``show_output``, says so)."""
        if show_output:
            print(
                f"Compute target {self.name!r} ({self.type}) is ready: trials run on {self._runs_on()}."
            )
            print("Succeeded")

    def get_status(self) -> ComputeTargetStatus:
        return ComputeTargetStatus(self)

    def delete(self) -> None:
        """Forget the target (``local`` cannot be deleted)."""
        if self.name == LOCAL:
            raise ComputeTargetException("The 'local' compute target cannot be deleted.")
        (_folder(self.workspace) / f"{self.name}.json").unlink(missing_ok=True)

    def detach(self) -> None:
        self.delete()

    def serialize(self) -> dict[str, Any]:
        return {"name": self.name, **self._data}

    def _runs_on(self) -> str:
        return (
            "this machine"
            if self.hypersweep_target == LOCAL
            else f"the Ray cluster {self.hypersweep_target}"
        )

    def _warn_if_local(self) -> None:
        if self.type != "Ray":
            size = self._data.get("vm_size") or "any size"
            nodes = self._data.get("max_nodes")
            shape = f"{self.type}, {size}" + (f", up to {nodes} nodes" if nodes else "")
            warnings.warn(
                f"Compute target {self.name!r} ({shape}) runs its trials on this machine: hypersweep has no "
                "Azure clusters. For a Ray cluster, use ComputeTarget.create(ws, name, RayCompute(address=...)).",
                UserWarning,
                stacklevel=3,
            )

    def __repr__(self) -> str:
        return f"ComputeTarget(name={self.name!r}, type={self.type!r}, runs_on={self.hypersweep_target!r})"


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _ws_path(workspace: Any) -> Path:
    return check_workspace(workspace, "ComputeTarget")


def _folder(workspace: Any) -> Path:
    from hypersweep.store import STATE_DIR

    return _ws_path(workspace) / STATE_DIR / COMPUTE_DIR


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise invalid(
            "name", "ComputeTarget", "2-32 letters, digits and '-', starting with a letter", name
        )


def resolve_target(target: str, workspace_path: Path) -> str:
    """What runs a run configuration's ``compute_target``: ``"local"``, ``"ray"``, ``"ray://HOST:PORT"``,
    or for a compute target's name, what that target runs on.

    Raises:
        ComputeTargetException: for a name no ``ComputeTarget.create`` made in this workspace.
    """
    from hypersweep.executors import is_target

    if (
        is_target(target) or "://" in target
    ):  # an executor's target (an unknown address: make_executor says so)
        return target

    class _Ws:
        path = workspace_path

    return ComputeTarget(_Ws(), target).hypersweep_target
