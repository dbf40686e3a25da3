"""The hypersweep command, run as a user runs it: a real process, a real workspace."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import pid_alive

pytestmark = pytest.mark.integration

TRAIN = """
import argparse, time
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float); p.add_argument("--k"); p.add_argument("--sleep", type=float, default=0)
a = p.parse_args()
run = Run.get_context()
for i in range(3):
    run.log("score", a.x + i)
    time.sleep(a.sleep)
print("x is", a.x)
"""

SWEEP = """
type: sweep
experiment_name: cli-test
trial:
  code: src
  command: python train.py --x ${{search_space.x}} --k ${{search_space.k}} --sleep SLEEP
search_space:
  x: {type: uniform, min_value: 0, max_value: 1}
  k: {type: choice, values: [a, b]}
sampling_algorithm: {type: random, seed: 3}
objective: {primary_metric: score, goal: maximize}
limits: {max_total_trials: TOTAL, max_concurrent_trials: 2}
"""


def hypersweep(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hypersweep", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "160"},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(textwrap.dedent(TRAIN))
    return tmp_path


def write_sweep(project: Path, total: int = 4, sleep: float = 0.0, **replace: str) -> Path:
    text = SWEEP.replace("TOTAL", str(total)).replace("SLEEP", str(sleep))
    for old, new in replace.items():
        text = text.replace(old, new)
    path = project / "sweep.yml"
    path.write_text(text)
    return path


def test_run_then_inspect_the_results(project) -> None:
    write_sweep(project, total=4)
    done = hypersweep("run", "sweep.yml", "--quiet", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "Best run: HD_" in done.stdout and "Completed" in done.stdout

    listing = hypersweep("ls", cwd=project)
    assert listing.returncode == 0 and "cli-test" in listing.stdout and "4/4" in listing.stdout

    shown = hypersweep("show", "latest", cwd=project)
    assert shown.returncode == 0 and shown.stdout.count("Completed") >= 4

    best = hypersweep("best", "latest", "--json", cwd=project)
    assert best.returncode == 0, best.stderr
    data = json.loads(best.stdout)
    x = data["hyperparameters"]["x"]
    assert (
        data["arguments"][:3] == ["python", "train.py", "--x"] and float(data["arguments"][3]) == x
    )
    assert data["metrics"]["score"] == pytest.approx([x, x + 1, x + 2])
    assert data["best_value"] == pytest.approx(x + 2)

    logs = hypersweep("logs", data["run_id"], cwd=project)
    assert logs.returncode == 0 and logs.stdout.strip() == f"x is {x}"
    assert hypersweep("logs", data["run_id"], "--stderr", cwd=project).stdout == ""

    missing = hypersweep("show", "HD_nope", cwd=project)
    assert missing.returncode == 2 and "matches no sweep" in missing.stderr


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (
            {"sampling_algorithm:": "sampling_algoritm:"},
            "sampling_algoritm is not a known key. Did you mean 'sampling_algorithm'?",
        ),
        ({"objective: {primary_metric: score, goal: maximize}": ""}, "objective is required"),
        ({"goal: maximize": "goal: maximise"}, "objective.goal must be 'maximize' or 'minimize'"),
        (
            {"max_total_trials: 4": "max_total_trials: 5000"},
            "limits.max_total_trials must be an integer in [1, 1000]. Got 5000",
        ),
        (
            {"max_concurrent_trials: 2": "max_concurrent_trials: 0.5"},
            "limits.max_concurrent_trials",
        ),
        ({"min_value: 0, max_value: 1": "min_value: 1, max_value: 0"}, "search_space['x']"),
        ({"{type: random, seed: 3}": "grid"}, "GridParameterSampling supports only choice"),
        ({"type: uniform,": "type: uniformm,"}, "search_space['x'].type must be one of"),
        ({"--k ${{search_space.k}}": ""}, "search_space.k is never used in trial.command"),
        ({"code: src": "code: nowhere"}, "trial.code must be an existing folder"),
        ({"early": "early"}, None),
    ],
)
def test_bad_sweep_files_exit_2_with_one_clear_message_and_write_nothing(
    project, replace, message
) -> None:
    if message is None:  # a policy with a typo'd key
        path = write_sweep(project)
        path.write_text(path.read_text() + "early_termination: {type: bandit, slack_factr: 0.1}\n")
        message = "early_termination.slack_factr is not a known key"
    else:
        write_sweep(project, **replace)
    done = hypersweep("run", "sweep.yml", cwd=project)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in " ".join(done.stderr.split()), done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / ".hypersweep").exists()


def _runs(project: Path) -> list[tuple]:
    conn = sqlite3.connect(project / ".hypersweep" / "hypersweep.db")
    try:
        return conn.execute("SELECT id, status, pid FROM runs").fetchall()
    finally:
        conn.close()


def _wait_for_running(project: Path, n: int, timeout: float = 60) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (project / ".hypersweep" / "hypersweep.db").exists():
            try:
                rows = [r for r in _runs(project) if r[1] == "Running" and r[2]]
            except sqlite3.OperationalError:
                rows = []
            if len(rows) >= n:
                return rows
        time.sleep(0.1)
    raise AssertionError("runs did not start")


def _wait_for_logged(project: Path, n: int, timeout: float = 60) -> None:
    """Until ``n`` runs have each logged a value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = sqlite3.connect(project / ".hypersweep" / "hypersweep.db")
        try:
            if conn.execute("SELECT COUNT(DISTINCT run_id) FROM metrics").fetchone()[0] >= n:
                return
        except sqlite3.OperationalError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise AssertionError("runs did not log")


