"""The source snapshot: what of a sweep's source folder every run gets a copy of.

As in Azure ML, files matched by ``.amlignore`` (or, without one, ``.gitignore``) in the source
folder are left out, so datasets and checkpoints need not be copied. The patterns are
gitignore-style globs: ``data/`` (a folder), ``*.ckpt``, ``/build`` (anchored at the top),
``logs/*.txt``; ``#`` starts a comment. Negation (``!pattern``) is not supported. hypersweep's own
folder and the usual caches are always left out.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import warnings
from pathlib import Path

from hypersweep.store import STATE_DIR

ALWAYS_IGNORED = (
    STATE_DIR,
    ".git",
    "__pycache__",
    "*.pyc",
    ".venv",
    "venv",
    "node_modules",
    ".ipynb_checkpoints",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
)
LARGE_SNAPSHOT_BYTES = 300 * 1024 * 1024  # Azure ML's limit; here only a warning


def ignore_patterns(source: Path) -> list[str]:
    """The patterns of ``source/.amlignore``, else of ``source/.gitignore`` (empty if neither)."""
    for name in (".amlignore", ".gitignore"):
        path = source / name
        if path.is_file():
            lines = (line.strip() for line in path.read_text(errors="replace").splitlines())
            return [line for line in lines if line and not line.startswith(("#", "!"))]
    return []


def _matches(rel: str, is_dir: bool, pattern: str) -> bool:
    if pattern.endswith("/"):
        if not is_dir:
            return False
        pattern = pattern.rstrip("/")
    if pattern.startswith("/"):
        return fnmatch.fnmatch(rel, pattern.lstrip("/"))
    if "/" in pattern:
        return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, f"*/{pattern}")
    return fnmatch.fnmatch(rel.rsplit("/", 1)[-1], pattern)


def take_snapshot(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` without the ignored files; return the bytes copied.

    Warns when the snapshot is larger than 300 MB (every run gets a hard-linked copy of it).
    """
    source = source.resolve()
    patterns = [*ALWAYS_IGNORED, *ignore_patterns(source)]

    def ignore(folder: str, names: list[str]) -> set[str]:
        rel_folder = os.path.relpath(folder, source)
        skipped = set()
        for name in names:
            rel = name if rel_folder == "." else f"{rel_folder}/{name}".replace(os.sep, "/")
            is_dir = os.path.isdir(os.path.join(folder, name))
            if any(_matches(rel, is_dir, p) for p in patterns):
                skipped.add(name)
        return skipped

    shutil.copytree(source, target, ignore=ignore, symlinks=True)
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file() and not p.is_symlink())
    if size > LARGE_SNAPSHOT_BYTES:
        warnings.warn(
            f"The source snapshot of {source} is {size / 2**20:.0f} MB; every run gets a copy. Leave data "
            "and checkpoints out with patterns in a .amlignore file there (e.g. data/, *.ckpt).",
            UserWarning,
            stacklevel=3,
        )
    return size
