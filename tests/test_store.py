"""The workspace database: versioning, values, and heavy concurrent use."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import textwrap

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
from hypersweep.store import SCHEMA_VERSION, MetricRecord, Store, decode_value, encode_value


@pytest.mark.parametrize("value", [1.5, 0, -3, float("inf"), "text", {"a": [1, 2]}, [1, None], True])
def test_values_round_trip(value) -> None:
    assert decode_value(*encode_value(value)) == value


def test_nan_is_kept_as_nan() -> None:
    assert math.isnan(decode_value(*encode_value(float("nan"))))


def test_a_newer_schema_is_refused_clearly(tmp_path) -> None:
    Store(tmp_path / "db.sqlite")
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
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
    with store.transaction() as tx:
        store.insert_metrics(tx, [MetricRecord("r", "m\udcff", 1, "scalar", value, float("nan"))])
        store.insert_metrics(tx, [MetricRecord("r", "ok", 1, "scalar", 1.0, 1.0)])
        store.set_tags(tx, "r", {"file\udcff": "data_\udcff.csv", "n": 2**1100})  # type: ignore[dict-item]
    rows = {r["name"]: decode_value(r["value"], r["json"]) for r in store.metrics("r")}
    assert rows == {"m\\xff": expected, "ok": 1.0}
    assert store.tags("r") == {"file\\xff": "data_\\xff.csv", "n": str(2**1100)}
    assert all(math.isfinite(r["time"]) for r in store.metrics("r"))


def test_a_row_sqlite_still_refuses_is_skipped_alone(tmp_path) -> None:
    store = Store(tmp_path / "db.sqlite")
    records = [MetricRecord("r", "m", i, "scalar", float(i), 1.0) for i in range(3)]
    records.insert(1, MetricRecord("r", "m", 2**70, "scalar", 5.0, 1.0))  # a step no INTEGER holds
    with store.transaction() as tx:
        store.insert_metrics(tx, records)
    assert [r["value"] for r in store.metrics("r")] == [0.0, 1.0, 2.0]
