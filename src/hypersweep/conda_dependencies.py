"""``CondaDependencies``: the packages of an environment, as Azure ML's ``azureml.core.conda_dependencies``.

The object holds a conda environment specification (``name``, ``channels``, ``dependencies`` with an
optional ``pip:`` list), reads and writes it as YAML, and is what ``env.python.conda_dependencies``
holds. hypersweep installs the pip packages and the conda packages that pip can install (see
:mod:`hypersweep.environment`).

Example:
    >>> cd = CondaDependencies.create(pip_packages=["scikit-learn>=1.3"], python_version="3.11")
    >>> cd.add_conda_package("numpy")
    >>> sorted(cd.conda_packages), list(cd.pip_packages)
    (['numpy', 'python=3.11'], ['scikit-learn>=1.3'])
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from hypersweep._validation import invalid
from hypersweep.errors import InvalidConfigError

DEFAULT_NAME = "project_environment"


def _check_spec(data: Any, where: str) -> dict[str, Any]:
    """A conda specification as a dict ``{name, channels, dependencies}``, checked for shape."""
    if not isinstance(data, Mapping):
        raise InvalidConfigError(
            f"{where} must be a conda environment specification (a mapping with "
            f"'dependencies'). Got {data!r} instead."
        )
    spec: dict[str, Any] = {"name": str(data.get("name") or DEFAULT_NAME)}
    channels = data.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise InvalidConfigError(
            f"{where}: 'channels' must be a list of names. Got {channels!r} instead."
        )
    spec["channels"] = list(channels)
    deps = data.get("dependencies") or []
    if not isinstance(deps, list):
        raise InvalidConfigError(f"{where}: 'dependencies' must be a list. Got {deps!r} instead.")
    out: list[Any] = []
    for dep in deps:
        if isinstance(dep, Mapping) and set(dep) == {"pip"}:
            pip = dep["pip"] or []
            if not isinstance(pip, list) or not all(isinstance(p, str) for p in pip):
                raise InvalidConfigError(
                    f"{where}: 'pip' must be a list of requirements. Got {pip!r} instead."
                )
            out.append({"pip": list(pip)})
        elif isinstance(dep, (str, int, float)) and not isinstance(dep, bool):
            out.append(str(dep))
        else:
            raise InvalidConfigError(
                f"{where}: each dependency must be a package such as 'numpy>=1.24' or a 'pip:' list. "
                f"Got {dep!r} instead."
            )
    spec["dependencies"] = out
    return spec


def load_conda_file(path: str | os.PathLike[str], param: str, owner: str) -> dict[str, Any]:
    """Read and check a conda environment YAML file; errors name ``param`` of ``owner``."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise invalid(param, owner, "an existing conda environment YAML file", str(path))
    try:
        data = yaml.safe_load(file.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidConfigError(
            f"The {param!r} parameter of {owner} must be a conda environment YAML file; {str(path)!r} "
            f"does not parse: {exc}"
        ) from None
    return _check_spec(data, f"The conda file {str(path)!r} ({param!r} of {owner})")


class CondaDependencies:
    """A conda environment specification: conda packages, channels and pip packages.

    Args:
        conda_dependencies_file_path: a conda YAML file to start from (None: an empty specification).
    """

    def __init__(
        self,
        conda_dependencies_file_path: str | os.PathLike[str] | None = None,
        _underlying_structure: Mapping[str, Any] | None = None,
    ) -> None:
        if conda_dependencies_file_path is not None:
            self._spec = load_conda_file(
                conda_dependencies_file_path, "conda_dependencies_file_path", "CondaDependencies"
            )
        elif _underlying_structure is not None:
            self._spec = _check_spec(_underlying_structure, "CondaDependencies")
        else:
            self._spec = {"name": DEFAULT_NAME, "channels": [], "dependencies": []}

    @staticmethod
    def create(
        pip_packages: Iterable[str] | None = None,
        conda_packages: Iterable[str] | None = None,
        python_version: str | None = None,
        pin_sdk_version: bool = True,
        pip_indexurl: str | None = None,
    ) -> CondaDependencies:
        """A specification with these packages (``python_version`` adds ``python=<version>``)."""
        cd = CondaDependencies()
        if python_version is not None:
            cd.set_python_version(python_version)
        for name in conda_packages or []:
            cd.add_conda_package(name)
        for name in pip_packages or []:
            cd.add_pip_package(name)
        if pip_indexurl:
            cd.set_pip_option(f"--index-url {pip_indexurl}")
        return cd

    # -- reading -----------------------------------------------------------------------------------

    def _pip_list(self, create: bool = False) -> list[str] | None:
        for dep in self._spec["dependencies"]:
            if isinstance(dep, dict):
                return dep["pip"]
        if not create:
            return None
        pip: list[str] = []
        self._spec["dependencies"].append({"pip": pip})
        return pip

    @property
    def conda_packages(self) -> Iterator[str]:
        """The conda packages, as written (``numpy>=1.24``, ``python=3.11``)."""
        return iter([d for d in self._spec["dependencies"] if isinstance(d, str)])

    @property
    def pip_packages(self) -> Iterator[str]:
        """The pip requirements (options such as ``--find-links=DIR`` included)."""
        return iter(list(self._pip_list() or []))

    @property
    def conda_channels(self) -> Iterator[str]:
        return iter(list(self._spec["channels"]))

    def get_python_version(self) -> str | None:
        """The ``python`` version the specification asks for, if any."""
        for dep in self.conda_packages:
            name, _, version = dep.partition("=")
            if name.strip() == "python":
                return version.lstrip("=").strip() or None
        return None

    # -- changing ----------------------------------------------------------------------------------

    def _check_name(self, name: Any, param: str, owner: str) -> str:
        if not isinstance(name, str) or not name.strip():
            raise invalid(param, owner, "a package such as 'numpy' or 'numpy>=1.24'", name)
        return name.strip()

    def add_conda_package(self, conda_package: str) -> None:
        """Add a conda package (``name``, ``name=version`` or ``name>=version``); once."""
        name = self._check_name(
            conda_package, "conda_package", "CondaDependencies.add_conda_package"
        )
        if name not in self._spec["dependencies"]:
            pip_at = next(
                (i for i, d in enumerate(self._spec["dependencies"]) if isinstance(d, dict)), None
            )
            if pip_at is None:
                self._spec["dependencies"].append(name)
            else:
                self._spec["dependencies"].insert(pip_at, name)

    def add_pip_package(self, pip_package: str) -> None:
        """Add a pip requirement (``name``, ``name==version``, a path or URL, or a pip option); once."""
        name = self._check_name(pip_package, "pip_package", "CondaDependencies.add_pip_package")
        pip = self._pip_list(create=True)
        assert pip is not None
        if name not in pip:
            pip.append(name)

    def set_pip_option(self, pip_option: str) -> None:
        """Add a pip option such as ``--extra-index-url URL`` or ``--find-links=DIR``."""
        self.add_pip_package(pip_option)

    def add_channel(self, channel: str) -> None:
        """Add a conda channel (kept in the specification; pip does not use it)."""
        name = self._check_name(channel, "channel", "CondaDependencies.add_channel")
        if name not in self._spec["channels"]:
            self._spec["channels"].append(name)

    def remove_conda_package(self, conda_package: str) -> None:
        self._spec["dependencies"] = [
            d
            for d in self._spec["dependencies"]
            if not (isinstance(d, str) and _conda_name(d) == _conda_name(conda_package))
        ]

    def remove_pip_package(self, pip_package: str) -> None:
        pip = self._pip_list()
        if pip is not None:
            pip[:] = [p for p in pip if _pip_name(p) != _pip_name(pip_package)]

    def set_python_version(self, version: str) -> None:
        """Ask for ``python=<version>`` (replacing any earlier python entry)."""
        self.remove_conda_package("python")
        self._spec["dependencies"].insert(0, f"python={version}")

    def add_tensorflow_conda_package(
        self, core_type: str = "cpu", version: str | None = None
    ) -> None:
        """Azure's helper: adds ``tensorflow`` (or ``tensorflow-gpu``), optionally pinned."""
        name = "tensorflow-gpu" if core_type == "gpu" else "tensorflow"
        self.add_conda_package(f"{name}={version}" if version else name)

    def add_tensorflow_pip_package(
        self, core_type: str = "cpu", version: str | None = None
    ) -> None:
        name = "tensorflow-gpu" if core_type == "gpu" else "tensorflow"
        self.add_pip_package(f"{name}=={version}" if version else name)

    # -- writing -----------------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """The specification as plain data (a deep copy)."""
        return copy.deepcopy(self._spec)

    def serialize_to_string(self) -> str:
        """The specification as conda environment YAML."""
        header = "# Conda environment specification (written by hypersweep).\n"
        return header + yaml.safe_dump(self._spec, sort_keys=False, default_flow_style=False)

    def save(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the YAML to ``path`` (default: ``conda_dependencies.yml`` here); return the path."""
        target = Path(path or "conda_dependencies.yml").expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.serialize_to_string())
        return str(target)

    def save_to_file(
        self, base_directory: str | os.PathLike[str], conda_file_path: str | None = None
    ) -> str:
        """Azure's older form of :meth:`save`: the file ``conda_file_path`` in ``base_directory``."""
        return self.save(Path(base_directory) / (conda_file_path or "conda_dependencies.yml"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CondaDependencies) and self._spec == other._spec

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CondaDependencies(conda={list(self.conda_packages)!r}, pip={list(self.pip_packages)!r})"


def _conda_name(spec: str) -> str:
    spec = spec.split("::", 1)[-1].strip()
    for i, ch in enumerate(spec):
        if ch in "=<>!~ [":
            return spec[:i].lower()
    return spec.lower()


def _pip_name(spec: str) -> str:
    for i, ch in enumerate(spec):
        if ch in "=<>!~ [;@":
            return spec[:i].strip().lower()
    return spec.strip().lower()
