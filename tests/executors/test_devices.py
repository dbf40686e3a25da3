"""Trials on the GPUs of one machine: each trial gets its own devices (fake device lists, real processes)."""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep import (
    Experiment,
    FunctionRunConfig,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    choice,
)
from hypersweep.errors import InvalidConfigError
from hypersweep.executors._devices import DevicePool, Devices, discover
from hypersweep.executors._reaper import process_reaper
from hypersweep.executors.base import Logged, RunEnded, RunStarted, TrialSpec
from hypersweep.executors.local import LocalProcessExecutor
from hypersweep.run import ENV_EVENTS, ENV_RUN_ID

pytestmark = pytest.mark.integration

#: A trial that records what it saw: its devices, its thread variables, when it started and ended.
RECORDER = """
import json, os, sys, time
start = time.time()
time.sleep(float(sys.argv[sys.argv.index("--hold") + 1]) if "--hold" in sys.argv else 0)
seen = {k: os.environ.get(k) for k in ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "OMP_NUM_THREADS",
                                       "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
seen.update(start=start, end=time.time(), run=os.environ["HYPERSWEEP_RUN_ID"])
with open(os.path.join(os.environ["RECORD_DIR"], seen["run"] + ".json"), "w") as f:
    json.dump(seen, f)
"""


@pytest.fixture
def four_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver sees four (fake) devices; no nvidia-smi on PATH to contradict them."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")
    for name in (
        "HIP_VISIBLE_DEVICES",
        "ROCR_VISIBLE_DEVICES",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
    ):
        monkeypatch.delenv(name, raising=False)


def sweep(
    workspace,
    script_dir,
    tmp_path: Path,
    n: int,
    hold: float,
    resources: dict,
    concurrent: int = 8,
    code: str = RECORDER,
    extra_env: dict | None = None,
):
    records = tmp_path / "records"
    records.mkdir(exist_ok=True)
    src = ScriptRunConfig(
        source_directory=script_dir("t.py", code),
        script="t.py",
        arguments=["--hold", hold],
        resources=resources,
        environment_variables={"RECORD_DIR": str(records), **(extra_env or {})},
    )
    config = HyperDriveConfig(
        run_config=src,
        hyperparameter_sampling=RandomParameterSampling({"x": choice(*range(n))}),
        primary_metric_name="m",
        primary_metric_goal="maximize",
        max_total_runs=n,
        max_concurrent_runs=concurrent,
    )
    started = time.monotonic()
    run = Experiment(workspace, "gpus").submit(config)
    run.wait_for_completion(timeout=120)
    wall = time.monotonic() - started
    seen = [json.loads(p.read_text()) for p in sorted(records.glob("*.json"))]
    return run, seen, wall


