"""Shared fixtures: a fresh workspace folder and a helper that writes training scripts."""

from __future__ import annotations

import os
import signal
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from hypersweep import Workspace

# A test run started as a background job of a non-interactive shell inherits SIGINT ignored, and so
# would every process it starts: the Ctrl-C tests' drivers would never see their Ctrl-C. A Python
# handler here is reset to the default in each child at exec, where Python installs its own again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def device_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' machine-wide GPU leases go to a folder of their own, not the user's."""
    folder = tmp_path_factory.mktemp("device-ledger")
    os.environ["HYPERSWEEP_DEVICE_LEDGER"] = str(
        folder
    )  # seen by the processes the tests start too
    return folder


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def script_dir(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``source`` (dedented) as ``name`` in a fresh source folder and return the folder."""
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)

    def write(name: str, source: str) -> Path:
        (folder / name).write_text(textwrap.dedent(source))
        return folder

    return write


def pid_alive(pid: int) -> bool:
    """True if a process with ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def write_iris_csv(path: Path) -> Path:
    """scikit-learn's bundled iris data as a CSV (four feature columns and ``species``), without pandas."""
    import csv

    from sklearn.datasets import load_iris

    data = load_iris()
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width", "species"])
        for row, target in zip(data.data, data.target, strict=True):
            writer.writerow([*row, data.target_names[target]])
    return path
