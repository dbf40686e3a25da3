"""``Environment``: what a run's Python has installed, as in Azure ML, made real on this machine.

An environment names packages (``env.python.conda_dependencies``, a conda file or a pip requirements
file), environment variables, and perhaps a Docker image. Locally it means:

- **Nothing to install**: if every package it names is already installed at a compatible version in
  the Python hypersweep runs in (``importlib.metadata`` and the requirement's specifier; ``python`` and
  ``pip`` are ignored, conda names are mapped to pip names), trials run in that Python.
- **A virtual environment otherwise**: hypersweep builds one for it under the workspace,
  ``.hypersweep/envs/<hash of the specification>/``, once (a lock keeps two sweeps from building the
  same one; a marker file written last says it is complete), and every later run or sweep with the
  same specification reuses it. The environment sees the packages of the Python hypersweep runs in
  at a lower priority than its own (hypersweep itself among them, so ``Run.get_context()`` works), and
  pip installs into it only what is missing or at another version: the pip packages, and the conda
  packages that pip can install. A leading ``python`` in a trial's command means its interpreter.
- **What cannot be had locally** is said once, with what runs instead: a Docker image (the trials run
  without Docker), a curated ``AzureML-...`` environment (this Python and its packages), conda-only
  packages such as ``cudatoolkit`` (left out). A pip requirement that fails to install stops the
  sweep before any trial starts, with the tail of pip's output in the error.
- ``env.python.user_managed_dependencies = True`` means "use ``env.python.interpreter_path`` as it is".

Registered environments (``env.register(ws)``) are JSON files under ``.hypersweep/environments/<name>/``,
one per version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypersweep._filelock import file_lock
from hypersweep._validation import check_workspace, invalid
from hypersweep.conda_dependencies import CondaDependencies, load_conda_file
from hypersweep.errors import HypersweepError, InvalidConfigError, NotFoundError

ENVS_DIR = "envs"
REGISTRY_DIR = "environments"
MARKER = ".hypersweep-built"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-.]{0,254}")
PIP_TAIL_LINES = 40

#: conda package names whose pip name differs
CONDA_TO_PIP = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "tensorflow-gpu": "tensorflow",
    "matplotlib-base": "matplotlib",
    "opencv": "opencv-python",
    "py-opencv": "opencv-python",
    "pytables": "tables",
    "lightgbm": "lightgbm",
    "graphviz": "graphviz",
    "python-graphviz": "graphviz",
    "pyyaml": "PyYAML",
    "msgpack-python": "msgpack",
}
#: conda packages that are system libraries or toolchains: pip has no package for them
CONDA_ONLY = {
    "cudatoolkit",
    "cudnn",
    "nccl",
    "cuda",
    "cuda-toolkit",
    "cuda-version",
    "mkl",
    "mkl-service",
    "mkl_fft",
    "mkl_random",
    "intel-openmp",
    "blas",
    "libblas",
    "openblas",
    "libgcc",
    "libgcc-ng",
    "libstdcxx-ng",
    "_libgcc_mutex",
    "libgfortran",
    "openmpi",
    "mpich",
    "gcc",
    "gxx",
    "cmake",
    "make",
    "git",
    "nodejs",
    "ffmpeg",
    "openssl",
    "ca-certificates",
    "certifi-conda",
    "r-base",
    "cpuonly",
    "magma-cuda",
}
#: ignored: the interpreter and its installer
IGNORED = {"python", "pip"}


class EnvironmentBuildError(HypersweepError):
    """An environment could not be built (a pip requirement failed to install, an interpreter is missing)."""


def is_curated(name: str) -> bool:
    """True for Azure ML's curated environment names (``AzureML-...``, any case)."""
    return name.lower().startswith("azureml-")