def overlapping(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def test_each_trial_gets_its_own_device_and_the_sweep_waits_for_them(
    workspace, script_dir, tmp_path, four_gpus, caplog
) -> None:
    hold = 1.5
    run, seen, wall = sweep(workspace, script_dir, tmp_path, 8, hold, {"num_gpus": 1})
    assert run.get_status() == "Completed"
    assert len(seen) == 8
    assert all(s["CUDA_VISIBLE_DEVICES"] in {"0", "1", "2", "3"} for s in seen)
    for i, a in enumerate(seen):
        for b in seen[i + 1 :]:
            if a["CUDA_VISIBLE_DEVICES"] == b["CUDA_VISIBLE_DEVICES"]:
                assert not overlapping(a, b), (a, b)
    # at most four at once (counted at each start)
    at_once = [sum(b["start"] <= a["start"] < b["end"] for b in seen) for a in seen]
    assert max(at_once) <= 4
    tags = {r.id: r.get_tags().get("hypersweep.devices") for r in run.get_children()}
    assert {s["run"]: s["CUDA_VISIBLE_DEVICES"] for s in seen} == tags
    details = workspace.get_run(seen[0]["run"]).get_details()
    assert details["tags"]["hypersweep.devices"] == seen[0]["CUDA_VISIBLE_DEVICES"]
    assert wall >= 2 * hold
    said = [r.getMessage() for r in caplog.records if "waits for devices" in r.getMessage()]
    assert (
        len(said) == 1
        and "4 GPUs found from CUDA_VISIBLE_DEVICES=0,1,2,3 hold 4 such trials at once" in said[0]
    )


BARRIER = """
import glob, json, os, time
records = os.environ["RECORD_DIR"]
open(os.path.join(records, os.environ["HYPERSWEEP_RUN_ID"] + ".started"), "w").close()
deadline = time.time() + 60
while len(glob.glob(os.path.join(records, "*.started"))) < 8 and time.time() < deadline:
    time.sleep(0.05)  # every trial waits here until all eight have started: they run at once, or time out
seen = {"CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"), "start": 0, "end": 0,
        "together": len(glob.glob(os.path.join(records, "*.started"))) == 8}
with open(os.path.join(records, os.environ["HYPERSWEEP_RUN_ID"] + ".json"), "w") as f:
    json.dump(seen, f)
"""


def test_fractions_share_devices(workspace, script_dir, tmp_path, four_gpus) -> None:
    run, seen, _ = sweep(workspace, script_dir, tmp_path, 8, 0, {"num_gpus": 0.5}, code=BARRIER)
    assert run.get_status() == "Completed"
    assert all(s["together"] for s in seen)  # all eight ran at once
    assert sorted(s["CUDA_VISIBLE_DEVICES"] for s in seen) == [
        "0",
        "0",
        "1",
        "1",
        "2",
        "2",
        "3",
        "3",
    ]


def test_whole_devices_above_one_and_waiting(workspace, script_dir, tmp_path, four_gpus) -> None:
    run, seen, _ = sweep(workspace, script_dir, tmp_path, 3, 0.5, {"num_gpus": 2})
    assert run.get_status() == "Completed"
    assert all(len(s["CUDA_VISIBLE_DEVICES"].split(",")) == 2 for s in seen)
    for i, a in enumerate(seen):
        for b in seen[i + 1 :]:
            if set(a["CUDA_VISIBLE_DEVICES"].split(",")) & set(
                b["CUDA_VISIBLE_DEVICES"].split(",")
            ):
                assert not overlapping(a, b)


GRANDCHILD = """
import os, subprocess, sys, time
out = os.path.join(os.environ["RECORD_DIR"], os.environ["HYPERSWEEP_RUN_ID"])
if os.environ["HYPERSWEEP_RUN_ID"].endswith("_0"):
    # leave a grandchild in its own session, running on after this process exits
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    open(out + ".grandchild", "w").write(str(child.pid))
else:
    pid = int(open(out[:-2] + "_0.grandchild").read())
    try:
        alive = open(f"/proc/{pid}/stat").read().split(") ")[1][0] != "Z"
    except OSError:
        alive = False
    open(out + ".saw", "w").write("alive" if alive else "gone")
"""


def test_a_device_is_freed_only_when_the_trials_grandchildren_have_ended(
    workspace, script_dir, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    run, _, _ = sweep(workspace, script_dir, tmp_path, 2, 0, {"num_gpus": 1}, code=GRANDCHILD)
    assert run.get_status() == "Completed"
    second = run.id + "_1"
    assert (tmp_path / "records" / f"{second}.saw").read_text() == "gone"
    assert workspace.get_run(second).get_tags()["hypersweep.devices"] == "7"


def test_executor_holds_the_device_while_a_leftover_process_lives(tmp_path, monkeypatch) -> None:
    """A setsid grandchild that lives on for a second after its leader exits keeps the device until it ends.

    The reaper's watchdog (which would kill the leftover at once) is paused, so the leftover ends by
    itself; the next trial on the device must start after that.
    """
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5")
    ex = LocalProcessExecutor(resources={"num_gpus": 1})
    leftover = textwrap.dedent("""
        import subprocess, sys
        code = "import time; time.sleep(1.0); open('outputs/leftover_end', 'w').write(repr(time.time()))"
        subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    """)
    first = "import time\nopen('outputs/start', 'w').write(repr(time.time()))\n"
    specs = []
    for i, code in enumerate((leftover, first)):
        run_dir = tmp_path / f"r{i}"
        run_dir.mkdir()
        (run_dir / "t.py").write_text(code)
        spec = TrialSpec(
            f"r{i}", run_dir, {}, argv=[sys.executable, "t.py"], resources={"num_gpus": 1}
        )
        spec.env = {ENV_RUN_ID: spec.run_id, ENV_EVENTS: str(spec.events_path)}
        specs.append(spec)
    assert ex.capacity() == 1
    ex.start(specs[0])
    assert ex.capacity() == 0
    watchdog = process_reaper()._watchdog
    assert watchdog is not None
    os.kill(watchdog.pid, signal.SIGSTOP)
    try:
        ex.start(specs[1])  # waits for the device
        events: list = []
        deadline = time.monotonic() + 60
        while ex.active() and time.monotonic() < deadline:
            events += ex.poll(0.05)
    finally:
        os.kill(watchdog.pid, signal.SIGCONT)
    kinds = [(type(e).__name__, e.run_id) for e in events if isinstance(e, (RunStarted, RunEnded))]
    assert kinds.index(("RunEnded", "r0")) < kinds.index(("RunStarted", "r1"))
    end_file = specs[0].run_dir / "outputs" / "leftover_end"
    while not end_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    leftover_end = float(end_file.read_text())
    assert float((specs[1].run_dir / "outputs" / "start").read_text()) > leftover_end
    assert [
        e.value for e in events if isinstance(e, Logged) and e.name == "hypersweep.devices"
    ] == ["5", "5"]
    assert ex.capacity() == 1


def test_a_trial_waiting_for_devices_can_be_stopped(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    ex = LocalProcessExecutor(resources={"num_gpus": 1})
    specs = []
    for i in range(2):
        run_dir = tmp_path / f"r{i}"
        run_dir.mkdir()
        (run_dir / "t.py").write_text("import time\ntime.sleep(0.5)\n")
        spec = TrialSpec(
            f"r{i}", run_dir, {}, argv=[sys.executable, "t.py"], resources={"num_gpus": 1}
        )
        spec.env = {ENV_RUN_ID: spec.run_id, ENV_EVENTS: str(spec.events_path)}
        specs.append(spec)
        ex.start(spec)
    ex.stop("r1", "no longer wanted")
    events: list = []
    deadline = time.monotonic() + 60
    while ex.active() and time.monotonic() < deadline:
        events += ex.poll(0.05)
    ends = {e.run_id: e for e in events if isinstance(e, RunEnded)}
    assert ends["r1"].status.value == "Canceled" and ends["r1"].error == "no longer wanted"
    assert ends["r0"].status.value == "Completed"
    assert not any(isinstance(e, RunStarted) and e.run_id == "r1" for e in events)


def test_too_many_devices_is_an_error_at_submission(
    workspace, script_dir, tmp_path, four_gpus
) -> None:
    src = ScriptRunConfig(
        source_directory=script_dir("t.py", "pass\n"), script="t.py", resources={"num_gpus": 8}
    )
    with pytest.raises(InvalidConfigError) as err:
        Experiment(workspace, "gpus").submit(src)
    message = str(err.value)
    assert (
        "resources['num_gpus']" in message
        and "4 GPUs" in message
        and "CUDA_VISIBLE_DEVICES=0,1,2,3" in message
    )
    assert "Got 8.0 instead" in message
    assert not list(Experiment(workspace, "gpus").get_runs())


def test_no_devices_found(workspace, script_dir, monkeypatch, tmp_path) -> None:
    for name in ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi
    src = ScriptRunConfig(
        source_directory=script_dir("t.py", "pass\n"), script="t.py", resources={"num_gpus": 1}
    )
    with pytest.raises(InvalidConfigError, match=r"0 GPUs \(found from no CUDA_VISIBLE_DEVICES"):
        Experiment(workspace, "gpus").submit(src)


@pytest.mark.parametrize(
    "value, rule",
    [
        (-1, "a number >= 0"),
        ("a", "a finite number"),
        (1.5, "a share of one GPU"),
        (float("nan"), "a finite number"),
    ],
)
def test_bad_num_gpus(script_dir, value, rule) -> None:
    with pytest.raises(InvalidConfigError) as err:
        ScriptRunConfig(
            source_directory=script_dir("t.py", "pass\n"),
            script="t.py",
            resources={"num_gpus": value},
        )
    assert "resources['num_gpus']\" parameter of ScriptRunConfig must be" in str(
        err.value
    ) and rule in str(err.value)
    with pytest.raises(InvalidConfigError, match=r"resources\['num_gpus'\].*FunctionRunConfig"):
        FunctionRunConfig(lambda cfg: 0, resources={"num_gpus": value})


@pytest.mark.parametrize("value", [0, 0.25, 0.5, 1, 2, 8])
def test_good_num_gpus(script_dir, value) -> None:
    src = ScriptRunConfig(
        source_directory=script_dir("t.py", "pass\n"), script="t.py", resources={"num_gpus": value}
    )
    assert src.resources["num_gpus"] == value


def fake_nvidia_smi(folder: Path, count: int) -> None:
    lines = "\\n".join(f"GPU {i}: Fake GPU (UUID: GPU-{i:08d}-aaaa)" for i in range(count))
    path = folder / "nvidia-smi"
    path.write_text(f"#!/bin/sh\nprintf '{lines}\\n'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_nvidia_smi_lists_the_devices_and_checks_cuda_visible_devices(
    tmp_path, monkeypatch
) -> None:
    fake_nvidia_smi(tmp_path, 2)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    env = {"PATH": os.environ["PATH"]}
    assert discover(env) == Devices(("0", "1"), "nvidia-smi -L")
    assert discover({**env, "CUDA_VISIBLE_DEVICES": "1,GPU-00000000"}).ids == ("1", "GPU-00000000")
    with pytest.raises(InvalidConfigError) as err:
        discover({**env, "CUDA_VISIBLE_DEVICES": "0,3"})
    assert "'CUDA_VISIBLE_DEVICES' parameter of the environment" in str(err.value)
    assert "indexes 0, 1" in str(err.value) and "Got '0,3' instead" in str(err.value)


def test_discovery_without_nvidia_smi(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert discover({}).ids == ()
    assert discover({"CUDA_VISIBLE_DEVICES": ""}).ids == ()
    assert discover({"CUDA_VISIBLE_DEVICES": "-1"}).ids == ()
    rocm = discover({"HIP_VISIBLE_DEVICES": "0,1"})
    assert rocm.ids == ("0", "1") and rocm.rocm
    assert rocm.variables(["1"]) == {"CUDA_VISIBLE_DEVICES": "1", "HIP_VISIBLE_DEVICES": "1"}
    rocr = discover({"ROCR_VISIBLE_DEVICES": "2,3"})
    assert (
        rocr.ids == ("2", "3")
        and rocr.rocm
        and rocr.variables(["3"]) == {"ROCR_VISIBLE_DEVICES": "3"}
    )
    assert (
        discover({"CUDA_VISIBLE_DEVICES": "1", "HIP_VISIBLE_DEVICES": "0"}).variable
        == "CUDA_VISIBLE_DEVICES"
    )
    with pytest.raises(InvalidConfigError, match="distinct"):
        discover({"CUDA_VISIBLE_DEVICES": "0,0"})


def test_pool_spreads_shares_and_counts_exactly() -> None:
    pool = DevicePool(Devices(("0", "1"), "test"))
    assert pool.fits(0.1) == 20
    assert [pool.acquire(f"t{i}", 0.5) for i in range(4)] == [["0"], ["1"], ["0"], ["1"]]
    assert pool.acquire("t4", 0.5) is None
    pool.release("t0")
    assert pool.fits(1) == 0 and pool.fits(0.5) == 1
    pool.release("t2")
    assert pool.acquire("whole", 1) == ["0"]


def test_pools_of_two_processes_share_the_devices_through_the_ledger(tmp_path) -> None:
    devices = Devices(("0", "1"), "test")
    mine, theirs = DevicePool(devices, tmp_path), DevicePool(devices, tmp_path)
    assert mine.acquire("a", 1) == ["0"]
    assert theirs.fits(1) == 1 and theirs.acquire("b", 1) == ["1"]
    assert mine.fits(0.5) == 0 and mine.acquire("c", 0.1) is None
    mine.release("a")
    assert theirs.fits(1) == 1 and theirs.fits(0.5) == 2
    assert DevicePool(Devices(("1", "2"), "test"), tmp_path).fits(1) == 1  # only "1" is taken


HOLDER = """
import sys, time
from pathlib import Path
from hypersweep.executors._devices import DevicePool, Devices
pool = DevicePool(Devices(("0", "1"), "test"), Path(sys.argv[1]))
print(pool.acquire("t", float(sys.argv[2])), flush=True)
time.sleep(120)
"""


def test_a_lease_counts_while_its_process_lives_and_not_after_kill_9(tmp_path) -> None:
    import signal
    import subprocess
    import sys

    ledger = tmp_path / "ledger"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(ledger), "1.5"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "['0', '1']"
        pool = DevicePool(Devices(("0", "1"), "test"), ledger)
        assert pool.fits(0.1) == 0 and pool.acquire("mine", 1) is None
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=30)
    assert pool.fits(1) == 2 and pool.acquire("mine", 2) == ["0", "1"]
    assert len(list(ledger.glob("*.lease"))) == 1  # the dead process's lease is gone, ours is there
    pool.release("mine")
    assert not list(ledger.glob("*.lease"))


TWO_SWEEPS = """
import sys
from hypersweep import Experiment, HyperDriveConfig, RandomParameterSampling, ScriptRunConfig, Workspace, choice
src = ScriptRunConfig(source_directory=sys.argv[2], script="t.py", arguments=["--hold", 1.5],
                      resources={"num_gpus": 1}, environment_variables={"RECORD_DIR": sys.argv[3]})
config = HyperDriveConfig(run_config=src, hyperparameter_sampling=RandomParameterSampling({"x": choice(0, 1)}),
                          primary_metric_name="m", primary_metric_goal="maximize", max_total_runs=2,
                          max_concurrent_runs=2)
run = Experiment(Workspace(sys.argv[1]), "gpus").submit(config)
run.wait_for_completion(timeout=120)
print(run.get_status())
"""


def test_two_sweeps_in_two_processes_never_share_a_whole_device(
    script_dir, tmp_path, monkeypatch
) -> None:
    import os
    import subprocess
    import sys

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    source = script_dir("t.py", RECORDER)
    records = tmp_path / "records"
    records.mkdir()
    drivers = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_SWEEPS, str(tmp_path / f"ws{k}"), str(source), str(records)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PATH": os.environ.get("PATH", "")},
        )
        for k in range(2)
    ]
    outputs = [d.communicate(timeout=240) for d in drivers]
    assert [out.strip() for out, _ in outputs] == ["Completed", "Completed"], outputs
    seen = [json.loads(p.read_text()) for p in sorted(records.glob("*.json"))]
    assert len(seen) == 4 and all(s["CUDA_VISIBLE_DEVICES"] == "0" for s in seen)
    for i, a in enumerate(seen):
        for b in seen[i + 1 :]:
            assert not overlapping(a, b), (a, b)  # one device, four trials: one at a time


def test_num_cpus_sets_thread_variables(workspace, script_dir, tmp_path, monkeypatch) -> None:
    for name in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "CUDA_VISIBLE_DEVICES",
    ):
        monkeypatch.delenv(name, raising=False)
    run, seen, _ = sweep(
        workspace, script_dir, tmp_path, 2, 0, {"num_cpus": 2}, extra_env={"MKL_NUM_THREADS": "3"}
    )
    assert run.get_status() == "Completed"
    for s in seen:
        assert (s["OMP_NUM_THREADS"], s["MKL_NUM_THREADS"], s["OPENBLAS_NUM_THREADS"]) == (
            "2",
            "3",
            "2",
        )
        assert s["CUDA_VISIBLE_DEVICES"] is None


