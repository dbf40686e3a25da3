"""The workspace database: versioning, values, and heavy concurrent use."""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    SchemaVersionError,
    ScriptRunConfig,
    Workspace,
    WorkspaceError,
    choice,
)
from hypersweep.status import RunStatus
from hypersweep.store import (
    SCHEMA_VERSION,
    Batch,
    MetricRecord,
    NewRun,
    Store,
    decode_value,
    encode_value,
)


@pytest.mark.parametrize(
    "value", [1.5, 0, -3, float("inf"), "text", {"a": [1, 2]}, [1, None], True]
)
def test_values_round_trip(value) -> None:
    assert decode_value(*encode_value(value)) == value


def test_nan_is_kept_as_nan() -> None:
    assert math.isnan(decode_value(*encode_value(float("nan"))))


def test_a_newer_schema_is_refused_clearly(tmp_path) -> None:
    Store(tmp_path / "db.sqlite")
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    conn.execute(
        "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
    )
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError, match="newer hypersweep"):
        Store(tmp_path / "db.sqlite")


def test_a_file_that_is_not_a_database_is_refused(tmp_path) -> None:
    (tmp_path / "db.sqlite").write_text("not a database " * 100)
    with pytest.raises(WorkspaceError, match="not a usable hypersweep database"):
        Store(tmp_path / "db.sqlite")


READER = """
import sqlite3, sys, time
path = sys.argv[1]
deadline = time.time() + 120
reads = 0
while time.time() < deadline:
    try:
        conn = sqlite3.connect(path, timeout=30)
        status = conn.execute("SELECT status FROM sweeps").fetchone()
        conn.execute("SELECT run_id, COUNT(*) FROM metrics GROUP BY run_id").fetchall()
        conn.close()
    except sqlite3.OperationalError as exc:
        print("ERROR", exc, flush=True)
        sys.exit(1)
    reads += 1
    if status and status[0] in ("Completed", "Failed", "Canceled"):
        break
    time.sleep(0.005)
print("READS", reads, flush=True)
"""


@pytest.mark.integration
@pytest.mark.slow
def test_fifty_concurrent_trials_logging_every_10ms_lose_nothing(workspace, script_dir) -> None:
    n_values = 100
    src = script_dir(
        "spam.py",
        f"""
        import sys, time
        from hypersweep import Run
        run = Run.get_context()
        start = time.monotonic()
        for i in range({n_values}):
            run.log("value", i)
            time.sleep(max(0.0, start + (i + 1) * 0.01 - time.monotonic()))
        """,
    )
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="spam.py"),
        hyperparameter_sampling=RandomParameterSampling({"k": choice(*range(50))}),
        primary_metric_name="value",
        primary_metric_goal="maximize",
        max_total_runs=50,
        max_concurrent_runs=50,
    )
    run = Experiment(workspace, "stress").submit(config)
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(READER), str(workspace.store.path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    run.wait_for_completion()
    out, _ = reader.communicate(timeout=60)
    assert reader.returncode == 0, out
    assert "READS" in out and int(out.split()[-1]) > 10
    metrics = Workspace(workspace.path).get_run(run.id).get_metrics()
    assert len(metrics) == 50
    for child_id, child_metrics in metrics.items():
        assert child_metrics["value"] == list(range(n_values)), child_id
    assert all(c.get_status() == "Completed" for c in run.get_children())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2**70, float(2**70)),
        (2**1100, math.inf),
        (-(2**1100), -math.inf),
        ("a\udcffb", "a\\xffb"),
        ({"k\udcff": [2**1100, b"\xff"]}, {"k\\xff": [math.inf, "\\xff"]}),
    ],
)
def test_values_sqlite_cannot_bind_are_converted(tmp_path, value, expected) -> None:
    store = Store(tmp_path / "db.sqlite")
    store.apply(Batch(metrics=[MetricRecord("r", "m\udcff", 1, "scalar", value, float("nan"))]))
    store.apply(
        Batch(
            metrics=[MetricRecord("r", "ok", 1, "scalar", 1.0, 1.0)],
            tags={"r": {"file\udcff": "data_\udcff.csv", "n": 2**1100}},  # type: ignore[dict-item]
        )
    )
    rows = {r.name: r.value for r in store.metrics("r")}
    assert rows == {"m\\xff": expected, "ok": 1.0}
    assert store.tags("r") == {"file\\xff": "data_\\xff.csv", "n": str(2**1100)}
    assert all(math.isfinite(r["time"]) for r in store.metrics("r"))


def test_a_row_sqlite_still_refuses_is_skipped_alone(tmp_path) -> None:
    store = Store(tmp_path / "db.sqlite")
    records = [MetricRecord("r", "m", i, "scalar", float(i), 1.0) for i in range(3)]
    records.insert(1, MetricRecord("r", "m", 2**70, "scalar", 5.0, 1.0))  # a step no INTEGER holds
    store.apply(Batch(metrics=records))
    assert [r.value for r in store.metrics("r")] == [0.0, 1.0, 2.0]


