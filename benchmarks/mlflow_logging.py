"""MLflow logging under hypersweep: delivery delay, cost per call, and compute saved on the digits example.

    python benchmarks/mlflow_logging.py [--values 60] [--calls 300] [--trials 8] [--epochs 12] [--skip-digits]

1. Delay: one script trial logs ``--values`` values, 50 ms apart, with ``mlflow.log_metric`` and,
   as the baseline in the same trial, with ``Run.log``; each value is its send time. This process
   polls the sweep's store every 5 ms and notes when each value appears. Printed: median and 95th
   percentile of the delay for each API, and their ratio.
2. Cost of one ``mlflow.log_metric`` call, in fresh processes of the same run: with MLflow's default
   local store (``sqlite:///mlflow.db`` for MLflow 3; MLflow 2's ``./mlruns`` where that is the
   default) and under hypersweep (a trial's environment: the ``hypersweep:`` store, values forwarded
   to the events file). Printed: microseconds per call (median of 5 blocks) and the ratio.
3. Compute saved on the digits example under median stopping (evaluation_interval 1,
   delay_evaluation 5, same seed, 2 at a time): ``train.py`` (``Run.log``) against
   ``train_mlflow.py`` (MLflow). Printed: epochs run as a share of all trials running to the end,
   the runs stopped, and the best accuracy, for each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    MedianStoppingPolicy,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    choice,
    loguniform,
)
from hypersweep.mlflow import trial_env

DIGITS = Path(__file__).resolve().parents[1] / "examples" / "digits"

SENDER = """
import sys, time
import mlflow
from hypersweep import Run
n = int(sys.argv[1])
run = Run.get_context()
mlflow.start_run()
mlflow.log_metric("warmup", 0.0)
for i in range(n):
    mlflow.log_metric("via_mlflow", time.time())
    time.sleep(0.025)
    run.log("via_run", time.time())
    time.sleep(0.025)
mlflow.end_run()
"""


def measure_delay(root: Path, n: int) -> dict[str, list[float]]:
    """Seconds from each send to its value in the sweep's store, per API."""
    src = root / "delay-src"
    src.mkdir()
    (src / "sender.py").write_text(SENDER)
    ws = Workspace(root / "delay-ws")
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="sender.py", arguments=[n]),
        hyperparameter_sampling=RandomParameterSampling({"x": choice(1)}),
        primary_metric_name="via_mlflow",
        primary_metric_goal="maximize",
        max_total_runs=1,
    )
    sweep = Experiment(ws, "delay").submit(config)
    seen: dict[tuple[str, int], float] = {}
    store = ws.store
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            rows = (
                store.connect()
                .execute(
                    "SELECT name, step, value FROM metrics WHERE name IN ('via_mlflow', 'via_run')"
                )
                .fetchall()
            )
            now = time.time()
            for row in rows:
                seen.setdefault((row["name"], row["step"]), now - row["value"])
            time.sleep(0.005)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    sweep.wait_for_completion()
    time.sleep(0.1)
    done.set()
    poller.join()
    return {
        api: [d for (name, _), d in seen.items() if name == api]
        for api in ("via_mlflow", "via_run")
    }


COST = """
import json, statistics, sys, time, warnings
warnings.simplefilter("ignore")
import mlflow
calls = int(sys.argv[1])
mlflow.start_run()
for i in range(20):
    mlflow.log_metric("warmup", i)
blocks = []
for b in range(5):
    t = time.perf_counter()
    for i in range(calls // 5):
        mlflow.log_metric("m", i * 0.5, step=i)
    blocks.append((time.perf_counter() - t) / (calls // 5))
mlflow.end_run()
print(json.dumps({"us": statistics.median(blocks) * 1e6, "uri": mlflow.get_tracking_uri()}))
"""