def test_ctrl_c_while_the_sweep_is_being_started_cancels_it(project) -> None:
    write_sweep(project, total=6, sleep=30)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hypersweep", "run", "sweep.yml", "--quiet"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = project / ".hypersweep" / "hypersweep.db"

    def recorded() -> bool:
        if not db.exists():
            return False
        conn = sqlite3.connect(db)
        try:
            return conn.execute("SELECT COUNT(*) FROM sweeps").fetchone()[0] > 0
        except sqlite3.OperationalError:
            return False
        finally:
            conn.close()

    deadline = time.monotonic() + 60
    while not recorded():
        assert time.monotonic() < deadline, "the sweep was not recorded"
        time.sleep(0.002)
    proc.send_signal(
        signal.SIGINT
    )  # the sweep is being set up: its thread may start before the command waits on it
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "canceled" in err and "Traceback" not in err
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT status FROM sweeps").fetchone()[0] == "Canceled"
    assert {s for (s,) in conn.execute("SELECT status FROM runs")} <= {"Canceled"}
    conn.close()


def test_ctrl_c_cancels_cleanly_without_orphans(project) -> None:
    write_sweep(project, total=6, sleep=30)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hypersweep", "run", "sweep.yml", "--quiet"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    running = _wait_for_running(project, 2)
    _wait_for_logged(project, 2)  # "Running" is the process started; what it logs comes later
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()  # a driver that missed its Ctrl-C must not outlive the test
    assert proc.returncode == 130, err
    assert "canceled" in err
    rows = _runs(project)
    assert {status for _, status, _ in rows} == {"Canceled"}
    time.sleep(0.2)
    assert not any(pid_alive(pid) for _, _, pid in running)
    conn = sqlite3.connect(project / ".hypersweep" / "hypersweep.db")
    assert conn.execute("SELECT status FROM sweeps").fetchone()[0] == "Canceled"
    assert (
        conn.execute("SELECT COUNT(*) FROM metrics").fetchone()[0] >= 2
    )  # what was logged is kept
    conn.close()