# The tables as hypersweep with schema version 3 wrote them (the sweep limits also inside ``config``).
SCHEMA_3 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE experiments (name TEXT PRIMARY KEY, created REAL NOT NULL);
CREATE TABLE sweeps (
    id TEXT PRIMARY KEY, experiment TEXT NOT NULL REFERENCES experiments(name), status TEXT NOT NULL,
    created REAL NOT NULL, started REAL, ended REAL, primary_metric TEXT NOT NULL, goal TEXT NOT NULL,
    max_total_runs INTEGER NOT NULL, max_concurrent_runs INTEGER NOT NULL, config TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}', driver_pid INTEGER, driver_token TEXT, heartbeat REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0, error TEXT, kind TEXT NOT NULL DEFAULT 'sweep'
);
CREATE TABLE runs (
    id TEXT PRIMARY KEY, sweep_id TEXT NOT NULL REFERENCES sweeps(id), number INTEGER NOT NULL,
    status TEXT NOT NULL, created REAL NOT NULL, started REAL, ended REAL, hyperparameters TEXT NOT NULL,
    arguments TEXT NOT NULL, run_dir TEXT NOT NULL, pid INTEGER, error TEXT, reason TEXT, best_value REAL,
    last_value REAL, intervals INTEGER NOT NULL DEFAULT 0, origin TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_sweep ON runs(sweep_id, number);
CREATE TABLE metrics (run_id TEXT NOT NULL, name TEXT NOT NULL, step INTEGER NOT NULL, kind TEXT NOT NULL,
                      value REAL, json TEXT, time REAL NOT NULL);
CREATE INDEX metrics_by_run ON metrics(run_id, name, step);
CREATE TABLE tags (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));
INSERT INTO meta VALUES ('schema_version', '3');
INSERT INTO experiments VALUES ('e', 0);
INSERT INTO sweeps (id, experiment, status, created, primary_metric, goal, max_total_runs, max_concurrent_runs,
                    config, tags) VALUES ('HD_3', 'e', 'Completed', 1, 'acc', 'maximize', 7, 2,
    '{"primary_metric": {"name": "acc", "goal": "maximize"}, "max_total_runs": 7, "max_concurrent_runs": 2,
      "max_duration_minutes": 10, "generator_config": {"name": "RANDOM"}}', '{"team": "a"}');
INSERT INTO runs (id, sweep_id, number, status, created, hyperparameters, arguments, run_dir, best_value, intervals,
                  origin) VALUES ('HD_3_0', 'HD_3', 0, 'Completed', 1, '{"--lr": 0.1}', '["--lr", 0.1]', '/r', 0.9, 1,
                  '{"resumed_from": "HD_2_4"}');
