"""The file lock that the environment cache and MLflow's database share."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from hypersweep._filelock import file_lock


def test_the_lock_makes_its_folder_and_excludes_others(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "x.lock"
    with file_lock(path):
        assert path.is_file()
        with open(path, "a") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(path, "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released on leaving
