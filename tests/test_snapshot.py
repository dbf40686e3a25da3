"""What of a source folder goes into a sweep's snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypersweep.snapshot import take_snapshot


def make_tree(root: Path, files: list[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


FILES = [
    "train.py",
    "lib/util.py",
    "data/big.csv",
    "lib/data/keep.txt",
    "model.ckpt",
    "runs/a/model.ckpt",
    "build/out.txt",
    "lib/build/keep.txt",
    "logs/x.txt",
    "logs/keep.log",
    ".git/HEAD",
    "lib/__pycache__/u.pyc",
    ".hypersweep/hypersweep.db",
]


def copied(target: Path) -> set[str]:
    return {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}


@pytest.mark.parametrize("ignore_file", [".amlignore", ".gitignore"])
def test_ignore_files_leave_data_and_checkpoints_out(tmp_path, ignore_file) -> None:
    src = tmp_path / "src"
    make_tree(src, FILES)
    (src / ignore_file).write_text(
        "# data stays out\n/data/\n*.ckpt\n/build\nlogs/*.txt\n!model.ckpt\n"
    )
    take_snapshot(src, tmp_path / "snap")
    assert copied(tmp_path / "snap") == {
        "train.py",
        "lib/util.py",
        "lib/data/keep.txt",
        "lib/build/keep.txt",
        "logs/keep.log",
        ignore_file,
    }


def test_amlignore_wins_over_gitignore_and_caches_always_stay_out(tmp_path) -> None:
    src = tmp_path / "src"
    make_tree(src, FILES)
    (src / ".amlignore").write_text("data/\n")
    (src / ".gitignore").write_text("*.py\n")
    take_snapshot(src, tmp_path / "snap")
    got = copied(tmp_path / "snap")
    assert "train.py" in got and "data/big.csv" not in got and "lib/data/keep.txt" not in got
    assert not any(p.startswith((".git/", ".hypersweep/")) or "__pycache__" in p for p in got)


def test_a_large_snapshot_warns(tmp_path, monkeypatch) -> None:
    import hypersweep.snapshot as snapshot

    monkeypatch.setattr(snapshot, "LARGE_SNAPSHOT_BYTES", 10)
    src = tmp_path / "src"
    make_tree(src, ["train.py", "data.bin"])
    with pytest.warns(UserWarning, match=r"\.amlignore"):
        take_snapshot(src, tmp_path / "snap")
