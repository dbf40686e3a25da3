"""The Ray executor against a real local Ray cluster: a head with no CPUs and one worker node.

The cluster is started once for the module with ``ray start`` (so trials never run in the driver's
raylet) in a temp dir of its own, and every process it started is killed at the end by session id:
``ray stop`` would stop every Ray on the machine. Skipped when Ray is missing, except under CI.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from ray_cluster import HAVE_RAY, LocalRayCluster, pid_alive

from hypersweep import (
    BanditPolicy,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    Run,
    ScriptRunConfig,
    Workspace,
    choice,
)
from hypersweep.config import FunctionRunConfig
from hypersweep.executors.base import Logged, RunEnded, RunStarted, TrialSpec
from hypersweep.run import ENV_EVENTS, ENV_RUN_ID
from hypersweep.status import RunStatus

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(240),
]
needs_ray = pytest.mark.skipif(
    not HAVE_RAY and not os.environ.get("CI"),
    reason="Ray is not installed (pip install 'hypersweep[ray]')",
)


# -- a local cluster that only we stop ---------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    if not HAVE_RAY:
        pytest.fail("Ray is not installed: CI must install it (pip install -e '.[ray]')")
    c = LocalRayCluster().start()
    try:
        yield c
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        c.stop()
        assert not c.processes(), "Ray processes were left behind"


@pytest.fixture
def ray_address(cluster, monkeypatch) -> str:
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    return cluster.address


# -- sweeps end to end -----------------------------------------------------------------------------

LEARNER = """
import argparse, os, sys, time
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--quality", type=float)
a = p.parse_args()
os.makedirs("outputs", exist_ok=True)
open("outputs/pid", "w").write(str(os.getpid()))
print("hello from", a.quality, "in", os.getcwd())
if a.quality < 0:
    sys.exit("bad quality: " + str(a.quality))
if a.quality < 0.5:
    time.sleep(0.4)  # bad configurations start later: the good ones set the bar at each interval
run = Run.get_context()
for epoch in range(1, 16):
    run.log("accuracy", a.quality * (1 - 0.5 ** epoch))
    time.sleep(0.2)