class PythonSection:
    """``env.python``: the packages and the interpreter.

    Attributes:
        conda_dependencies: a :class:`CondaDependencies` (or None).
        user_managed_dependencies: True: run ``interpreter_path`` as it is, install nothing.
        interpreter_path: the interpreter (``"python"``: the one hypersweep runs in).
    """

    def __init__(self) -> None:
        self.conda_dependencies: CondaDependencies | None = None
        self.user_managed_dependencies: bool = False
        self.interpreter_path: str = "python"
        self.conda_dependencies_file: str | None = None

    def __repr__(self) -> str:
        return (
            f"PythonSection(user_managed_dependencies={self.user_managed_dependencies!r}, "
            f"interpreter_path={self.interpreter_path!r}, conda_dependencies={self.conda_dependencies!r})"
        )


class DockerSection:
    """``env.docker``: accepted as in Azure ML; locally, trials run without Docker (one warning says so)."""

    def __init__(self) -> None:
        self.enabled: bool = False
        self.base_image: str | None = None
        self.base_dockerfile: str | None = None
        self.base_image_registry: Any = None
        self.shm_size: str | None = None
        self.arguments: list[str] = []
        self.gpu_support: bool | None = None

    def __repr__(self) -> str:
        return f"DockerSection(enabled={self.enabled!r}, base_image={self.base_image!r})"


class Environment:
    """A run's Python environment (Azure ML's ``azureml.core.Environment``).

    Args:
        name: letters, digits, ``_``, ``-`` and ``.``.

    Example:
        >>> from hypersweep import CondaDependencies, Environment
        >>> env = Environment("sklearn-env")
        >>> env.python.conda_dependencies = CondaDependencies.create(pip_packages=["scikit-learn"])
        >>> env.environment_variables["OMP_NUM_THREADS"] = "1"
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise invalid(
                "name",
                "Environment",
                "1-255 letters, digits, '_', '-' or '.', starting with a letter or digit",
                name,
            )
        self.name = name
        self.version: str | None = None
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables: dict[str, str] = {}
        self.inferencing_stack_version: str | None = None
        self.spark: Any = None
        self.r: Any = None

    # -- constructors ------------------------------------------------------------------------------

    @staticmethod
    def from_conda_specification(name: str, file_path: str | os.PathLike[str]) -> Environment:
        """An environment with the packages of a conda YAML file (``name``, ``channels``, ``dependencies``)."""
        spec = load_conda_file(file_path, "file_path", "Environment.from_conda_specification")
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(_underlying_structure=spec)
        env.python.conda_dependencies_file = str(file_path)
        return env

    @staticmethod
    def from_pip_requirements(
        name: str, file_path: str | os.PathLike[str], pip_version: str | None = None
    ) -> Environment:
        """An environment with the packages of a pip requirements file (one requirement a line)."""
        lines = read_requirements(file_path, "file_path", "Environment.from_pip_requirements")
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies.create(pip_packages=lines)
        return env

    @staticmethod
    def from_dockerfile(
        name: str,
        dockerfile: str,
        conda_specification: str | None = None,
        pip_requirements: str | None = None,
    ) -> Environment:
        """An environment from a Dockerfile: its packages are used, the Dockerfile is not (one warning at use)."""
        if conda_specification is not None:
            env = Environment.from_conda_specification(name, conda_specification)
        elif pip_requirements is not None:
            env = Environment.from_pip_requirements(name, pip_requirements)
        else:
            env = Environment(name)
        env.docker.base_dockerfile = dockerfile
        return env

    def build_local(
        self, workspace: Any, platform: str | None = None, **kwargs: Any
    ) -> PreparedEnvironment:
        """Build (or find in the workspace's cache) what this environment needs here, now."""
        return prepare(self, _workspace_path(workspace))

    @staticmethod
    def get(
        workspace: Any, name: str, version: str | None = None, label: str | None = None
    ) -> Environment:
        """A registered environment (the newest version unless ``version``), or a curated one.

        A curated name (``AzureML-...``) gives an environment that runs in this Python with the
        packages installed here, with one warning saying so.

        Raises:
            NotFoundError: if no environment of that name (and version) is registered.
        """
        if not isinstance(name, str) or not name:
            raise invalid("name", "Environment.get", "an environment name", name)
        try:
            return _registry_read(workspace, name, version)
        except NotFoundError:
            if not is_curated(name) or version is not None:
                raise
        return _curated(name, warn=True)

    @staticmethod
    def list(workspace: Any) -> dict[str, Environment]:
        """``{name: newest registered version}`` of the workspace's environments."""
        root = _registry_root(workspace)
        out: dict[str, Environment] = {}
        if root.is_dir():
            for folder in sorted(root.iterdir()):
                if folder.is_dir() and _versions(folder):
                    out[folder.name] = _registry_read(workspace, folder.name, None)
        return out

    def register(self, workspace: Any) -> Environment:
        """Store this environment in the workspace as the next version of its name; return it with ``version`` set."""
        folder = _registry_root(workspace) / self.name
        folder.mkdir(parents=True, exist_ok=True)
        data = self.to_dict()
        while True:
            version = max(_versions(folder), default=0) + 1
            try:
                fd = os.open(
                    folder / f"{version}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644
                )
            except FileExistsError:
                continue  # another process took this version: try the next
            with os.fdopen(fd, "w") as f:
                json.dump({**data, "version": str(version), "registered": time.time()}, f, indent=1)
            break
        self.version = str(version)
        return self

    # -- plain data ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The environment as plain JSON data (stored with a sweep, so a resumed sweep uses it)."""
        cd = self.python.conda_dependencies
        return {
            "name": self.name,
            "version": self.version,
            "python": {
                "user_managed_dependencies": bool(self.python.user_managed_dependencies),
                "interpreter_path": self.python.interpreter_path,
                "conda_dependencies": cd.as_dict() if cd is not None else None,
            },
            "docker": {
                "enabled": bool(self.docker.enabled),
                "base_image": self.docker.base_image,
                "base_dockerfile": self.docker.base_dockerfile,
            },
            "environment_variables": {
                str(k): str(v) for k, v in self.environment_variables.items()
            },
            "curated": bool(getattr(self, "_curated", False)),
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Environment:
        """Rebuild from :meth:`to_dict`."""
        env = Environment(data["name"])
        env.version = data.get("version")
        py = data.get("python") or {}
        env.python.user_managed_dependencies = bool(py.get("user_managed_dependencies"))
        env.python.interpreter_path = py.get("interpreter_path") or "python"
        if py.get("conda_dependencies") is not None:
            env.python.conda_dependencies = CondaDependencies(
                _underlying_structure=py["conda_dependencies"]
            )
        docker = data.get("docker") or {}
        env.docker.enabled = bool(docker.get("enabled"))
        env.docker.base_image = docker.get("base_image")
        env.docker.base_dockerfile = docker.get("base_dockerfile")
        env.environment_variables = dict(data.get("environment_variables") or {})
        if data.get("curated"):
            env._curated = True  # type: ignore[attr-defined]
        return env

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Environment) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r}, version={self.version!r})"