def measure_cost(root: Path, calls: int) -> tuple[dict, dict]:
    """Microseconds per ``mlflow.log_metric`` with MLflow's default store, and under hypersweep."""
    script = root / "cost.py"
    script.write_text(COST)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "HYPERSWEEP_"))}
    default_dir = root / "default"
    default_dir.mkdir()
    out = subprocess.run(
        [sys.executable, str(script), str(calls)],
        cwd=default_dir,
        env=base_env,
        capture_output=True,
        text=True,
        check=True,
    )
    default = json.loads(out.stdout.splitlines()[-1])
    ws = root / "cost-ws"
    run_dir = ws / ".hypersweep" / "runs" / "HD_bench_0"
    (run_dir / "logs").mkdir(parents=True)
    events = run_dir / "logs" / "events.jsonl"
    env = {
        **base_env,
        **trial_env(ws, "cost"),
        "HYPERSWEEP_RUN_ID": "HD_bench_0",
        "HYPERSWEEP_EVENTS": str(events),
        "HYPERSWEEP_EXPERIMENT": "cost",
    }
    out = subprocess.run(
        [sys.executable, str(script), str(calls)],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    ours = json.loads(out.stdout.splitlines()[-1])
    forwarded = sum(1 for line in events.read_text().splitlines() if '"n": "m"' in line)
    assert forwarded == calls // 5 * 5, f"{forwarded} of {calls} values reached the events file"
    return default, ours


def digits_sweep(root: Path, script: str, trials: int, epochs: int) -> dict:
    """Epochs run (as a share of no stopping), runs stopped and best accuracy of one digits sweep."""
    space = {
        "--hidden": choice(16, 32, 64, 128),
        "--alpha": loguniform(-12, -2),
        "--learning-rate": loguniform(-9, -2),
        "--batch-size": choice(32, 64, 128),
    }
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(
            source_directory=DIGITS, script=script, arguments=["--epochs", epochs]
        ),
        hyperparameter_sampling=RandomParameterSampling(space, {"seed": 7}),
        policy=MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=5),
        primary_metric_name="accuracy",
        primary_metric_goal="maximize",
        max_total_runs=trials,
        max_concurrent_runs=2,
    )
    ws = Workspace(root / f"digits-{script}")
    started = time.time()
    sweep = Experiment(ws, "digits").submit(config)
    sweep.wait_for_completion()
    children = sweep.get_children()
    epochs_run = 0
    for child in children:
        values = child.get_metrics().get("accuracy", [])
        epochs_run += len(values) if isinstance(values, list) else 1
    best = sweep.get_best_run_by_primary_metric()
    acc = best.get_metrics()["accuracy"]
    return {
        "share": epochs_run / (trials * epochs),
        "stopped": sum(c.get_status() == "Canceled" for c in children),
        "failed": sum(c.get_status() == "Failed" for c in children),
        "best": max(acc) if isinstance(acc, list) else acc,
        "seconds": time.time() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--values", type=int, default=60)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--skip-digits", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        delays = measure_delay(root, args.values)
        med = {api: statistics.median(d) for api, d in delays.items()}
        p95 = {api: statistics.quantiles(d, n=20)[-1] for api, d in delays.items()}
        print(f"delay to the sweep's store, {args.values} values each (median / p95, seconds):")
        print(
            f"  mlflow.log_metric  {med['via_mlflow']:.3f} / {p95['via_mlflow']:.3f}   ({len(delays['via_mlflow'])} seen)"
        )
        print(
            f"  Run.log (baseline) {med['via_run']:.3f} / {p95['via_run']:.3f}   ({len(delays['via_run'])} seen)"
        )
        print(f"  ratio of medians   {med['via_mlflow'] / med['via_run']:.2f}")
        default, ours = measure_cost(root, args.calls)
        print(f"one mlflow.log_metric call (median of 5 blocks of {args.calls // 5}):")
        print(f"  MLflow's default store ({default['uri']}): {default['us']:.0f} us")
        print(f"  under hypersweep ({ours['uri'].split('//')[0]}//...):      {ours['us']:.0f} us")
        print(f"  ratio hypersweep / default: {ours['us'] / default['us']:.2f}")
        if not args.skip_digits:
            print(
                f"digits, median stopping, {args.trials} trials x {args.epochs} epochs, 2 at a time:"
            )
            for script in ("train.py", "train_mlflow.py"):
                r = digits_sweep(root, script, args.trials, args.epochs)
                print(
                    f"  {script:16s} epochs run {r['share']:.0%} of all, {r['stopped']} stopped, "
                    f"{r['failed']} failed, best accuracy {r['best']:.3f}, {r['seconds']:.0f} s"
                )


if __name__ == "__main__":
    main()