open("outputs/model.txt", "w").write("model %s" % a.quality)
"""


def run_dir(child) -> Path:
    return child.experiment.workspace.path / ".hypersweep" / "runs" / child.id


@needs_ray
def test_sweep_on_ray_with_a_policy_that_kills_bad_runs(workspace, script_dir, ray_address) -> None:
    src = script_dir("learner.py", LEARNER)
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="learner.py", compute_target="ray"),
        hyperparameter_sampling=GridParameterSampling(
            {"quality": choice(0.9, 0.2, 0.85, 0.1, -1.0)}
        ),
        policy=BanditPolicy(evaluation_interval=1, slack_amount=0.2, delay_evaluation=2),
        primary_metric_name="accuracy",
        primary_metric_goal="maximize",
        max_total_runs=5,
        max_concurrent_runs=2,
    )
    started = time.monotonic()
    run = Experiment(workspace, "ray-bandit").submit(config)
    run.wait_for_completion(raise_on_error=False)
    assert time.monotonic() - started < 90
    children = {
        json.loads(run.get_hyperparameters()[c.id])["quality"]: c for c in run.get_children()
    }
    assert set(children) == {0.9, 0.2, 0.85, 0.1, -1.0}
    this_host_pid = os.getpid()
    for quality in (0.9, 0.85):
        child = children[quality]
        assert child.get_status() == "Completed", child.get_details()
        assert len(child.get_metrics()["accuracy"]) == 15
        folder = run_dir(child)
        assert (folder / "outputs" / "model.txt").read_text() == f"model {quality}"
        stdout = (folder / "logs" / "stdout.txt").read_text()
        assert (
            f"hello from {quality}" in stdout and str(workspace.path) not in stdout
        )  # ran in a worker's folder
        assert int((folder / "outputs" / "pid").read_text()) != this_host_pid
        assert child.get_details()["runDefinition"]["arguments"] == ["--quality", str(quality)]
    for quality in (0.2, 0.1):
        child = children[quality]
        details = child.get_details()
        assert details["status"] == "Canceled", details
        assert details["canceledReason"].startswith("Bandit")
        assert 2 <= len(child.get_metrics()["accuracy"]) < 15  # stopped soon after the delay
        pid = int(
            (run_dir(child) / "outputs" / "pid").read_text()
        )  # outputs of a killed run came back
        assert not pid_alive(pid)  # the cluster runs on this machine: the killed script is gone
        assert "hello from" in (run_dir(child) / "logs" / "stdout.txt").read_text()
    failed = children[-1.0].get_details()
    assert failed["status"] == "Failed"
    assert (
        "exited with code 1" in failed["error"]["message"]
        and "bad quality: -1.0" in failed["error"]["message"]
    )
    assert run.get_status() == "Completed"
    assert run.get_best_run_by_primary_metric().id == children[0.9].id


def trial_on_ray(cfg):
    run = Run.get_context()
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/where.txt", "w") as f:
        f.write(str(os.getpid()))
    print("callable", cfg["q"])
    if cfg["q"] < 0.5:
        time.sleep(1.0)  # the good one sets the bar first, whichever worker was ready first
    for step in range(1, 21):
        run.log("score", cfg["q"] * step)
        time.sleep(0.1)
    return {"pid": os.getpid()}


@needs_ray
def test_callable_trials_on_ray_log_live_and_are_stopped(workspace, ray_address) -> None:
    config = HyperDriveConfig(
        run_config=FunctionRunConfig(trial_on_ray, compute_target="ray", resources={"num_cpus": 1}),
        hyperparameter_sampling=GridParameterSampling({"q": choice(1.0, 0.1)}),
        policy=BanditPolicy(evaluation_interval=1, slack_factor=0.5, delay_evaluation=3),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=2,
        max_concurrent_runs=2,
    )
    run = Experiment(workspace, "ray-callable").submit(config)
    run.wait_for_completion(raise_on_error=False)
    by_q = {json.loads(run.get_hyperparameters()[c.id])["q"]: c for c in run.get_children()}
    good, bad = by_q[1.0], by_q[0.1]
    assert good.get_status() == "Completed", good.get_details()
    metrics = good.get_metrics()
    assert metrics["score"] == [float(s) for s in range(1, 21)]
    assert metrics["pid"] != os.getpid()  # ran in a Ray worker, not in this process
    assert (run_dir(good) / "outputs" / "where.txt").read_text() == str(int(metrics["pid"]))
    assert "callable 1.0" in (run_dir(good) / "logs" / "stdout.txt").read_text()
    details = bad.get_details()
    assert details["status"] == "Canceled" and details["canceledReason"].startswith("Bandit")
    assert len(bad.get_metrics()["score"]) < 20


def mlflow_trial_on_ray(cfg):
    import mlflow

    mlflow.log_param("q", cfg["q"])
    for step in range(1, 6):
        mlflow.log_metric("score", cfg["q"] * step, step=step)
    return None


@needs_ray
@pytest.mark.parametrize("shared", [False, True])
def test_callables_on_ray_that_log_with_mlflow_log_to_their_runs(
    workspace, ray_address, monkeypatch, shared
) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    from hypersweep.executors.ray import ENV_SHARED_WORKSPACE
    from hypersweep.mlflow import RUN_ID_TAG, backend_store_uri

    monkeypatch.setenv(ENV_SHARED_WORKSPACE, "1" if shared else "0")
    config = HyperDriveConfig(
        run_config=FunctionRunConfig(
            mlflow_trial_on_ray, compute_target="ray", resources={"num_cpus": 1}
        ),
        hyperparameter_sampling=GridParameterSampling({"q": choice(1.0, 0.5)}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=2,
        max_concurrent_runs=2,
    )
    run = Experiment(workspace, "ray-mlflow").submit(config)
    run.wait_for_completion(raise_on_error=False)
    children = run.get_children()
    assert [c.get_status() for c in children] == ["Completed", "Completed"], [
        c.get_details() for c in children
    ]
    for child in children:
        q = json.loads(run.get_hyperparameters()[child.id])["q"]
        assert child.get_metrics()["score"] == [q * step for step in range(1, 6)]
    assert run.get_best_run_by_primary_metric().get_metrics()["score"][-1] == 5.0
    db = workspace.path / ".hypersweep" / "mlflow.db"
    if not shared:  # MLflow's own record stayed on the node, in the task's folder
        assert not db.exists()
        return
    client = MlflowClient(tracking_uri=backend_store_uri(workspace.path))
    found = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string=f"tags.`{RUN_ID_TAG}` = '{children[0].id}'",
    )
    assert len(found) == 1 and found[0].info.status == "FINISHED"
    assert [m.value for m in client.get_metric_history(found[0].info.run_id, "score")] == [
        json.loads(run.get_hyperparameters()[children[0].id])["q"] * step for step in range(1, 6)
    ]


SWEEP_YAML = """
type: sweep
experiment_name: yaml-on-ray
compute: {compute}
trial:
  code: .
  command: python t.py --x ${{{{search_space.x}}}}
  resources: {{num_cpus: 1}}