def environment_from_job(
    value: Any,
    base_dir: str | os.PathLike[str],
    where: str = "trial.environment",
    workspace: Any = None,
) -> Environment:
    """A v2 job's ``environment`` as an :class:`Environment` (for sweep-job YAML files).

    Accepts a reference (``azureml:AzureML-sklearn-1.5@latest``, ``azureml:my-env:2``: a registered
    environment of ``workspace``, or a curated one) or an inline definition with ``conda_file`` (a path
    relative to ``base_dir``, or the specification itself) and/or ``image`` (accepted; trials run
    without Docker, with one warning at submission).

    Raises:
        InvalidConfigError: naming ``where`` when the value or its conda file is invalid.
    """
    if isinstance(value, str):
        ref = value[len("azureml:") :] if value.startswith("azureml:") else value
        name, _, version = ref.partition("@")[0].partition(":")
        if not name:
            raise InvalidConfigError(
                f"{where} must name an environment such as azureml:AzureML-sklearn-1.5. Got {value!r}."
            )
        if workspace is not None:
            return Environment.get(workspace, name, None if is_curated(name) else (version or None))
        if is_curated(name):
            return _curated(name, warn=True)
        raise InvalidConfigError(
            f"{where} refers to the registered environment {name!r}, which needs a workspace."
        )
    if not isinstance(value, Mapping):
        raise InvalidConfigError(
            f"{where} must be an environment reference or a mapping with conda_file and/or image. "
            f"Got {value!r} instead."
        )
    unknown = sorted(
        set(value)
        - {
            "name",
            "version",
            "image",
            "conda_file",
            "description",
            "tags",
            "build",
            "os_type",
            "inference_config",
            "$schema",
        }
    )
    if unknown:
        raise InvalidConfigError(
            f"{where}: unknown key {unknown[0]!r}; expected conda_file and/or image."
        )
    env = Environment(str(value.get("name") or "job-environment"))
    conda = value.get("conda_file")
    if isinstance(conda, str):
        path = Path(base_dir) / conda
        spec = load_conda_file(path, f"{where}.conda_file", "the sweep file")
        env.python.conda_dependencies = CondaDependencies(_underlying_structure=spec)
    elif isinstance(conda, Mapping):
        from hypersweep.conda_dependencies import _check_spec

        env.python.conda_dependencies = CondaDependencies(
            _underlying_structure=_check_spec(conda, f"{where}.conda_file")
        )
    elif conda is not None:
        raise InvalidConfigError(
            f"{where}.conda_file must be a file path or a conda specification. Got {conda!r} instead."
        )
    if value.get("image") is not None:
        env.docker.enabled = True
        env.docker.base_image = str(value["image"])
    if value.get("build") is not None:
        env.docker.base_dockerfile = str(value["build"])
    return env


