"""Guards on the public surface and on the direction of imports between layers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import hypersweep

PACKAGE = Path(hypersweep.__file__).parent

HYPERDRIVE_NAMES = {
    "BanditPolicy",
    "BayesianParameterSampling",
    "EarlyTerminationPolicy",
    "GridParameterSampling",
    "HyperDriveConfig",
    "HyperDriveRun",
    "HyperParameterSampling",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "PrimaryMetricGoal",
    "RandomParameterSampling",
    "TruncationSelectionPolicy",
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
    "Experiment",
    "Workspace",
    "Run",
    "ScriptRunConfig",
}


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert hypersweep.__all__ == sorted(hypersweep.__all__)
    for name in hypersweep.__all__:
        assert getattr(hypersweep, name) is not None, name


def test_hyperdrive_names_are_exported() -> None:
    assert HYPERDRIVE_NAMES <= set(hypersweep.__all__)


def test_public_classes_and_functions_have_docstrings() -> None:
    for name in hypersweep.__all__:
        assert getattr(hypersweep, name).__doc__, name


def test_importing_run_stays_cheap() -> None:
    code = "import sys; from hypersweep import Run; print(sorted(m for m in ('numpy', 'scipy', 'sqlite3', 'rich', 'yaml') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# module (or package) -> the modules it must never import
FORBIDDEN = {
    "space": {
        "sampling",
        "policy",
        "controller",
        "experiment",
        "executors",
        "store",
        "cli",
        "config",
    },
    "sampling": {"policy", "controller", "experiment", "executors", "store", "cli", "config"},
    "policy": {"sampling", "controller", "experiment", "executors", "store", "cli", "config"},
    "executors": {"sampling", "policy", "controller", "experiment", "cli", "config", "store"},
    "store": {"sampling", "policy", "controller", "experiment", "executors", "cli", "config"},
    "run": {"sampling", "policy", "controller", "executors", "store", "cli", "config", "space"},
    "controller": {"experiment", "cli", "config"},
    # config asks the executors' registry whether an address is one an executor runs
    "config": {"controller", "experiment", "cli", "store"},
    "importance": {
        "sampling",
        "policy",
        "controller",
        "experiment",
        "executors",
        "cli",
        "config",
        "dashboard",
        "widgets",
    },
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("hypersweep.")
        ):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("hypersweep."):
                    found.add(alias.name.split(".")[1])
    return found


def test_layers_import_only_downwards() -> None:
    for layer, forbidden in FORBIDDEN.items():
        target = PACKAGE / layer
        files = list(target.rglob("*.py")) if target.is_dir() else [PACKAGE / f"{layer}.py"]
        for path in files:
            bad = _imports(path) & forbidden
            assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"