search_space:
  x: {{type: choice, values: [1, 2, 3]}}
sampling_algorithm: grid
objective: {{primary_metric: a, goal: maximize}}
limits: {{max_total_trials: 3, max_concurrent_trials: 2}}
"""


@needs_ray
def test_a_sweep_file_with_compute_ray_client_address(cluster, tmp_path) -> None:
    # Ray Client (ray://) in a process of its own: this one is already connected to the cluster.
    src = tmp_path / "sweep"
    src.mkdir()
    (src / "t.py").write_text(
        "import sys\nfrom hypersweep import Run\nRun.get_context().log('a', float(sys.argv[2]))\n"
    )
    (src / "sweep.yml").write_text(
        SWEEP_YAML.format(compute=f"ray://127.0.0.1:{cluster.client_port}")
    )
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    ws = tmp_path / "ws"
    ws.mkdir()
    cmd = [
        sys.executable,
        "-m",
        "hypersweep",
        "run",
        str(src / "sweep.yml"),
        "--workspace",
        str(ws),
        "--quiet",
    ]
    # On a very busy machine Ray's own client server can fail to start the per-client server it
    # spawns (it times out, or the process is gone before the proxy reads it: "Initialization
    # failure from server"). That is Ray's start-up, not the sweep: try again, up to three times.
    ray_startup = ("Starting Ray client server failed", "Initialization failure from server")
    for _ in range(3):
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
        if not any(m in out.stderr for m in ray_startup):
            break
    if out.returncode != 0:
        logs = sorted(Path(cluster.temp_dir).glob("session_*/logs/ray_client_server*"))
        server = "".join(f"\n--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in logs)
        pytest.fail(f"{out.stdout}{out.stderr}{server}")
    best = subprocess.run(
        [sys.executable, "-m", "hypersweep", "best", "latest", "--json", "--workspace", str(ws)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(best.stdout)["metrics"]["a"] == 3.0


def test_a_v2_sweep_file_run_with_compute_ray_makes_and_returns_output_folders(
    tmp_path, ray_address
) -> None:
    src = tmp_path / "sweep"
    src.mkdir()
    (src / "t.py").write_text(
        "import os, sys\nfrom hypersweep import Run\nassert os.path.isdir(sys.argv[2])\n"
        "open(os.path.join(sys.argv[2], 'm.txt'), 'w').write('m')\nRun.get_context().log('a', 1.0)\n"
    )
    (src / "sweep.yml").write_text(
        textwrap.dedent("""
        type: sweep
        compute: azureml:cpu-cluster
        trial: {code: ., command: "python t.py --out ${{outputs.model}} --x ${{search_space.x}}"}
        outputs: {model: {type: uri_folder}}
        search_space: {x: {type: choice, values: [1, 2]}}
        sampling_algorithm: grid
        objective: {primary_metric: a, goal: maximize}
        limits: {max_total_trials: 2, max_concurrent_trials: 2}
    """)
    )
    ws = tmp_path / "ws"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "hypersweep",
            "run",
            str(src / "sweep.yml"),
            "--workspace",
            str(ws),
            "--quiet",
            "--compute",
            "ray",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    files = sorted((ws / ".hypersweep" / "runs").glob("HD_*_*/outputs/model/m.txt"))
    assert len(files) == 2


# -- the executor on its own -------------------------------------------------------------------


def spec_for(tmp_path: Path, code: str, run_id: str = "r0") -> TrialSpec:
    src = tmp_path / f"src-{run_id}"
    src.mkdir()
    (src / "t.py").write_text(textwrap.dedent(code))
    spec = TrialSpec(
        run_id, tmp_path / "runs" / run_id, {}, argv=[sys.executable, "t.py"], source_dir=src
    )
    spec.env = {ENV_RUN_ID: run_id, ENV_EVENTS: str(spec.events_path)}
    return spec


def drain(ex, timeout: float = 60.0) -> list:
    events, deadline = [], time.monotonic() + timeout
    while ex.active() and time.monotonic() < deadline:
        events += ex.poll(0.1)
    assert not ex.active(), "trials did not end in time"
    return events


@needs_ray
def test_stop_kills_a_script_that_ignores_sigterm_and_its_children(tmp_path, ray_address) -> None:
    from hypersweep.executors.ray import RayExecutor

    code = """
        import os, signal, subprocess, sys, time
        from hypersweep import Run
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, '-c', 'import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)'])
        os.makedirs('outputs', exist_ok=True)
        open('outputs/pids', 'w').write('%d %d' % (os.getpid(), child.pid))
        run = Run.get_context()
        for i in range(600):
            run.log('m', i)
            time.sleep(0.1)
    """
    ex = RayExecutor(max_workers=1, grace_seconds=0.5)
    spec = spec_for(tmp_path, code)
    ex.start(spec)
    events: list = []
    latencies: list[float] = []
    deadline = time.monotonic() + 60
    while len(latencies) < 15:
        assert time.monotonic() < deadline, events
        new = ex.poll(0.1)
        now = time.time()
        latencies += [now - e.time for e in new if isinstance(e, Logged)]
        events += new
    # values logged on the worker reach the driver well within a second
    steady = sorted(latencies[5:])
    assert steady[len(steady) // 2] < 0.5, latencies
    ex.stop("r0", "policy said so")
    events += drain(ex)
    assert isinstance(events[0], RunStarted)
    end = events[-1]
    assert end == RunEnded("r0", RunStatus.CANCELED, "policy said so", end.time)
    parent, child = map(int, (spec.run_dir / "outputs" / "pids").read_text().split())
    time.sleep(0.2)
    assert not pid_alive(parent) and not pid_alive(child)
    assert (spec.run_dir / "logs" / "events.jsonl").read_text().count("\n") >= 1


@needs_ray
def test_a_worker_that_dies_fails_its_run_and_takes_the_script_along(tmp_path, ray_address) -> None:
    from hypersweep.executors.ray import RayExecutor

    code = """
        import os, signal, time
        os.makedirs('outputs', exist_ok=True)
        with open('/tmp/' + os.environ['HYPERSWEEP_RUN_ID'] + '.pid', 'w') as f:
            f.write(str(os.getpid()))
        time.sleep(0.5)
        os.kill(os.getppid(), signal.SIGKILL)  # the Ray worker running this trial dies
        time.sleep(120)
    """
    run_id = f"hypersweep-ray-test-{os.getpid()}"
    ex = RayExecutor(max_workers=2)
    ex.start(spec_for(tmp_path, code, run_id))
    ex.start(spec_for(tmp_path, "print('fine')\n", "ok"))
    events = drain(ex)
    ends = {e.run_id: e for e in events if isinstance(e, RunEnded)}
    assert ends["ok"].status is RunStatus.COMPLETED
    assert ends[run_id].status is RunStatus.FAILED
    assert "Ray" in ends[run_id].error and "lost" in ends[run_id].error
    pid_file = Path("/tmp") / f"{run_id}.pid"
    pid = int(pid_file.read_text())
    pid_file.unlink()
    (kept,) = Path(tempfile.gettempdir(), "hypersweep-ray").glob(
        f"{run_id}-*"
    )  # for a resume to collect
    shutil.rmtree(kept)
    deadline = time.monotonic() + 5
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(pid)


@needs_ray
def test_a_stopped_trial_that_waits_for_resources_is_canceled(tmp_path, ray_address) -> None:
    from hypersweep.executors.ray import RayExecutor

    ex = RayExecutor(max_workers=1)
    spec = spec_for(tmp_path, "print('never')\n")
    spec.resources = {"num_cpus": 1, "resources": {"no-such-thing": 1}}
    ex.start(spec)
    assert ex.poll(0.5) == []
    ex.stop("r0", "the sweep was canceled")
    end = drain(ex, 20)[-1]
    assert end.status is RunStatus.CANCELED and end.error == "the sweep was canceled"


@needs_ray
def test_a_lost_hub_costs_live_metrics_not_the_run(tmp_path, ray_address) -> None:
    import ray

    from hypersweep.executors.ray import RayExecutor

    code = "import time\nfrom hypersweep import Run\nr = Run.get_context()\nfor i in range(10):\n    r.log('m', i)\n    time.sleep(0.2)\n"
    ex = RayExecutor(max_workers=1)
    ex.start(spec_for(tmp_path, code))
    events: list = []
    deadline = time.monotonic() + 60
    while not any(isinstance(e, Logged) for e in events):
        assert time.monotonic() < deadline
        events += ex.poll(0.1)
    ray.kill(ex._hub)
    events += drain(ex)
    assert events[-1].status is RunStatus.COMPLETED
    values = [e.value for e in events if isinstance(e, Logged)]
    assert (
        values == sorted(values) and values[-1] == 9
    )  # what the hub had not taken came with the result


@needs_ray
def test_the_resource_request_is_what_ray_schedules(tmp_path, ray_address) -> None:
    from hypersweep.executors.ray import RayExecutor

    code = "import time\nopen('outputs/span', 'w').write('%f ' % time.time())\ntime.sleep(1)\nopen('outputs/span', 'a').write('%f' % time.time())\n"
    ex = RayExecutor(max_workers=2)
    specs = [spec_for(tmp_path, code, f"r{i}") for i in range(2)]
    for spec in specs:
        spec.resources = {"num_cpus": 2}  # the whole worker node: the two trials cannot overlap
        ex.start(spec)
    assert all(e.status is RunStatus.COMPLETED for e in drain(ex) if isinstance(e, RunEnded))
    (a0, a1), (b0, b1) = sorted(
        tuple(map(float, (s.run_dir / "outputs" / "span").read_text().split())) for s in specs
    )
    assert a1 <= b0


@needs_ray
def test_num_gpus_means_what_it_means_to_ray_and_the_run_records_the_ids(
    tmp_path, ray_address
) -> None:
    from hypersweep.executors.ray import RayExecutor

    code = "import os, time\nopen('outputs/seen', 'w').write(os.environ.get('CUDA_VISIBLE_DEVICES', '-'))\ntime.sleep(0.5)\n"
    ex = RayExecutor(max_workers=2)
    specs = [spec_for(tmp_path, code, f"r{i}") for i in range(2)]
    for spec in specs:
        spec.resources = {"num_cpus": 1, "num_gpus": 1}
        ex.start(spec)
    events = drain(ex)
    assert all(e.status is RunStatus.COMPLETED for e in events if isinstance(e, RunEnded))
    tags = {
        e.run_id: e.value
        for e in events
        if isinstance(e, Logged) and e.name == "hypersweep.devices"
    }
    seen = {s.run_id: (s.run_dir / "outputs" / "seen").read_text() for s in specs}
    assert tags == seen and sorted(seen.values()) == [
        "0",
        "1",
    ]  # each its own of the worker's two GPUs


@needs_ray
def test_shared_workspace_runs_in_the_run_folder(tmp_path, ray_address) -> None:
    from hypersweep.executors.ray import RayExecutor

    ex = RayExecutor(max_workers=1, shared_workspace=True)
    spec = spec_for(
        tmp_path, "import os\nprint(os.getcwd())\nopen('outputs/o.txt', 'w').write('x')\n"
    )
    ex.start(spec)
    assert drain(ex)[-1].status is RunStatus.COMPLETED
    assert (spec.run_dir / "logs" / "stdout.txt").read_text().strip() == str(spec.run_dir)
    assert (spec.run_dir / "outputs" / "o.txt").read_text() == "x"
    assert (spec.run_dir / "t.py").is_file()  # the snapshot was copied on the driver's side


DRIVER = """
import sys, time
from pathlib import Path
from hypersweep import Experiment, GridParameterSampling, HyperDriveConfig, ScriptRunConfig, Workspace, choice
src = Path(sys.argv[1])
config = HyperDriveConfig(
    run_config=ScriptRunConfig(source_directory=src, script="sleeper.py", compute_target="ray"),
    hyperparameter_sampling=GridParameterSampling({"x": choice(1)}),
    primary_metric_name="m", primary_metric_goal="maximize", max_total_runs=1,
)
Experiment(Workspace(sys.argv[2]), "crash").submit(config)
time.sleep(600)
"""


@needs_ray
def test_a_crashed_driver_leaves_no_trial_running_and_its_sweep_resumes(cluster, tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "sleeper.py").write_text(
        "import os, time\nfrom hypersweep import Run\nos.makedirs('outputs', exist_ok=True)\n"
        "open('outputs/pid', 'w').write(str(os.getpid()))\n"
        "for i in range(3):\n    Run.get_context().log('m', i)\ntime.sleep(600)\n"
    )
    ws = tmp_path / "ws"
    env = {**os.environ, "RAY_ADDRESS": cluster.address}
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(src), str(ws)], env=env)
    try:

        def logged_all() -> bool:
            try:
                rows = (
                    sqlite3.connect(ws / ".hypersweep" / "hypersweep.db")
                    .execute("SELECT COUNT(*) FROM metrics")
                    .fetchall()
                )
            except sqlite3.Error:
                return False
            return rows[0][0] == 3

        deadline = time.monotonic() + 60
        while not logged_all():
            assert time.monotonic() < deadline and driver.poll() is None
            time.sleep(0.1)
    finally:
        driver.kill()  # SIGKILL: no clean-up code runs in the driver
        driver.wait()
    (sweep_id,) = (
        sqlite3.connect(ws / ".hypersweep" / "hypersweep.db")
        .execute("SELECT id FROM sweeps")
        .fetchone()
    )
    (worker_folder,) = Path(tempfile.gettempdir(), "hypersweep-ray").glob(f"{sweep_id}_0-*")
    script = int((worker_folder / "outputs" / "pid").read_text())
    deadline = time.monotonic() + 30
    while pid_alive(script) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not pid_alive(
        script
    )  # Ray ends the dead driver's tasks; the script dies with its worker

    cmd = [
        sys.executable,
        "-m",
        "hypersweep",
        "resume",
        "latest",
        "--quiet",
        "--workspace",
        str(ws),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    sweep = Workspace(ws).get_run(sweep_id)
    assert sweep.get_status() == "Completed"
    (child,) = sweep.get_children()
    details = child.get_details()
    assert details["status"] == "Failed" and "nterrupted" in json.dumps(details["error"])
    assert child.get_metrics()["m"] == [0, 1, 2]
    # the worker node is this machine: the run's files were brought back and its folder removed
    assert int((run_dir(child) / "outputs" / "pid").read_text()) == script
    assert not worker_folder.exists()


# -- without Ray -----------------------------------------------------------------------------------


def test_choosing_ray_without_ray_says_how_to_install_it(tmp_path) -> None:
    code = (
        "import sys\n"
        "sys.modules['ray'] = None\n"
        "from hypersweep.executors import make_executor\n"
        "from hypersweep.errors import HypersweepError\n"
        "try:\n"
        "    make_executor('ray', 2, False)\n"
        "except HypersweepError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'hypersweep[ray]'" in out.stdout


def test_an_unreachable_cluster_fails_the_sweep_with_the_reason(tmp_path) -> None:
    # Nothing listens on port 1: Ray Client gives up after its connection timeout (about 30 s).
    src = tmp_path / "sweep"
    src.mkdir()
    (src / "t.py").write_text("print('never runs')\n")
    (src / "sweep.yml").write_text(SWEEP_YAML.format(compute="ray://127.0.0.1:1"))
    ws = tmp_path / "ws"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    cmd = [sys.executable, "-m", "hypersweep"]
    out = subprocess.run(
        [*cmd, "run", str(src / "sweep.yml"), "--workspace", str(ws), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 1
    message = " ".join(out.stderr.split())
    assert (
        "Could not connect to the Ray cluster at ray://127.0.0.1:1" in message
        and "Traceback" not in message
    )
    listing = subprocess.run(
        [*cmd, "ls", "--workspace", str(ws)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "COLUMNS": "200"},
    )
    assert (
        "Failed" in listing.stdout and "Queued" not in listing.stdout
    )  # recorded as failed, not left waiting