def _curated(name: str, warn: bool = False) -> Environment:
    """A curated environment: this Python as it is (with ``warn``, one warning says so)."""
    if warn:
        warnings.warn(
            f"Environment {name!r} is an Azure ML curated environment; hypersweep runs it with this Python "
            f"({sys.executable}, {sys.version.split()[0]}) and the packages installed in it.",
            UserWarning,
            stacklevel=3,
        )
    env = Environment(name)
    env.python.user_managed_dependencies = True
    env._curated = True  # type: ignore[attr-defined]
    return env


def read_requirements(path: str | os.PathLike[str], param: str, owner: str) -> list[str]:
    """The requirement lines of a pip requirements file (comments and blank lines left out)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise invalid(param, owner, "an existing pip requirements file", str(path))
    try:
        text = file.read_text()
    except UnicodeDecodeError as exc:
        raise InvalidConfigError(
            f"The {param!r} parameter of {owner}: {str(path)!r} is not a text file: {exc}"
        ) from None
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if not line.startswith("-") and classify_pip(line)[0] == "bad":
            raise InvalidConfigError(
                f"The {param!r} parameter of {owner}: line {number} of {str(path)!r} is not a pip requirement: {line!r}."
            )
        lines.append(line)
    return lines


# -- the registry (files under the workspace) ----------------------------------------------------


def _workspace_path(workspace: Any) -> Path:
    return check_workspace(workspace, "Environment", path_ok=True)


def _registry_root(workspace: Any) -> Path:
    from hypersweep.store import STATE_DIR

    return _workspace_path(workspace) / STATE_DIR / REGISTRY_DIR


def _versions(folder: Path) -> list[int]:
    return [int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()]


def _registry_read(workspace: Any, name: str, version: str | None) -> Environment:
    folder = _registry_root(workspace) / name
    versions = _versions(folder) if folder.is_dir() else []
    if not versions:
        raise NotFoundError(
            f"No environment named {name!r} is registered in this workspace (Environment.get 'name')."
        )
    if version is None:
        chosen = max(versions)
    else:
        if not str(version).isdigit() or int(version) not in versions:
            raise NotFoundError(
                f"Environment {name!r} has no version {version!r} (Environment.get 'version'); "
                f"it has {', '.join(map(str, sorted(versions)))}."
            )
        chosen = int(version)
    data = json.loads((folder / f"{chosen}.json").read_text())
    env = Environment.from_dict(data)
    env.version = str(chosen)
    return env


# -- what an environment needs, and whether this Python has it -----------------------------------


def classify_pip(entry: str) -> tuple[str, Any]:
    """``("option", tokens)``, ``("requirement", Requirement)``, ``("target", text)`` (a path or URL) or ``("bad", text)``."""
    from packaging.requirements import InvalidRequirement, Requirement

    text = entry.strip()
    if text.startswith("-"):
        return "option", shlex.split(text)
    try:
        return "requirement", Requirement(text)
    except InvalidRequirement:
        pass
    if (
        "://" in text
        or text.startswith((".", "/", "~"))
        or text.endswith((".whl", ".tar.gz", ".zip"))
        or os.sep in text
    ):
        return "target", text
    return "bad", text


def conda_to_pip(spec: str) -> tuple[str, str | None]:
    """A conda package spec as ``(pip name, pip requirement or None when pip cannot install it)``.

    ``numpy=1.24`` (conda's "1.24.*") becomes ``numpy==1.24.*``; ``numpy 1.24`` likewise;
    ``>=``, ``<=``, ``==``, ``!=`` pass through; a channel prefix (``conda-forge::``) is dropped.
    """
    text = spec.split("::", 1)[-1].strip()
    m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", text)
    if not m:
        return text, None
    name, rest = m.group(1), m.group(2).strip()
    lower = name.lower()
    if lower in CONDA_ONLY:
        return name, None
    pip_name = CONDA_TO_PIP.get(lower, name)
    if not rest:
        return pip_name, pip_name
    if rest[0] in "<>!~" or rest.startswith("=="):
        return pip_name, pip_name + rest.replace(" ", "")
    version = (
        rest.lstrip("=").split("=")[0].split()[0]
    )  # build strings (numpy=1.24=py311_0) are dropped
    if "*" in version:
        return pip_name, f"{pip_name}=={version}"
    return pip_name, f"{pip_name}=={version}.*"  # conda's "=1.24" and "1.24" mean 1.24.*


@dataclass
class Needs:
    """What an environment asks pip for, and what cannot be had locally."""

    pip_args: list[str] = field(default_factory=list)  # requirements, targets and options, in order
    requirements: list[Any] = field(default_factory=list)  # packaging Requirements (checkable)
    uncheckable: list[str] = field(default_factory=list)  # paths and URLs: always installed
    conda_only: list[str] = field(default_factory=list)
    python_version: str | None = None

    @property
    def empty(self) -> bool:
        return not self.requirements and not self.uncheckable


def needs_of(env: Environment) -> Needs:
    """The packages ``env`` names, sorted into what pip installs and what it cannot."""
    needs = Needs()
    cd = env.python.conda_dependencies
    if cd is None:
        return needs
    from packaging.requirements import Requirement

    for spec in cd.conda_packages:
        name, requirement = conda_to_pip(spec)
        if name.lower() in IGNORED:
            if name.lower() == "python":
                needs.python_version = cd.get_python_version()
            continue
        if requirement is None:
            needs.conda_only.append(spec)
            continue
        needs.requirements.append(Requirement(requirement))
        needs.pip_args.append(requirement)
    for entry in cd.pip_packages:
        kind, value = classify_pip(entry)
        if kind == "option":
            needs.pip_args += value
        elif kind == "requirement":
            if value.name.lower() in IGNORED or value.name.lower().startswith("azureml-"):
                continue  # the interpreter's own, or Azure ML's SDK, which hypersweep stands in for
            needs.requirements.append(value)
            needs.pip_args.append(entry.strip())
        elif kind == "target":
            needs.uncheckable.append(value)
            needs.pip_args.append(value)
        else:
            raise InvalidConfigError(
                f"The pip package {entry!r} of environment {env.name!r} (env.python.conda_dependencies) is not "
                "a pip requirement such as 'numpy>=1.24', a path, a URL or a pip option."
            )
    return needs


def missing_here(needs: Needs) -> list[str]:
    """The requirements this Python does not satisfy (not installed, or at an incompatible version)."""
    from importlib import metadata

    missing = []
    for req in needs.requirements:
        if req.marker is not None and not req.marker.evaluate():
            continue
        if req.url:
            missing.append(str(req))
            continue
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            missing.append(str(req))
            continue
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            missing.append(str(req))
    return missing + list(needs.uncheckable)


# -- preparing an environment for a sweep -----------------------------------------------------------


@dataclass
class PreparedEnvironment:
    """What trials of an environment run with.

    Attributes:
        python: the interpreter (``sys.executable`` when nothing had to be built).
        env: environment variables for the trial.
        built: the cached environment's folder, when one is used.
        note: what runs, in a sentence (for logs).
        built_now: True when this call built the environment (False when it came from the cache).
    """

    python: str
    env: dict[str, str] = field(default_factory=dict)
    built: Path | None = None
    note: str = ""
    built_now: bool = False


def prepare(
    env: Environment | None, ws_path: Path, *, progress: bool = True
) -> PreparedEnvironment:
    """Make ``env`` real here: check it, warn once about what cannot be had, build or reuse its virtual environment.

    Raises:
        EnvironmentBuildError: when pip cannot install a requirement (pip's last lines are in the message).
        InvalidConfigError: when the environment names an interpreter that does not exist.
    """
    if env is None:
        return PreparedEnvironment(sys.executable)
    variables = {str(k): str(v) for k, v in env.environment_variables.items()}
    notes = []
    if env.docker.enabled or env.docker.base_image or env.docker.base_dockerfile:
        image = env.docker.base_image or "a Dockerfile"
        notes.append(
            f"its Docker image ({image}) is not used: trials run as local processes without Docker"
        )
    if getattr(env, "_curated", False):
        return PreparedEnvironment(sys.executable, variables, note="curated: this Python")
    if env.python.user_managed_dependencies:
        python = _interpreter(env)
        _warn_once(env, notes)
        return PreparedEnvironment(python, variables, note=f"user-managed: {python}")
    needs = needs_of(env)
    if needs.conda_only:
        notes.append(
            "pip cannot install its conda-only package(s) "
            + ", ".join(needs.conda_only)
            + ", so they are left out (the trials use what this machine has)"
        )
    here = sys.version.split()[0]
    if needs.python_version and not _python_matches(needs.python_version, here):
        notes.append(f"it asks for python {needs.python_version}; trials run with Python {here}")
    _warn_once(env, notes)
    missing = missing_here(needs)
    if not missing:
        return PreparedEnvironment(
            sys.executable, variables, note="every package is installed here"
        )
    folder, built_now = build(env, needs, ws_path, progress=progress)
    return PreparedEnvironment(
        str(folder / "bin" / "python"),
        variables,
        built=folder,
        note=f"virtual environment {folder}",
        built_now=built_now,
    )


def _warn_once(env: Environment, notes: list[str]) -> None:
    if notes:
        warnings.warn(
            f"Environment {env.name!r}: " + "; ".join(notes) + ".", UserWarning, stacklevel=4
        )


def _python_matches(wanted: str, here: str) -> bool:
    wanted = wanted.strip().rstrip(".*")
    return here == wanted or here.startswith(wanted + ".")


def _interpreter(env: Environment) -> str:
    path = env.python.interpreter_path or "python"
    if path in ("python", "python3"):
        return sys.executable
    found = shutil.which(path)
    if found is None:
        raise InvalidConfigError(
            f"The interpreter_path of environment {env.name!r} (env.python.interpreter_path) must be an "
            f"existing Python interpreter. Got {path!r} instead."
        )
    return found


def spec_hash(needs: Needs) -> str:
    """The cache key of an environment: what pip is asked for, and the Python it builds on."""
    import hypersweep

    key = {
        "pip": needs.pip_args,
        "base": sys.executable,
        "version": sys.version,
        "hypersweep": str(Path(hypersweep.__file__).resolve().parent.parent),
        "format": 1,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def _site_dirs() -> list[str]:
    """Where this Python finds its packages (hypersweep's own location first)."""
    import site

    import hypersweep

    dirs = [str(Path(hypersweep.__file__).resolve().parent.parent)]
    dirs += site.getsitepackages()
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        dirs.append(site.getusersitepackages())
    seen: list[str] = []
    for d in dirs:
        if d not in seen and os.path.isdir(d):
            seen.append(d)
    return seen


def build(
    env: Environment, needs: Needs, ws_path: Path, *, progress: bool = True
) -> tuple[Path, bool]:
    """The cached virtual environment for ``needs``, and whether it was built now (it was not complete yet)."""
    from hypersweep.store import STATE_DIR

    key = spec_hash(needs)
    root = ws_path / STATE_DIR / ENVS_DIR
    folder = root / key
    if (folder / MARKER).is_file():
        return folder, False
    with file_lock(root / f"{key}.lock"):
        if (folder / MARKER).is_file():  # built by another sweep while this one waited
            return folder, False
        if folder.exists():
            shutil.rmtree(folder)  # a build that did not finish
        with _Progress(env.name, progress) as show:
            show(f"creating a virtual environment in {folder}")
            _run(
                [sys.executable, "-m", "venv", "--without-pip", str(folder)],
                "creating the virtual environment",
            )
            python = folder / "bin" / "python"
            purelib = subprocess.run(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            # this Python's packages (and hypersweep) stay visible, after the environment's own
            lines = [f"import site; site.addsitedir({d!r})" for d in _site_dirs()]
            Path(purelib, "_hypersweep_base.pth").write_text("\n".join(lines) + "\n")
            show("pip install " + " ".join(needs.pip_args))
            command = [
                *_pip(python),
                "install",
                "--disable-pip-version-check",
                "--no-input",
                *needs.pip_args,
            ]
            _stream(command, show, env.name, needs)
            (folder / "environment.json").write_text(
                json.dumps({"name": env.name, "pip": needs.pip_args}, indent=1)
            )
            (folder / MARKER).write_text(f"{time.time()}\n")
    return folder, True


def _pip(python: Path) -> list[str]:
    """pip for the new environment: this Python's pip aimed at it, or pip bootstrapped into it."""
    from importlib import metadata

    from packaging.version import Version

    try:
        here = Version(metadata.version("pip"))
    except metadata.PackageNotFoundError:
        here = None
    if here is not None and here >= Version("22.3"):  # pip's --python option
        return [sys.executable, "-m", "pip", "--python", str(python)]
    _run(
        [str(python), "-m", "ensurepip", "--default-pip"],
        "installing pip into the virtual environment",
    )
    return [str(python), "-m", "pip"]


def _run(command: list[str], what: str) -> None:
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-PIP_TAIL_LINES:])
        raise EnvironmentBuildError(f"{what} failed (exit code {proc.returncode}):\n{tail}")


def _stream(command: list[str], show: Any, name: str, needs: Needs) -> None:
    lines: list[str] = []
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                lines.append(line)
                del lines[:-PIP_TAIL_LINES]
                show(line)
        code = proc.wait()
    if code != 0:
        asked = [a for a in needs.pip_args if not a.startswith("-")]
        raise EnvironmentBuildError(
            f"Environment {name!r} could not be built: pip could not install {', '.join(asked)} "
            f"(exit code {code}); no trial was started. The last lines of pip's output:\n"
            + "\n".join(lines)
        )


class _Progress:
    """A one-line status on stderr while an environment builds (rich), or nothing."""

    def __init__(self, name: str, enabled: bool) -> None:
        self.name, self.enabled = name, enabled
        self._status: Any = None
        self._started = time.monotonic()

    def __enter__(self) -> Any:
        if self.enabled:
            from rich.console import Console

            self._console = Console(stderr=True)
            self._status = self._console.status(f"Building environment {self.name!r}")
            self._status.__enter__()
        return self

    def __call__(self, text: str) -> None:
        if self._status is not None:
            self._status.update(f"Building environment {self.name!r}: {text[:120]}")

    def __exit__(self, *exc: Any) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)
            if exc[0] is None:
                self._console.print(
                    f"Environment {self.name!r} built in {time.monotonic() - self._started:.1f} s."
                )