INSERT INTO metrics VALUES ('HD_3_0', 'acc', 1, 'scalar', 0.9, NULL, 2);
INSERT INTO tags VALUES ('HD_3_0', 'k', 'v');
"""


def test_a_database_of_schema_3_keeps_its_data_and_stores_the_sweep_limits_once(tmp_path) -> None:
    path = tmp_path / "db.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_3)
    conn.close()

    store = Store(path)
    sweep = store.sweep("HD_3")
    assert (sweep.status, sweep.kind, sweep.experiment, sweep.tags) == (
        RunStatus.COMPLETED,
        "sweep",
        "e",
        {"team": "a"},
    )
    assert (sweep.max_total_runs, sweep.max_concurrent_runs) == (7, 2)
    assert (
        sweep.config["max_total_runs"] == 7 and sweep.config["max_concurrent_runs"] == 2
    )  # from the columns
    assert sweep.config["max_duration_minutes"] == 10 and sweep.config["generator_config"] == {
        "name": "RANDOM"
    }
    (text,) = store.connect().execute("SELECT config FROM sweeps WHERE id = 'HD_3'").fetchone()
    stored = json.loads(text)
    assert (
        "max_total_runs" not in stored and "max_concurrent_runs" not in stored
    )  # stored once: in the columns
    (run,) = store.runs("HD_3")
    assert (run.hyperparameters, run.arguments, run.origin) == (
        {"--lr": 0.1},
        ["--lr", 0.1],
        {"resumed_from": "HD_2_4"},
    )
    assert (run.status, run.best_value, run.intervals, run.cancel_requested) == (
        RunStatus.COMPLETED,
        0.9,
        1,
        False,
    )
    assert store.metrics("HD_3_0") == [MetricRecord("HD_3_0", "acc", 1, "scalar", 0.9, 2.0)]
    assert store.tags("HD_3_0") == {"k": "v"} and store.models() == []
    assert store.connect().execute(
        "SELECT value FROM meta WHERE key = 'schema_version'"
    ).fetchone()[0] == str(SCHEMA_VERSION)
    store.close()
    assert Store(path).sweep("HD_3") == sweep  # opening it again changes nothing


def _description(**limits) -> dict:
    return {
        "primary_metric": {"name": "m", "goal": "maximize"},
        "max_total_runs": 4,
        "max_concurrent_runs": 2,
        "run_config": {"type": "function"},
        **limits,
    }


def test_a_batch_is_written_whole_in_one_transaction_or_not_at_all() -> None:
    store = Store.in_memory()
    store.create_sweep("HD_b", "e", _description(), {})
    batch = Batch()
    batch.runs.append(
        NewRun(
            "HD_b_0",
            "HD_b",
            0,
            1.0,
            {"x": 0.5},
            ["--x", 0.5],
            "/runs/HD_b_0",
            {"resumed_from": "r"},
        )
    )
    batch.runs.append(NewRun("HD_b_1", "HD_b", 1, 1.0, {"x": 0.7}, [], "/runs/HD_b_1"))
    batch.metrics.append(MetricRecord("HD_b_0", "m", 1, "scalar", 0.25, 2.0))
    batch.update("HD_b_0", status="Running", started=2.0, pid=42)
    batch.stop("HD_b_1", "Stopped by the policy.")
    batch.tags["HD_b_0"] = {"t": "1"}
    batch.run_fields.append(("HD_b_0", "display_name", "display_name", "first"))
    batch.sweep["heartbeat"] = 3.0
    store.apply(batch, "HD_b")
    first, second = store.runs("HD_b")
    assert (first.status, first.pid, first.hyperparameters, first.origin) == (
        RunStatus.RUNNING,
        42,
        {"x": 0.5},
        {"resumed_from": "r"},
    )
    assert (second.status, second.reason) == (RunStatus.CANCEL_REQUESTED, "Stopped by the policy.")
    assert store.metrics("HD_b_0")[0].value == 0.25 and store.tags("HD_b_0") == {"t": "1"}
    assert store.properties("HD_b_0") == {"display_name": "first"}
    assert store.sweep("HD_b").heartbeat == 3.0

    bad = Batch()
    bad.runs.append(NewRun("HD_b_2", "HD_b", 2, 1.0, {}, [], "/runs/HD_b_2"))
    bad.metrics.append(MetricRecord("HD_b_0", "m", 2, "scalar", 0.5, 2.0))
    bad.update("HD_b_0", no_such_column=1)
    with pytest.raises(ValueError, match="no_such_column"):
        store.apply(bad, "HD_b")
    assert [r.id for r in store.runs("HD_b")] == [
        "HD_b_0",
        "HD_b_1",
    ]  # nothing of it was written
    assert len(store.metrics("HD_b_0")) == 1

    end = Batch()
    end.cancels = [("HD_b_0", "The sweep ended."), ("HD_b_1", "The sweep ended.")]
    end.sweep.update(status="Canceled", ended=5.0)
    store.apply(end, "HD_b")
    assert [(r.status, r.reason) for r in store.runs("HD_b")] == [
        (RunStatus.CANCELED, "The sweep ended."),
        (RunStatus.CANCELED, "Stopped by the policy."),
    ]  # a reason stays
    assert store.sweep("HD_b").status is RunStatus.CANCELED
    assert store.cancel_requests("HD_b") == (False, [])


def test_the_in_memory_store_is_one_database_for_every_thread() -> None:
    store = Store.in_memory()
    store.create_sweep("HD_m", "e", _description(), {})
    seen = []
    thread = threading.Thread(target=lambda: seen.append(store.sweep("HD_m").max_total_runs))
    thread.start()
    thread.join(30)
    assert seen == [4] and not store.path.exists()


def test_the_read_only_store_reads_through_the_shared_queries_and_cannot_write(tmp_path) -> None:
    path = tmp_path / "db.sqlite"
    Store(path).create_sweep("HD_r", "e", _description(), {"a": "b"})
    reader = Store.open_readonly(path)
    with reader.snapshot() as reads:
        assert reads.sweep("HD_r").tags == {"a": "b"} and reads.runs("HD_r") == []
    with pytest.raises(sqlite3.OperationalError, match="readonly|read-only|query_only"):
        reader.connect().execute("UPDATE sweeps SET status = 'Failed'")
    reader.close()
    assert not Store.open_readonly(tmp_path / "none.sqlite").exists


def test_only_the_store_imports_sqlite3() -> None:
    """Outside the store (and mlflow/, the MLflow tracking server's own database) no module imports
    ``sqlite3``: they read typed records and write batches, never rows or connections."""
    import ast
    from pathlib import Path

    import hypersweep

    root = Path(hypersweep.__file__).parent
    allowed = {root / "store", root / "mlflow"}
    found = []
    for path in sorted(root.rglob("*.py")):
        if any(folder in path.parents for folder in allowed):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name == "sqlite3" or name.startswith("sqlite3.") for name in names):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []


def test_every_sql_statement_of_hypersweep_is_in_the_store() -> None:
    import ast
    from pathlib import Path

    import hypersweep

    root = Path(hypersweep.__file__).parent
    allowed = {
        root / "store",
        root / "mlflow",
    }  # mlflow/: the MLflow tracking server's own database
    found = []
    for path in sorted(root.rglob("*.py")):
        if any(folder in path.parents for folder in allowed):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("execute", "executemany", "executescript")
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
