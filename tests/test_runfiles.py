"""A run's files through the results API and the CLI: names are checked, links out of the run are
neither listed nor served, and the tail of a log is read from its end."""

from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    choice,
)
from hypersweep._runfiles import FileChunks, check_name, list_files, open_file, tail_bytes
from hypersweep.errors import InvalidConfigError, NotFoundError

TRAIN = """
import os
from hypersweep import Run
Run.get_context().log("acc", 0.5)
print("hello from the run")
os.makedirs("outputs/sub", exist_ok=True)
open("outputs/model.txt", "w").write("weights")
open("outputs/sub/deep.txt", "w").write("deep")
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, str, Path]:
    """A workspace with one finished script run: (workspace, run id, run folder)."""
    root = tmp_path_factory.mktemp("runfiles")
    src = root / "src"
    src.mkdir()
    (src / "train.py").write_text(textwrap.dedent(TRAIN))
    ws = Workspace(root / "ws")
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="train.py"),
        hyperparameter_sampling=RandomParameterSampling({"--unused": choice(1)}),
        primary_metric_name="acc",
        primary_metric_goal="maximize",
        max_total_runs=1,
    )
    sweep = Experiment(ws, "files").submit(config)
    sweep.wait_for_completion()
    run = sweep.get_children()[0]
    return ws, run.id, Path(ws.store.run(run.id)["run_dir"])


@pytest.fixture
def linked(finished: tuple[Workspace, str, Path], tmp_path: Path) -> tuple[Workspace, str, Path]:
    """The finished run with its logs replaced by links out of the run, and links in its outputs;
    everything is put back afterwards."""
    ws, run_id, run_dir = finished
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:secret\n")
    logs, outputs = run_dir / "logs", run_dir / "outputs"
    saved = {s: (logs / f"{s}.txt").read_bytes() for s in ("stdout", "stderr")}
    for s, target in (("stdout", secret), ("stderr", Path("/proc/self/environ"))):
        (logs / f"{s}.txt").unlink()
        (logs / f"{s}.txt").symlink_to(target)
    made = {
        outputs / "leak.txt": secret,  # a file outside
        outputs / "etc": Path("/etc"),  # a folder outside
        outputs / "up.txt": Path("../../../secret.txt"),  # relative, climbing out
        outputs / "alias.txt": Path("model.txt"),  # inside: fine
        outputs / "loop": Path("loop"),  # a link to itself
    }
    for link, target in made.items():
        link.symlink_to(target)
    yield ws, run_id, run_dir
    for link in made:
        link.unlink()
    for s, data in saved.items():
        (logs / f"{s}.txt").unlink()
        (logs / f"{s}.txt").write_bytes(data)


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("outputs/\x00", "NUL"),
        ("outputs/" + "a" * 256, "255 bytes"),
        ("outputs/" + "é" * 128, "255 bytes"),  # 256 bytes in UTF-8
        ("/etc/passwd", "relative"),
        ("outputs/../../x", "'..'"),
        ("..", "'..'"),
        ("outputs/" + "a/" * 3000, "4096 bytes"),
        (7, "a string"),
    ],
)
def test_malformed_names_are_refused_naming_the_rule(name, rule) -> None:
    with pytest.raises(InvalidConfigError, match="'name' parameter") as info:
        check_name(name)
    assert rule in str(info.value)


def test_names_are_normalised() -> None:
    assert check_name("outputs//./model.txt") == "outputs/model.txt"
    assert check_name("outputs/" + "a" * 255) == "outputs/" + "a" * 255


def test_links_out_of_the_run_are_neither_listed_nor_served(linked) -> None:
    ws, run_id, run_dir = linked
    run = ws.get_run(run_id)
    names = run.get_file_names()
    assert (
        "outputs/model.txt" in names
        and "outputs/sub/deep.txt" in names
        and "outputs/alias.txt" in names
    )
    assert not {
        "outputs/leak.txt",
        "outputs/up.txt",
        "outputs/loop",
        "logs/stdout.txt",
        "logs/stderr.txt",
    } & set(names)
    assert not any(n.startswith("outputs/etc") for n in names)
    for name in (
        "outputs/leak.txt",
        "outputs/up.txt",
        "outputs/etc/passwd",
        "logs/stdout.txt",
        "outputs/loop",
    ):
        with pytest.raises(NotFoundError):
            run.download_file(name, output_file_path=str(run_dir.parent / "out"))
    assert run.get_logs() == "" and run.get_logs(tail=5) == "" and run.get_logs("stderr") == ""
    with pytest.raises(NotFoundError, match="NUL"):
        run.download_file("outputs/\x00")
    assert run.get_details()["logFiles"] == {}
    target = run.download_file(
        "outputs/alias.txt", output_file_path=str(run_dir.parent / "alias-copy")
    )
    assert Path(target).read_text() == "weights"
    written = run.download_files(prefix="outputs/", output_directory=str(run_dir.parent / "all"))
    assert sorted(Path(p).name for p in written) == ["alias.txt", "deep.txt", "model.txt"]


def test_the_cli_prints_no_log_that_links_out_of_the_run(linked) -> None:
    ws, run_id, _ = linked
    for extra in ([], ["--tail", "3"], ["--stderr"]):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "hypersweep",
                "logs",
                run_id,
                *extra,
                "--workspace",
                str(ws.path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "root:" not in done.stdout and "PATH=" not in done.stdout and done.stdout == ""


def test_an_outputs_folder_replaced_by_a_link_out_of_the_run_is_not_opened(
    finished, tmp_path
) -> None:
    _, run_id, run_dir = finished
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "model.txt").write_text("not the run's")
    real = run_dir / "outputs"
    with open_file(run_dir, "outputs/model.txt", run_id) as f:
        assert f.read() == b"weights"
    moved = run_dir / "outputs-moved"
    real.rename(moved)
    try:
        real.symlink_to(tmp_path / "elsewhere")
        with pytest.raises(NotFoundError):
            open_file(run_dir, "outputs/model.txt", run_id)
        assert list_files(run_dir) == [
            (n, s) for n, s in list_files(run_dir) if n.startswith("logs/")
        ]
    finally:
        real.unlink()
        moved.rename(real)


def test_a_run_folder_that_is_itself_a_link_has_no_files(finished, tmp_path) -> None:
    _, run_id, run_dir = finished
    link = tmp_path / "run-link"
    link.symlink_to(run_dir)
    assert list_files(link) == []
    with pytest.raises(NotFoundError):
        open_file(link, "outputs/model.txt", run_id)
    assert [n for n, _ in list_files(run_dir)][-1] == "outputs/sub/deep.txt"


# -- the tail of a log, read from the end ---------------------------------------------------------


def reference_tail(data: bytes, n: int) -> bytes:
    """The last ``n`` lines of ``data`` (split on newlines only), read the slow way."""
    if n == 0 or not data:
        return b""
    parts = data.split(b"\n")
    suffix = b""
    if data.endswith(b"\n"):
        parts, suffix = parts[:-1], b"\n"
    return b"\n".join(parts[-n:]) + suffix


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.text(alphabet="ab\r\x00é", max_size=40), max_size=30),
    trailing=st.booleans(),
    n=st.integers(0, 35),
    block=st.integers(1, 64),
)
def test_the_tail_is_the_last_lines_whatever_the_block(lines, trailing, n, block) -> None:
    data = "\n".join(lines).encode() + (b"\n" if trailing else b"")
    assert tail_bytes(io.BytesIO(data), n, block=block) == reference_tail(data, n)


def test_a_tail_with_lines_longer_than_the_block_and_no_final_newline() -> None:
    long_line = b"x" * 200_000
    data = b"first\n" + long_line + b"\n" + long_line + b"y\nlast without newline"
    assert tail_bytes(io.BytesIO(data), 1) == b"last without newline"
    assert tail_bytes(io.BytesIO(data), 2) == long_line + b"y\nlast without newline"
    assert tail_bytes(io.BytesIO(data), 9) == data
    assert (
        tail_bytes(io.BytesIO(data), 2, limit=1000)
        == (long_line + b"y\nlast without newline")[-1000:]
    )


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300), total=st.integers(0, 400), size=st.integers(1, 64))
def test_file_chunks_serve_the_first_bytes_then_close_the_file(data, total, size) -> None:
    f = io.BytesIO(data)
    f.seek(len(data))  # wherever the file was left, serving starts at its beginning
    chunks = list(FileChunks(f, total, size))
    assert b"".join(chunks) == data[:total]
    assert all(0 < len(c) <= size for c in chunks)
    assert f.closed


def test_file_chunks_never_read_still_close_their_file(tmp_path) -> None:
    # a response the client left before its first chunk: freeing it closes the descriptor,
    # which the collector would otherwise report as leaked
    (tmp_path / "model.bin").write_bytes(b"x" * 1000)
    f = open(tmp_path / "model.bin", "rb")  # noqa: SIM115 - closing it is what is tested
    chunks = FileChunks(f, 1000)
    cycle = [chunks]
    cycle.append(cycle)  # as a cancelled response's frames hold it: freed by the collector only
    del chunks, cycle
    gc.collect()
    assert f.closed
    f = open(tmp_path / "model.bin", "rb")  # noqa: SIM115
    chunks = FileChunks(f, 1000, size=10)
    assert next(chunks) == b"x" * 10
    chunks.close()
    assert f.closed and list(chunks) == []


PROBE = """
import json, sys, tracemalloc
from hypersweep import Workspace
from hypersweep.cli import main
run = Workspace(sys.argv[1]).get_run(sys.argv[2])
run.get_logs(tail=1)  # warm up: imports, the database
tracemalloc.start()
text = run.get_logs(tail=20)
api_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.reset_peak()
try:
    main(["logs", sys.argv[2], "--tail", "20", "--workspace", sys.argv[1]], standalone_mode=False)
finally:
    cli_peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"api": api_peak, "cli": cli_peak, "text": text}), file=sys.stderr)
"""


def test_tail_of_a_200_mb_log_reads_from_the_end(finished) -> None:
    ws, run_id, run_dir = finished
    log = run_dir / "logs" / "stdout.txt"
    saved = log.read_bytes()
    line = b"%08d " + b"z" * 90 + b"\n"
    try:
        with open(log, "wb") as f:
            f.truncate(150 * 2**20)  # a sparse 150 MB start: no newline in it
            f.seek(0, os.SEEK_END)
            block = b"".join(line % i for i in range(10_000))  # ~1 MB
            for _ in range(50):
                f.write(block)
            f.write(b"the very last line, with no newline")
        assert log.stat().st_size > 200_000_000
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(ws.path), run_id],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        probe = json.loads(done.stderr.strip().splitlines()[-1])
        expected = [(line % i).decode().rstrip("\n") for i in range(9_981, 10_000)] + [
            "the very last line, with no newline"
        ]
        assert probe["text"].split("\n") == expected
        assert done.stdout.splitlines() == expected
        assert probe["api"] < 10 * 2**20 and probe["cli"] < 10 * 2**20, probe
    finally:
        log.write_bytes(saved)
