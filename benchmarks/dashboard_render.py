"""Dashboard speed: a sweep of 1000 runs x 100 intervals, against a 10-run sweep measured in the same run.

    python benchmarks/dashboard_render.py [--runs 1000] [--intervals 100] [--repeat 15]
        [--optuna-python /path/to/venv/bin/python]
    python benchmarks/dashboard_render.py --screenshot docs/dashboard.png --workspace WS [--sweep ID]
    python benchmarks/dashboard_render.py --importance [--runs 1000] [--intervals 100]

1. Builds a workspace with two finished sweeps written directly through the store (the big one and a
   10-run baseline, both with 4 hyperparameters), and serves it with ``hypersweep ui`` in a subprocess.
2. API: the server's response time for ``GET /api/sweeps/{id}`` (median and p90 of --repeat requests,
   and its size), and for one live-update poll (``/updates?since=<cursor>``).
3. Browser: time to first full render of the sweep page in headless Chromium (Debian's), in a fresh
   browser context each time (no cache): navigation start to the moment the page's script has drawn
   the table and every chart (it records ``performance.now()`` then). Median of 5.
4. With ``--optuna-python`` (a Python that has optuna-dashboard): the same two figures for an Optuna
   study of the same size (1000 trials x 100 intermediate values, 4 parameters) in optuna-dashboard:
   its study JSON (``/api/studies/{id}``) and its study page until its first chart has drawn.

With ``--importance`` (only that): hyperparameter importance of a finished sweep of 1000 runs x 100
intervals x 6 hyperparameters: the estimate itself (cache cleared; median of 3, wall and CPU time), the results API's
first and cached calls, and ``GET /api/sweeps/{id}/importance`` of ``hypersweep ui`` (first answer,
then the median of --repeat cached ones).

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

from hypersweep.store import DB_NAME, MetricRecord, Store

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SPACE = {
    "learning_rate": ["loguniform", [-9, -2]],
    "hidden": ["choice", [[16, 32, 64, 128, 256]]],
    "dropout": ["uniform", [0.0, 0.5]],
    "optimizer": ["choice", [["adam", "sgd", "rmsprop"]]],
}


def make_sweep(store: Store, sweep_id: str, runs: int, intervals: int, seed: int = 0) -> None:
    """A finished sweep of ``runs`` runs, each with ``intervals`` values of ``accuracy``."""
    rng = random.Random(seed)
    config = {
        "generator_config": {
            "name": "RANDOM",
            "parameter_space": SPACE,
            "properties": {"seed": seed},
        },
        "primary_metric": {"name": "accuracy", "goal": "maximize"},
        "policy_config": {"name": "Default", "properties": {}},
        "max_total_runs": runs,
        "max_concurrent_runs": 10,
        "max_duration_minutes": 10080.0,
        "run_config": {"type": "function", "target": "local"},
    }
    store.create_sweep(sweep_id, "bench", config, {})
    t0 = time.time() - runs * 2.0
    rows, records, summaries = [], [], []
    for n in range(runs):
        hp = {
            "learning_rate": math.exp(rng.uniform(-9, -2)),
            "hidden": rng.choice([16, 32, 64, 128, 256]),
            "dropout": rng.uniform(0, 0.5),
            "optimizer": rng.choice(["adam", "sgd", "rmsprop"]),
        }
        run_id = f"{sweep_id}_{n}"
        rows.append(
            {
                "id": run_id,
                "sweep_id": sweep_id,
                "number": n,
                "status": "Completed",
                "created": t0 + n,
                "hyperparameters": json.dumps(hp),
                "arguments": "[]",
                "run_dir": f"/nonexistent/{run_id}",
                "origin": None,
            }
        )
        top, speed = rng.uniform(0.6, 0.99), rng.uniform(0.02, 0.2)
        values = [
            top * (1 - math.exp(-speed * (i + 1))) + rng.gauss(0, 0.005) for i in range(intervals)
        ]
        records += [
            MetricRecord(run_id, "accuracy", i + 1, "scalar", v, t0 + n + i * 0.01)
            for i, v in enumerate(values)
        ]
        summaries.append((max(values), values[-1], intervals, t0 + n, t0 + n + 1.5, run_id))
    with store.transaction() as tx:
        store.create_runs(tx, rows)
        store.insert_metrics(tx, records)
        tx.executemany(
            "UPDATE runs SET best_value=?, last_value=?, intervals=?, started=?, ended=? WHERE id=?",
            summaries,
        )
    store.update_sweep(sweep_id, status="Completed", started=t0, ended=t0 + runs * 2.0)


def serve(workspace: Path) -> tuple[subprocess.Popen[str], str]:
    """``hypersweep ui`` on a free loopback port, in a subprocess."""
    code = "import sys; from hypersweep.dashboard.commands import ui; sys.argv[0] = 'hypersweep ui'; ui()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "-w", str(workspace)],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"the dashboard did not start: {line!r}")
    return proc, match.group(0)


def time_get(url: str, repeat: int) -> tuple[float, float, int]:
    """(median ms, p90 ms, bytes) of GET url, after one warm-up request."""
    with httpx.Client(timeout=60) as client:
        size = len(client.get(url).content)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            client.get(url).raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))], size


def time_render(browser: object, url: str, repeat: int, done_js: str, at_js: str | None) -> float:
    """Median ms from navigation start to ``done_js`` becoming true (``at_js``: the page's own timestamp)."""
    times = []
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(url, wait_until="commit")
        page.wait_for_function(done_js, timeout=600_000, polling=10)
        if at_js:
            times.append(float(page.evaluate(at_js)))
        else:
            times.append(float(page.evaluate("() => performance.now()")))
        context.close()
    return statistics.median(times)


OPTUNA_STUDY = textwrap.dedent(
    """
    import math, random, sys, time, optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution
    runs, intervals, url = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(storage=storage, study_name="bench", direction="maximize")
    rng = random.Random(0)
    dists = {"learning_rate": FloatDistribution(math.exp(-9), math.exp(-2), log=True),
             "hidden": CategoricalDistribution([16, 32, 64, 128, 256]), "dropout": FloatDistribution(0, 0.5),
             "optimizer": CategoricalDistribution(["adam", "sgd", "rmsprop"])}
    trials = []
    for n in range(runs):
        top, speed = rng.uniform(0.6, 0.99), rng.uniform(0.02, 0.2)
        values = [top * (1 - math.exp(-speed * (i + 1))) + rng.gauss(0, 0.005) for i in range(intervals)]
        params = {"learning_rate": math.exp(rng.uniform(-9, -2)), "hidden": rng.choice([16, 32, 64, 128, 256]),
                  "dropout": rng.uniform(0, 0.5), "optimizer": rng.choice(["adam", "sgd", "rmsprop"])}
        trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=max(values),
                                                intermediate_values=dict(enumerate(values, 1))))
    study.add_trials(trials)
    print(study._study_id, flush=True)
    """
)


def optuna_figures(
    python: str, root: Path, runs: int, intervals: int, repeat: int, browser: object
) -> dict[str, float] | None:
    """optuna-dashboard on a study of the same size: JSON time and first chart render, or None."""
    db = root / "optuna.db"
    built = subprocess.run(
        [python, "-c", OPTUNA_STUDY, str(runs), str(intervals), f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if built.returncode != 0:
        print("optuna study could not be built:", built.stderr[-500:])
        return None
    study_id = int(built.stdout.split()[-1])
    port = _free_port()
    command = str(Path(python).parent / "optuna-dashboard")
    proc = subprocess.Popen(
        [command, f"sqlite:///{db}", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base + "/api/studies")
        med, p90, size = time_get(f"{base}/api/studies/{study_id}", repeat)
        drawn = "() => document.querySelectorAll('.js-plotly-plot .scatterlayer .trace, .js-plotly-plot .scatterlayer path').length > 0"
        render = time_render(browser, f"{base}/dashboard/studies/{study_id}", 5, drawn, None)
    finally:
        proc.terminate()
        proc.wait(timeout=60)  # gunicorn takes a while to stop its workers
    return {"api_median": med, "api_p90": p90, "api_bytes": size, "render": render}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def screenshot(workspace: Path, sweep: str | None, out: Path) -> None:
    """A 1400x1000 screenshot of a sweep page (the latest sweep by default) for the docs."""
    from playwright.sync_api import sync_playwright

    proc, url = serve(workspace)
    try:
        sweep = sweep or httpx.get(url + "/api/sweeps").json()[0]["id"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/sweeps/{sweep}")
            page.wait_for_function(
                "() => document.documentElement.dataset.hsChartsDrawn !== undefined"
            )
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"wrote {out}")


IMPORTANCE_SPACE = {
    "learning_rate": ["loguniform", [-9, -2]],
    "hidden": ["choice", [[16, 32, 64, 128, 256]]],
    "dropout": ["uniform", [0.0, 0.5]],
    "optimizer": ["choice", [["adam", "sgd", "rmsprop"]]],
    "weight_decay": ["loguniform", [-12, -4]],
    "batch_size": ["choice", [[16, 32, 64, 128]]],
}


def make_importance_sweep(
    store: Store, sweep_id: str, runs: int, intervals: int, seed: int = 0
) -> None:
    """A finished sweep over :data:`IMPORTANCE_SPACE` whose accuracy depends mostly on the learning
    rate, then the optimizer, then dropout (the other three hardly matter)."""
    rng = random.Random(seed)
    config = {
        "generator_config": {
            "name": "RANDOM",
            "parameter_space": IMPORTANCE_SPACE,
            "properties": {"seed": seed},
        },
        "primary_metric": {"name": "accuracy", "goal": "maximize"},
        "policy_config": {"name": "Default", "properties": {}},
        "max_total_runs": runs,
        "max_concurrent_runs": 10,
        "max_duration_minutes": 10080.0,
        "run_config": {"type": "function", "target": "local"},
    }
    store.create_sweep(sweep_id, "bench", config, {})
    t0 = time.time() - runs * 2.0
    rows, records, summaries = [], [], []
    for n in range(runs):
        log_lr = rng.uniform(-9, -2)
        hp = {
            "learning_rate": math.exp(log_lr),
            "hidden": rng.choice([16, 32, 64, 128, 256]),
            "dropout": rng.uniform(0, 0.5),
            "optimizer": rng.choice(["adam", "sgd", "rmsprop"]),
            "weight_decay": math.exp(rng.uniform(-12, -4)),
            "batch_size": rng.choice([16, 32, 64, 128]),
        }
        top = (
            0.95
            - 0.02 * (log_lr + 5) ** 2
            - (0.08 if hp["optimizer"] == "sgd" else 0.0)
            - 0.1 * hp["dropout"]
            + rng.gauss(0, 0.005)
        )
        run_id = f"{sweep_id}_{n}"
        rows.append(
            {
                "id": run_id,
                "sweep_id": sweep_id,
                "number": n,
                "status": "Completed",
                "created": t0 + n,
                "hyperparameters": json.dumps(hp),
                "arguments": "[]",
                "run_dir": f"/nonexistent/{run_id}",
                "origin": None,
            }
        )
        values = [top * (1 - math.exp(-0.1 * (i + 1))) for i in range(intervals)]
        records += [
            MetricRecord(run_id, "accuracy", i + 1, "scalar", v, t0 + n + i * 0.01)
            for i, v in enumerate(values)
        ]
        summaries.append((max(values), values[-1], intervals, t0 + n, t0 + n + 1.5, run_id))
    with store.transaction() as tx:
        store.create_runs(tx, rows)
        store.insert_metrics(tx, records)
        tx.executemany(
            "UPDATE runs SET best_value=?, last_value=?, intervals=?, started=?, ended=? WHERE id=?",
            summaries,
        )
    store.update_sweep(sweep_id, status="Completed", started=t0, ended=t0 + runs * 2.0)


def optuna_importance_seconds(sweep: object) -> tuple[float, list[str]] | None:
    """Optuna's default evaluator (fANOVA, seed 0) on the sweep's runs: (seconds, names in order), or None."""
    try:
        import optuna
        from optuna.distributions import CategoricalDistribution, FloatDistribution
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists: dict[str, object] = {}
    for name, (kind, args) in IMPORTANCE_SPACE.items():
        if kind == "choice":
            dists[name] = CategoricalDistribution(args[0])
        else:
            low, high = (
                (math.exp(args[0]), math.exp(args[1])) if kind == "loguniform" else tuple(args)
            )
            dists[name] = FloatDistribution(low, high, log=kind == "loguniform")
    study = optuna.create_study(direction="maximize")
    hps = sweep.get_hyperparameters()  # type: ignore[attr-defined]
    trials = [
        optuna.trial.create_trial(
            params=json.loads(hps[e["run_id"]]),
            distributions=dists,  # type: ignore[arg-type]
            value=e["best_primary_metric"],
        )
        for e in sweep.get_children_sorted_by_primary_metric()
    ]  # type: ignore[attr-defined]
    study.add_trials(trials)
    start = time.perf_counter()
    found = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
    )
    return time.perf_counter() - start, list(found)


def importance_figures(runs: int, intervals: int, repeat: int) -> None:
    """Print the importance figures (see the module's docstring)."""
    from hypersweep import Workspace, importance

    with tempfile.TemporaryDirectory() as tmp:
        ws_path = Path(tmp) / "ws"
        store = Store(ws_path / ".hypersweep" / DB_NAME)
        make_importance_sweep(store, "HD_imp", runs, intervals)
        store.close()
        start = time.perf_counter()
        import sklearn.ensemble  # noqa: F401 - timed apart: paid once per process

        imported = time.perf_counter() - start
        sweep = Workspace(ws_path).get_run("HD_imp")
        estimate, cpu = [], []
        for _ in range(3):
            importance._cache.clear()
            start, start_cpu = time.perf_counter(), time.process_time()
            found = sweep.get_parameter_importances()  # type: ignore[attr-defined]
            estimate.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        start = time.perf_counter()
        sweep.get_parameter_importances()  # type: ignore[attr-defined]
        cached = time.perf_counter() - start
        baseline = optuna_importance_seconds(sweep)
        proc, url = serve(ws_path)
        try:
            with httpx.Client(timeout=120) as client:
                start = time.perf_counter()
                client.get(f"{url}/api/sweeps/HD_imp/importance").raise_for_status()
                first_http = time.perf_counter() - start
            http_cached = time_get(f"{url}/api/sweeps/HD_imp/importance", repeat)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(
        f"importance, {runs} runs x {intervals} intervals x {len(IMPORTANCE_SPACE)} hyperparameters:"
    )
    print("  " + ", ".join(f"{name} {share:.3f}" for name, share in found.items()))
    print(
        f"{'  the estimate, median of 3 (s)':44}{statistics.median(estimate):8.3f}  (min {min(estimate):.3f})"
    )
    print(
        f"{'  the estimate, CPU time, median of 3 (s)':44}{statistics.median(cpu):8.3f}  (wall time on an idle core)"
    )
    if baseline is not None:
        print(
            f"{'  Optuna FanovaImportanceEvaluator (s)':44}{baseline[0]:8.3f}  (same trials; hypersweep "
            f"{statistics.median(estimate) / baseline[0]:.3f}x)"
        )
        print(
            "    its order: "
            + ", ".join(baseline[1])
            + f"; the same top 3: {list(found)[:3] == baseline[1][:3]}"
        )
    print(f"{'  results API, cached second call (ms)':44}{cached * 1000:8.1f}")
    print(f"{'  scikit-learn import, once (s)':44}{imported:8.3f}")
    print(
        f"{'  GET .../importance, first answer (s)':44}{first_http:8.3f}  (the server's import included)"
    )
    print(
        f"{'  GET .../importance, cached, median (ms)':44}{http_cached[0]:8.1f}  (p90 {http_cached[1]:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--intervals", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--optuna-python", help="a Python with optuna-dashboard installed (for the comparison)"
    )
    parser.add_argument(
        "--screenshot", type=Path, help="only take a screenshot of a sweep page to this file"
    )
    parser.add_argument("--workspace", type=Path, help="with --screenshot: the workspace")
    parser.add_argument("--sweep", help="with --screenshot: the sweep (default: the newest)")
    parser.add_argument(
        "--importance", action="store_true", help="only measure hyperparameter importance"
    )
    args = parser.parse_args()
    if args.importance:
        importance_figures(args.runs, args.intervals, args.repeat)
        return
    if args.screenshot:
        screenshot(args.workspace or Path.cwd(), args.sweep, args.screenshot)
        return

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = Store(root / "ws" / ".hypersweep" / DB_NAME)
        start = time.perf_counter()
        make_sweep(store, "HD_big", args.runs, args.intervals)
        make_sweep(store, "HD_small", 10, args.intervals, seed=1)
        store.close()
        print(
            f"workspace: {args.runs} runs x {args.intervals} intervals + 10-run baseline, "
            f"written in {time.perf_counter() - start:.1f} s"
        )
        proc, url = serve(root / "ws")
        try:
            figures = {}
            for name in ("HD_big", "HD_small"):
                api = time_get(f"{url}/api/sweeps/{name}", args.repeat)
                cursor = httpx.get(f"{url}/api/sweeps/{name}").json()["cursor"]
                poll = time_get(f"{url}/api/sweeps/{name}/updates?since={cursor}", args.repeat)
                figures[name] = {"api": api, "poll": poll}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                drawn = "() => document.getElementById('app') && document.getElementById('app').dataset.drawnAt"
                at = "() => Number(document.getElementById('app').dataset.drawnAt)"
                for name in ("HD_big", "HD_small"):
                    figures[name]["render"] = time_render(
                        browser, f"{url}/sweeps/{name}", 5, drawn, at
                    )
                optuna = None
                if args.optuna_python:
                    optuna = optuna_figures(
                        args.optuna_python, root, args.runs, args.intervals, args.repeat, browser
                    )
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    big, small = figures["HD_big"], figures["HD_small"]
    print(f"\n{'':34}{args.runs:>5} runs   10 runs   ratio")
    print(
        f"{'sweep JSON, median (ms)':34}{big['api'][0]:10.1f}{small['api'][0]:10.1f}{big['api'][0] / small['api'][0]:8.1f}x"
    )
    print(f"{'sweep JSON, p90 (ms)':34}{big['api'][1]:10.1f}{small['api'][1]:10.1f}")
    print(
        f"{'sweep JSON, size (KiB)':34}{big['api'][2] / 1024:10.0f}{small['api'][2] / 1024:10.0f}"
    )
    print(f"{'live poll /updates, median (ms)':34}{big['poll'][0]:10.1f}{small['poll'][0]:10.1f}")
    print(
        f"{'first full render, median (ms)':34}{big['render']:10.0f}{small['render']:10.0f}{big['render'] / small['render']:8.1f}x"
    )
    if optuna:
        print(
            f"\noptuna-dashboard, same size: study JSON median {optuna['api_median']:.1f} ms (p90 {optuna['api_p90']:.1f}, "
            f"{optuna['api_bytes'] / 1024:.0f} KiB); study page to first chart {optuna['render']:.0f} ms"
        )
        print(
            f"hypersweep / optuna-dashboard: JSON {big['api'][0] / optuna['api_median']:.2f}x, "
            f"render {big['render'] / optuna['render']:.2f}x"
        )
    elif not args.optuna_python:
        print(
            "\n(optuna-dashboard not compared: pass --optuna-python with a Python that has it installed)"
        )


if __name__ == "__main__":
    main()