def test_cancel_from_another_process(project) -> None:
    write_sweep(project, total=6, sleep=30)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hypersweep", "run", "sweep.yml", "--quiet"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    running = _wait_for_running(project, 2)
    done = hypersweep("cancel", "latest", cwd=project)
    assert done.returncode == 0 and "Cancel requested" in done.stdout
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "Canceled" in err
    assert {status for _, status, _ in _runs(project)} == {"Canceled"}
    assert not any(pid_alive(pid) for _, _, pid in running)
    again = hypersweep("cancel", "latest", cwd=project)
    assert "already ended" in again.stdout


def test_help_teaches() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hypersweep", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    for word in ("run", "ls", "show", "best", "cancel", "logs", "examples/digits/sweep.yml"):
        assert word in done.stdout


@pytest.mark.parametrize(
    "args",
    [["ls"], ["show", "latest"], ["best", "latest"], ["logs", "HD_x_1"], ["cancel", "latest"]],
)
def test_reading_an_empty_folder_explains_and_creates_nothing(tmp_path, args) -> None:
    done = hypersweep(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert "not a hypersweep workspace yet" in " ".join(done.stderr.split())
    assert not (tmp_path / ".hypersweep").exists()


def test_logs_follow_and_wait_with_output_print_everything_until_the_run_ends(
    project, capsys
) -> None:
    from hypersweep import Workspace

    write_sweep(project, total=1, sleep=0.5)  # three lines of metrics over 1.5 s, then "x is ..."
    proc = subprocess.Popen(
        [sys.executable, "-m", "hypersweep", "run", "sweep.yml", "--quiet"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ((run_id, _, _),) = _wait_for_running(project, 1)
    followed = hypersweep("logs", run_id, "--follow", cwd=project)
    child = Workspace(project).get_run(run_id)
    details = child.wait_for_completion(show_output=True)
    proc.wait(timeout=60)
    assert followed.returncode == 0 and followed.stdout.startswith(
        "x is "
    )  # written after --follow began
    assert details["status"] == "Completed"
    assert capsys.readouterr().out == child.get_logs()


MARKUP_TRAIN = r"""
import argparse, sys
from hypersweep import Run
VALUES = ["[/mnt/data]", "[bold]b", "[link=https://example.com]l", "\x1b[31mred", "a\rb"]
p = argparse.ArgumentParser()
p.add_argument("--d")
a = p.parse_args()
run = Run.get_context()
run.tag("where", a.d)
run.log("acc[/x]", float(VALUES.index(a.d)))
run.log(a.d, 2.0)
if a.d.startswith("[link"):
    sys.exit("failed on [bold]" + a.d + "[/mnt/data] \x1b[2J")
"""

MARKUP_SWEEP = r"""
type: sweep
experiment_name: markup
tags: {note: "[/mnt/data] \e[31m"}
trial: {code: src, command: "python train.py --d ${{search_space.d}}"}
search_space: {d: {type: choice, values: ["[/mnt/data]", "[bold]b", "[link=https://example.com]l", "\e[31mred", "a\rb"]}}
sampling_algorithm: grid
objective: {primary_metric: "acc[/x]", goal: maximize}
limits: {max_total_trials: 5, max_concurrent_trials: 2}
"""


def _printed_literally(done: subprocess.CompletedProcess[str], *texts: str) -> None:
    assert done.returncode == 0, done.stderr
    out = done.stdout + done.stderr
    assert "Traceback" not in out and "MarkupError" not in out
    assert "\x1b" not in out and "\r" not in out  # user controls are shown escaped, never sent raw
    flat = "".join(out.split())
    for text in texts:
        assert "".join(text.split()) in flat, (text, out)


def test_markup_and_control_characters_in_user_strings_print_literally(project) -> None:
    (project / "src" / "train.py").write_text(MARKUP_TRAIN)
    (project / "sweep.yml").write_text(MARKUP_SWEEP)
    done = hypersweep("run", "sweep.yml", "--quiet", cwd=project)
    _printed_literally(
        done,
        "[/mnt/data]",
        "[bold]b",
        "[link=https://example.com]l",
        "\\x1b[31mred",
        "a\\x0db",
        "acc[/x]",
    )
    _printed_literally(
        hypersweep("show", "latest", cwd=project),
        "[/mnt/data]",
        "\\x1b[31mred",
        "a\\x0db",
        "acc[/x]",
    )
    # the best value (4) follows the runs (5/5); the metric's name has a column of its own
    _printed_literally(hypersweep("ls", cwd=project), "5/5 4", "acc[/x] (maximize)")
    best = hypersweep("best", "latest", cwd=project)
    _printed_literally(best, "acc[/x]: 4", "--d a\\x0db", "a\\x0db")
    conn = sqlite3.connect(project / ".hypersweep" / "hypersweep.db")
    failed = conn.execute("SELECT id FROM runs WHERE status = 'Failed'").fetchone()[0]
    conn.close()
    _printed_literally(
        hypersweep("logs", failed, cwd=project), "Failed: The training script exited with code 1."
    )


def _fails_with_markup(cfg: dict[str, Any]) -> None:
    raise ValueError("bad [/mnt/data] [bold]x[link=https://example.com] \x1b[31m\rend")


def test_markup_in_a_callable_error_prints_literally_in_logs(project) -> None:
    from hypersweep import Experiment, HyperDriveConfig, RandomParameterSampling, Workspace, choice

    config = HyperDriveConfig(
        run_config=_fails_with_markup,
        max_total_runs=1,
        primary_metric_name="[/m]",
        primary_metric_goal="maximize",
        hyperparameter_sampling=RandomParameterSampling({"x": choice("[/mnt/data]")}),
    )
    sweep = Experiment(Workspace(project), "callable").submit(config)
    sweep.wait_for_completion(raise_on_error=False)
    (child,) = sweep.get_children()
    _printed_literally(
        hypersweep("logs", child.id, cwd=project),
        "Failed:",
        "bad [/mnt/data] [bold]x[link=https://example.com] \\x1b[31m\\x0dend",
    )
    _printed_literally(hypersweep("show", "latest", cwd=project), "[/mnt/data]", "bad [/mnt/data]")


NONFINITE_TRAIN = """
from hypersweep import Run
run = Run.get_context()
run.log("score", 0.5)
run.log("score", float("inf"))
run.log("other", float("nan"))
run.log("neg", float("-inf"))
"""


def test_best_json_is_strict_json_with_non_finite_values_noted(project) -> None:
    (project / "src" / "train.py").write_text(textwrap.dedent(NONFINITE_TRAIN))
    write_sweep(project, total=1)
    done = hypersweep("run", "sweep.yml", "--quiet", cwd=project)
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(project / ".hypersweep" / "hypersweep.db")
    with (
        conn
    ):  # a hyperparameter that is not finite, as a sweep stored by an older version may hold
        conn.execute("""UPDATE runs SET hyperparameters = '{"x": Infinity, "k": NaN}'""")
    conn.close()
    best = hypersweep("best", "latest", "--json", cwd=project)
    assert best.returncode == 0, best.stderr

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    data = json.loads(best.stdout, parse_constant=refuse)
    assert data["hyperparameters"] == {"x": None, "k": None}
    assert (
        data["non_finite"]["/hyperparameters/x"] == "inf"
        and data["non_finite"]["/hyperparameters/k"] == "nan"
    )
    for pointer, kind in data["non_finite"].items():
        node: Any = data
        for part in pointer.split("/")[1:]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert node is None and kind in ("inf", "-inf", "nan")
    assert "inf" in data["non_finite"].values() and "-inf" in data["non_finite"].values()


# -- what the terminal shows: piped output, JSON, 80 columns, interrupted sweeps, logs, errors ------------------

LONG_NOTE = "a reason much longer than any terminal is wide, " * 4 + "THE END"

FAILING_TRAIN = """
import argparse, sys
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float); p.add_argument("--k"); p.add_argument("--sleep", type=float, default=0)
a = p.parse_args()
Run.get_context().log("score", a.x)
if a.k == "b":
    sys.exit("NOTE")
"""


def piped(*args: str, cwd: Path, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """``hypersweep ARGS | cat``: stdout is a pipe, in a "terminal" of ``columns`` columns."""
    return subprocess.run(
        [sys.executable, "-m", "hypersweep", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": str(columns)},
    )


def in_terminal(*args: str, cwd: Path, columns: int = 80, answer: str | None = None) -> str:
    """The output of ``hypersweep ARGS`` in a pseudo-terminal ``columns`` wide (ANSI sequences removed)."""
    import fcntl
    import pty
    import re
    import select
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hypersweep", *args],
        cwd=cwd,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**env, "TERM": "xterm-256color"},
        close_fds=True,
    )
    os.close(follower)
    if answer is not None:
        os.write(leader, answer.encode())
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if not select.select([leader], [], [], 1.0)[0]:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other side closed: the command has ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    if proc.poll() is None:
        proc.kill()  # a command still waiting after two minutes fails the test below
    proc.wait(timeout=60)
    os.close(leader)
    text = b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", text)


def _sweep_ids(project: Path) -> list[str]:
    conn = sqlite3.connect(project / ".hypersweep" / "hypersweep.db")
    try:
        return [i for (i,) in conn.execute("SELECT id FROM sweeps ORDER BY created")]
    finally:
        conn.close()


def write_failing_sweep(project: Path) -> None:
    """A sweep of 4 runs whose runs with k=b fail with a long message (``LONG_NOTE``)."""
    (project / "src" / "train.py").write_text(
        textwrap.dedent(FAILING_TRAIN).replace("NOTE", LONG_NOTE)
    )
    write_sweep(project, total=4)


@pytest.fixture
def finished(project: Path) -> Path:
    """A workspace with one finished sweep of 4 runs; the runs with k=b failed with a long message."""
    write_failing_sweep(project)
    done = hypersweep("run", "sweep.yml", "--quiet", cwd=project)
    assert done.returncode in (0, 1), done.stderr
    return project


def test_piped_tables_are_printed_whole(finished) -> None:
    (sweep_id,) = _sweep_ids(finished)
    listing = piped("ls", cwd=finished)
    assert listing.returncode == 0, listing.stderr
    assert sweep_id in listing.stdout and "…" not in listing.stdout  # the full id, to copy or grep
    line = next(line for line in listing.stdout.splitlines() if sweep_id in line)
    for cell in ("cli-test", "4/4", "score (maximize)", time.strftime("%Y-%m-%d")):  # every column
        assert cell in line
    shown = piped("show", sweep_id, cwd=finished)
    assert shown.returncode == 0, shown.stderr
    assert "…" not in shown.stdout and LONG_NOTE in shown.stdout  # the note is not cut, nor folded
    assert max(len(line) for line in shown.stdout.splitlines()) > 80
    assert [line for line in shown.stdout.splitlines() if LONG_NOTE in line][0].count(
        LONG_NOTE
    ) == 1


def test_run_piped_ends_with_its_table_whole(project: Path) -> None:
    """Without --quiet, the table that follows the live progress is printed whole too."""
    write_failing_sweep(project)
    done = piped("run", "sweep.yml", cwd=project)
    assert done.returncode in (0, 1), done.stderr
    (sweep_id,) = _sweep_ids(project)
    table = done.stdout[done.stdout.index(f"{sweep_id} · score") :]
    assert "…" not in table and LONG_NOTE in table  # no column squeezed, the note not cut
    assert max(len(line) for line in table.splitlines()) > 80


def test_ls_and_show_json_are_strict_and_whole(finished) -> None:
    (sweep_id,) = _sweep_ids(finished)

    def strict(text: str) -> Any:
        return json.loads(text, parse_constant=lambda name: pytest.fail(f"not strict JSON: {name}"))

    listing = piped("ls", "--json", cwd=finished)
    assert listing.returncode == 0, listing.stderr
    data = strict(listing.stdout)
    (sweep,) = data["sweeps"]
    assert (
        sweep["id"] == sweep_id
        and sweep["runs_finished"] == 4
        and sweep["primary_metric"] == "score"
    )
    assert sweep["status"] in ("Completed", "Failed") and data["single_runs"] == []
    shown = piped("show", sweep_id, "--json", cwd=finished)
    assert shown.returncode == 0, shown.stderr
    detail = strict(shown.stdout)
    assert detail["sweep"]["id"] == sweep_id and len(detail["runs"]) == 4
    assert {r["id"] for r in detail["runs"]} == {f"{sweep_id}_{n}" for n in range(4)}
    failed = [r for r in detail["runs"] if r["status"] == "Failed"]
    assert failed and all(LONG_NOTE in r["error"] for r in failed)
    top = strict(piped("show", sweep_id, "--json", "--top", "1", cwd=finished).stdout)
    assert len(top["runs"]) == 1 and top["runs"][0]["best_value"] == max(
        r["best_value"] for r in detail["runs"]
    )
    run = strict(piped("show", f"{sweep_id}_0", "--json", cwd=finished).stdout)
    assert run["run"]["runId"] == f"{sweep_id}_0" and "score" in run["metrics"]


def test_ls_in_an_80_column_terminal_keeps_the_full_id_and_the_best_value(finished) -> None:
    (sweep_id,) = _sweep_ids(finished)
    best = max(
        json.loads(piped("show", sweep_id, "--json", cwd=finished).stdout)["runs"],
        key=lambda r: r["best_value"],
    )["best_value"]
    out = in_terminal("ls", cwd=finished, columns=80)
    line = next((line for line in out.splitlines() if sweep_id in line), None)
    assert line is not None, out
    assert len(line.rstrip()) <= 80 and f"{best:.6g}" in line and "4/4" in line, out


def test_a_sweep_whose_driver_was_killed_shows_as_interrupted_with_the_resume_command(
    project,
) -> None:
    write_sweep(project, total=4, sleep=30)
    driver = subprocess.Popen(
        [sys.executable, "-m", "hypersweep", "run", "sweep.yml", "--quiet"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        running = _wait_for_running(project, 2)
        (sweep_id,) = _sweep_ids(project)
        alive = piped("ls", cwd=project)
        assert (
            "Running" in alive.stdout
            and "Interrupted" not in alive.stdout
            and "resume" not in alive.stdout
        )
        busy = hypersweep("resume", sweep_id, cwd=project)  # driven: resume refuses, non-zero
        assert (
            busy.returncode == 2
            and "still being driven" in busy.stderr
            and "Traceback" not in busy.stderr
        )
    finally:
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=60)
    deadline = time.monotonic() + 60  # trials die with their driver
    while any(pid_alive(pid) for _, _, pid in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    command = f"hypersweep resume {sweep_id}"
    listing = piped("ls", cwd=project)
    assert listing.returncode == 0, listing.stderr
    row = next(line for line in listing.stdout.splitlines() if line.split()[:1] == [sweep_id])
    assert "Interrupted" in row and command in listing.stdout, listing.stdout
    shown = piped("show", sweep_id, cwd=project)
    assert "Interrupted" in shown.stdout and command in shown.stdout
    (record,) = json.loads(piped("ls", "--json", cwd=project).stdout)["sweeps"]
    assert record["status"] == "Interrupted" and record["recorded_status"] == "Running"
    assert record["resume_command"] == command
    elsewhere = piped(
        "ls", "--workspace", str(project), cwd=project.parent
    )  # the command names the folder
    assert f"{command} --workspace {project.resolve()}" in " ".join(elsewhere.stdout.split())


def test_logs_of_a_sweep_lists_its_runs_or_prints_them_all(finished) -> None:
    (sweep_id,) = _sweep_ids(finished)
    asked = piped("logs", sweep_id, cwd=finished)
    assert asked.returncode == 2 and "Traceback" not in asked.stderr
    flat = " ".join(asked.stderr.split())
    assert all(f"{sweep_id}_{n}" in flat for n in range(4)) and "--all" in flat
    every = piped("logs", "latest", "--all", cwd=finished)
    assert every.returncode == 0, every.stderr
    assert [line.split()[1] for line in every.stdout.splitlines() if line.startswith("==> ")] == [
        f"{sweep_id}_{n}" for n in range(4)
    ]
    chosen = in_terminal("logs", sweep_id[:12], cwd=finished, answer="2\n")  # asked in a terminal
    assert "which one" in chosen and f"{sweep_id}_2" in chosen
    one = piped("logs", f"{sweep_id}_2", cwd=finished)
    assert one.returncode == 0
    following = piped("logs", sweep_id, "--all", "--follow", cwd=finished)
    assert following.returncode == 2 and "--follow follows one run" in following.stderr


def test_an_ambiguous_prefix_says_what_it_matches(finished) -> None:
    assert hypersweep("run", "sweep.yml", "--quiet", cwd=finished).returncode in (0, 1)
    first, second = _sweep_ids(finished)
    both = piped("logs", "HD_", cwd=finished)
    flat = " ".join(both.stderr.split())
    assert both.returncode == 2 and "ambiguous" in flat and first in flat and second in flat
    runs = piped("logs", f"{first}_", cwd=finished)
    flat = " ".join(runs.stderr.split())
    assert (
        runs.returncode == 2
        and "matches 4 runs" in flat
        and all(f"{first}_{n}" in flat for n in range(4))
    )
    for args in (["show", "HD_"], ["show", f"{first}_"]):  # show says so too
        done = piped(*args, cwd=finished)
        assert done.returncode == 2 and "ambiguous" in done.stderr and first in done.stderr, (
            done.stderr
        )
    nothing = piped("logs", "HD_nope", cwd=finished)
    assert nothing.returncode == 2 and "matches no run and no sweep" in nothing.stderr


def test_a_reader_that_leaves_early_gets_no_error_message(finished) -> None:
    """``hypersweep show latest | head -0``: writing to a closed pipe ends the command quietly."""
    for args in (["ls"], ["show", "latest"], ["show", "latest", "--json"]):
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "hypersweep", *args],
                cwd=finished,
                stdout=write_end,
                stderr=subprocess.PIPE,
                text=True,
                timeout=120,
            )
        finally:
            os.close(write_end)
        assert done.returncode != 0, args
        assert "Error" not in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)


def test_every_error_exits_non_zero_with_its_reason(finished, tmp_path_factory) -> None:
    import socket

    (sweep_id,) = _sweep_ids(finished)
    empty = tmp_path_factory.mktemp("empty")
    not_a_folder = tmp_path_factory.mktemp("plain") / "a_file"
    not_a_folder.write_text("")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = str(taken.getsockname()[1])
    cases = [
        (["show", "HD_nope"], 2, "matches no sweep"),
        (["show", "latest", "--top", "0"], 2, "--top"),
        (["best", "HD_nope"], 2, "matches no sweep"),
        (["cancel", "HD_nope"], 2, "matches no sweep"),
        (["logs", "HD_nope"], 2, "matches no run"),
        (["resume", sweep_id], 2, "already ended"),
        (["report", "HD_nope", "--html", "r.html"], 2, "matches no sweep"),
        (["report", sweep_id, "--html", str(not_a_folder / "r.html")], 1, "cannot use"),
        (["ls", "--workspace", str(empty)], 2, "not a hypersweep workspace"),
        (["run", "missing.yml"], 2, "does not exist"),
        (["nope"], 2, "No such command"),
        (["ui", "--workspace", str(empty), "--port", "0"], 2, "not a hypersweep workspace"),
        (["ui", "--port", port], 1, f"Cannot listen on 127.0.0.1:{port}"),
    ]
    try:
        for args, code, reason in cases:
            done = piped(*args, cwd=finished)
            assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
            assert reason in " ".join(done.stderr.split()), (args, done.stderr)
            assert "Traceback" not in done.stderr, args
    finally:
        taken.close()
    assert not (empty / ".hypersweep").exists()