def test_no_gpu_request_changes_nothing(
    workspace, script_dir, tmp_path, monkeypatch, recwarn, caplog
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    run, seen, _ = sweep(workspace, script_dir, tmp_path, 2, 0, {})
    assert run.get_status() == "Completed"
    assert all(s["CUDA_VISIBLE_DEVICES"] == "0,1" and s["OMP_NUM_THREADS"] is None for s in seen)
    assert all("hypersweep.devices" not in r.get_tags() for r in run.get_children())
    assert not [w for w in recwarn if "GPU" in str(w.message)]
    assert not [r for r in caplog.records if "devices" in r.getMessage()]


def test_a_device_nvidia_smi_does_not_list_is_an_error_at_submission(
    workspace, script_dir, tmp_path, monkeypatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_nvidia_smi(bin_dir, 1)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    src = ScriptRunConfig(
        source_directory=script_dir("t.py", "pass\n"), script="t.py", resources={"num_gpus": 1}
    )
    with pytest.raises(
        InvalidConfigError,
        match=r"'CUDA_VISIBLE_DEVICES' parameter of the environment.*indexes 0\b",
    ):
        Experiment(workspace, "gpus").submit(src)


def test_callables_in_threads_are_told_they_share_the_devices(workspace, four_gpus) -> None:
    spans: dict[str, tuple[float, float, str]] = {}

    def trial(cfg: dict) -> float:
        from hypersweep import Run

        run = Run.get_context()
        start = time.time()
        time.sleep(0.5)
        spans[run.id] = (start, time.time(), run.get_tags()["hypersweep.devices"])
        return 1.0

    rc = FunctionRunConfig(trial, resources={"num_gpus": 2})
    config = HyperDriveConfig(
        run_config=rc,
        hyperparameter_sampling=RandomParameterSampling({"x": choice(*range(4))}),
        primary_metric_name="m",
        primary_metric_goal="maximize",
        max_total_runs=4,
        max_concurrent_runs=4,
    )
    with pytest.warns(UserWarning, match="share every GPU.*ScriptRunConfig.*compute_target='ray'"):
        run = Experiment(workspace, "gpus").submit(config)
    run.wait_for_completion(timeout=60)
    assert run.get_status() == "Completed" and len(spans) == 4
    for a, sa in spans.items():
        assert len(sa[2].split(",")) == 2
        for b, sb in spans.items():
            if a != b and set(sa[2].split(",")) & set(sb[2].split(",")):
                assert not (sa[0] < sb[1] and sb[0] < sa[1])
    assert {r.id: r.get_tags()["hypersweep.devices"] for r in run.get_children()} == {
        k: v[2] for k, v in spans.items()
    }


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 8),
    st.sampled_from([0.1, 0.25, 0.3, 0.5, 1, 2, 3]),
    st.lists(st.tuples(st.booleans(), st.integers(0, 15)), max_size=60),
)
def test_pool_never_gives_more_than_a_device_holds(count: int, share: float, steps: list) -> None:
    pool = DevicePool(Devices(tuple(str(i) for i in range(count)), "fuzz"))
    held: dict[str, list[str]] = {}
    for take, n in steps:
        key = f"t{n}"
        if take and key not in held:
            room = pool.fits(share)
            ids = pool.acquire(key, share)
            assert (ids is None) == (room == 0)
            if ids is not None:
                held[key] = ids
                assert len(ids) == (1 if share <= 1 else int(share)) and len(set(ids)) == len(ids)
        elif not take and key in held:
            pool.release(key)
            del held[key]
        load = {d: 0.0 for d in pool.devices.ids}
        for ids in held.values():
            for d in ids:
                load[d] += min(share, 1)
        assert all(v <= 1 + 1e-9 for v in load.values())
    for key in list(held):
        pool.release(key)
    assert pool.used == [0] * count and pool.fits(share) == pool.at_most(share)
