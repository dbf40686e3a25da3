"""One contract, every executor: the same cases against Local, Thread, Ray (scripts and callables) and the scripted fake.

Each backend turns a behaviour ("ok", "fail", "forever", "stubborn", "span") into a trial of its
kind: a script for Local and Ray scripts, a callable for Thread and Ray callables, a list of steps
for the scripted executor. The cases then ask the same of all: a trial that succeeds logs its
metrics in order between RunStarted and RunEnded; a failure keeps its message; a stop ends it
Canceled with the first reason; a trial that ignores the stop is ended by the deadline; no more
than ``max_workers`` trials ever run at once; and every process a trial started has ended with it.
Ray's backends share one local cluster for the module.
"""

from __future__ import annotations

import inspect
import os
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ray_cluster import HAVE_RAY, LocalRayCluster, pid_alive
from scripted import Script, ScriptedExecutor, forever

from hypersweep.executors.base import Event, Executor, Logged, RunEnded, RunStarted, TrialSpec
from hypersweep.executors.local import LocalProcessExecutor
from hypersweep.executors.threads import ThreadExecutor
from hypersweep.run import ENV_EVENTS, ENV_RUN_ID
from hypersweep.status import RunStatus

pytestmark = pytest.mark.timeout(240)

SCRIPTS = {
    "ok": "from hypersweep import Run\nr = Run.get_context()\nfor i in range(3): r.log('m', float(i))\n",
    "fail": "raise RuntimeError('boom in training')\n",
    "forever": (
        "import os, subprocess, sys, time\nfrom hypersweep import Run\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        "os.makedirs('outputs', exist_ok=True)\n"
        "open('outputs/pids', 'w').write('%d %d' % (os.getpid(), child.pid))\n"
        "r = Run.get_context()\nfor i in range(1200):\n    r.log('m', float(i))\n    time.sleep(0.05)\n"
    ),
    "stubborn": (
        "import os, signal, subprocess, sys, time\nfrom hypersweep import Run\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)'])\n"
        "os.makedirs('outputs', exist_ok=True)\n"
        "open('outputs/pids', 'w').write('%d %d' % (os.getpid(), child.pid))\n"
        "Run.get_context().log('m', 0.0)\ntime.sleep(120)\n"
    ),
    "span": (
        "import os, time\nos.makedirs('outputs', exist_ok=True)\nstart = time.time()\n"
        "exec(os.environ['MEET_SOURCE'])\n"
        f"meet(os.environ['MEET_FOLDER'], os.environ[{ENV_RUN_ID!r}])\n"
        "open('outputs/span', 'w').write('%f %f' % (start, time.time()))\n"
    ),
}


def meet(folder: str, run_id: str, timeout: float = 30.0) -> None:
    """A span's middle: say it has started, then wait until a second span has, and a little more.

    Two trials allowed to run together therefore overlap however slowly each one starts (a fixed
    sleep does not: on a loaded machine Ray can start the second script after the first has
    ended). One running alone waits out ``timeout`` and still ends.
    """
    import os
    import time

    os.makedirs(folder, exist_ok=True)
    open(os.path.join(folder, run_id), "w").close()
    deadline = time.monotonic() + timeout
    while len(os.listdir(folder)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)


# -- the callables (module level: Ray pickles them by value) ---------------------------------------


def ok_trial(config: dict[str, Any]) -> None:
    from hypersweep import Run

    run = Run.get_context()
    for i in range(3):
        run.log("m", float(i))


def fail_trial(config: dict[str, Any]) -> None:
    raise RuntimeError("boom in training")


def forever_trial(config: dict[str, Any]) -> None:
    from hypersweep import Run

    run = Run.get_context()
    for i in range(1200):
        run.log("m", float(i))
        time.sleep(0.05)


def stubborn_trial(config: dict[str, Any]) -> None:
    from hypersweep import Run

    Run.get_context().log("m", 0.0)
    time.sleep(3)  # never logs again: only the deadline ends it


def span_trial(config: dict[str, Any]) -> None:
    start = time.time()
    meet(config["meet"], config["run_id"])
    Path(config["out"], "span").write_text(f"{start} {time.time()}")


CALLABLES: dict[str, Callable[[dict[str, Any]], None]] = {
    "ok": ok_trial,
    "fail": fail_trial,
    "forever": forever_trial,
    "stubborn": stubborn_trial,
    "span": span_trial,
}
STEPS: dict[str, Callable[[], Script]] = {
    "ok": lambda: Script([("log", "m", 0.0), ("log", "m", 1.0), ("log", "m", 2.0)]),
    "fail": lambda: Script([("tick",), ("fail", "RuntimeError: boom in training")]),
    "forever": forever,
    "stubborn": lambda: Script([("stubborn",), ("log", "m", 0.0)]),
    "span": lambda: Script([("tick",)] * 4),
}


# -- the backends ------------------------------------------------------------------------------------


@dataclass
class Backend:
    """Makes one kind of executor and the trials it runs."""

    name: str
    make: Callable[[int | None], Executor]
    kind: str  # "script", "callable" or "steps"
    root: Path

    def spec(self, run_id: str, behaviour: str) -> TrialSpec:
        run_dir = self.root / "runs" / run_id
        if self.kind == "steps":
            return TrialSpec(run_id, run_dir, {}, function=STEPS[behaviour]())
        if self.kind == "callable":
            (run_dir / "outputs").mkdir(parents=True, exist_ok=True)
            return TrialSpec(
                run_id,
                run_dir,
                {"out": str(run_dir / "outputs"), "meet": self.meet_folder, "run_id": run_id},
                function=CALLABLES[behaviour],
                primary_metric="m",
            )
        src = self.root / f"src-{run_id}"
        src.mkdir(parents=True)
        (src / "t.py").write_text(textwrap.dedent(SCRIPTS[behaviour]))
        spec = TrialSpec(
            run_id,
            run_dir,
            {},
            argv=[sys.executable, "t.py"],
            source_dir=src,
            resources={"num_cpus": 0.25},
        )
        spec.env = {
            ENV_RUN_ID: run_id,
            ENV_EVENTS: str(spec.events_path),
            "MEET_FOLDER": self.meet_folder,
            "MEET_SOURCE": textwrap.dedent(inspect.getsource(meet)),
        }
        return spec

    @property
    def meet_folder(self) -> str:
        """Where span trials mark that they have started (see :func:`meet`)."""
        return str(self.root / "met")

    def pids(self, spec: TrialSpec) -> list[int]:
        """The processes a script trial wrote down (its own and its child's)."""
        path = spec.run_dir / "outputs" / "pids"
        return (
            [int(p) for p in path.read_text().split()]
            if self.kind == "script" and path.exists()
            else []
        )

    def most_at_once(self, ex: Executor, specs: list[TrialSpec]) -> int:
        """The most trials that ran at once, from the spans they wrote (the fake counts its own)."""
        if isinstance(ex, ScriptedExecutor):
            return ex.most_running
        spans = [
            tuple(map(float, (s.run_dir / "outputs" / "span").read_text().split())) for s in specs
        ]
        return max(sum(1 for a, b in spans if a <= t < b) for t, _ in spans)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[LocalRayCluster]:
    if not HAVE_RAY:
        pytest.skip("Ray is not installed (pip install 'hypersweep[ray]')")
    cluster = LocalRayCluster(worker_cpus=4).start()
    saved = os.environ.get("RAY_ADDRESS")
    os.environ["RAY_ADDRESS"] = cluster.address
    try:
        yield cluster
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        if saved is None:
            os.environ.pop("RAY_ADDRESS", None)
        else:
            os.environ["RAY_ADDRESS"] = saved
        cluster.stop()
        assert not cluster.processes(), "Ray processes were left behind"


BACKENDS = [
    pytest.param("scripted", id="scripted"),
    pytest.param("local", id="local", marks=pytest.mark.integration),
    pytest.param("thread", id="thread"),
    pytest.param("ray-script", id="ray-script", marks=[pytest.mark.ray, pytest.mark.integration]),
    pytest.param(
        "ray-callable", id="ray-callable", marks=[pytest.mark.ray, pytest.mark.integration]
    ),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    name = request.param
    if name == "scripted":
        return Backend(name, lambda n: ScriptedExecutor(max_workers=n), "steps", tmp_path)
    if name == "local":
        return Backend(
            name,
            lambda n: LocalProcessExecutor(grace_seconds=0.5, max_workers=n),
            "script",
            tmp_path,
        )
    if name == "thread":
        return Backend(name, lambda n: ThreadExecutor(n or 100), "callable", tmp_path)
    request.getfixturevalue("ray_cluster")
    from hypersweep.executors.ray import RayExecutor

    kind = "script" if name == "ray-script" else "callable"
    return Backend(
        name, lambda n: RayExecutor(max_workers=n or 100, grace_seconds=0.5), kind, tmp_path
    )


@pytest.fixture
def executors() -> Iterator[list[Executor]]:
    """Executors made by a case; whatever they still run is shut down at its end."""
    made: list[Executor] = []
    yield made
    for ex in made:
        ex.shutdown("test ended", wait_seconds=10)


def make(backend: Backend, executors: list[Executor], max_workers: int | None = None) -> Executor:
    ex = backend.make(max_workers)
    executors.append(ex)
    return ex


def drain(ex: Executor, timeout: float = 60.0) -> list[Event]:
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while ex.active() and time.monotonic() < deadline:
        events += ex.poll(0.05)
    assert not ex.active(), f"trials did not end within {timeout} s: {events}"
    return events


def until_logged(ex: Executor, run_id: str, timeout: float = 60.0) -> list[Event]:
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while not any(isinstance(e, Logged) and e.run_id == run_id for e in events):
        assert time.monotonic() < deadline, f"{run_id} logged nothing within {timeout} s: {events}"
        events += ex.poll(0.05)
    return events


def of(events: list[Event], run_id: str) -> list[Event]:
    return [e for e in events if e.run_id == run_id]


def assert_gone(pids: list[int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if pid_alive(p)], "processes outlived their trial"


# -- the cases ---------------------------------------------------------------------------------------


def test_a_trial_that_succeeds_logs_its_metrics_in_order(backend, executors) -> None:
    ex = make(backend, executors)
    ex.start(backend.spec("r0", "ok"))
    assert ex.active() == 1 and ex.running_ids() == ["r0"]
    events = of(drain(ex), "r0")
    assert isinstance(events[0], RunStarted)
    assert [(e.name, e.value) for e in events if isinstance(e, Logged)] == [
        ("m", 0.0),
        ("m", 1.0),
        ("m", 2.0),
    ]
    assert events[-1] == RunEnded("r0", RunStatus.COMPLETED, None, events[-1].time)
    assert ex.running_ids() == [] and ex.active() == 0


def test_a_trial_that_fails_ends_failed_with_its_message(backend, executors) -> None:
    ex = make(backend, executors)
    ex.start(backend.spec("r0", "fail"))
    ex.start(backend.spec("r1", "ok"))
    events = drain(ex)
    ends = {e.run_id: e for e in events if isinstance(e, RunEnded)}
    assert ends["r0"].status is RunStatus.FAILED and "boom in training" in (ends["r0"].error or "")
    assert ends["r1"].status is RunStatus.COMPLETED  # one failure fails one run


def test_a_stopped_trial_ends_canceled_with_the_first_reason_and_leaves_nothing(
    backend, executors
) -> None:
    ex = make(backend, executors)
    spec = backend.spec("r0", "forever")
    ex.start(spec)
    events = until_logged(ex, "r0")
    ex.stop("r0", "policy said so")
    ex.stop("r0", "a second reason")  # the first one stands
    ex.stop("nobody", "no such run")  # ignored
    events += drain(ex)
    end = of(events, "r0")[-1]
    assert end == RunEnded("r0", RunStatus.CANCELED, "policy said so", end.time)
    assert [type(e) for e in events].count(RunEnded) == 1
    assert_gone(backend.pids(spec))
    ex.stop("r0", "after its end")  # ignored too
    assert ex.poll(0) == [] and not ex.active()


def test_a_trial_that_ignores_the_stop_is_ended_by_the_deadline(backend, executors) -> None:
    ex = make(backend, executors)
    spec = backend.spec("r0", "stubborn")
    ex.start(spec)
    until_logged(ex, "r0")
    if backend.kind == "script":  # SIGTERM is ignored: SIGKILL after the grace period ends it
        ex.stop("r0", "over its time")
        end = of(drain(ex), "r0")[-1]
        assert end == RunEnded("r0", RunStatus.CANCELED, "over its time", end.time)
        assert_gone(backend.pids(spec))
    else:  # a callable that never logs again cannot be interrupted: the executor gives up on it
        events = ex.shutdown("over its time", wait_seconds=0.5)
        end = of(events, "r0")[-1]
        assert isinstance(end, RunEnded) and end.status is RunStatus.CANCELED
        assert end.error == "over its time (the trial did not stop within 0.5 s and was abandoned)"
        assert ex.running_ids() == [] and ex.active() == 0


def test_max_workers_is_never_exceeded_and_the_others_wait(backend, executors) -> None:
    ex = make(backend, executors, max_workers=2)
    specs = [backend.spec(f"r{i}", "span") for i in range(4)]
    for spec in specs:
        ex.start(spec)
    assert ex.active() == 4 and ex.capacity() == 0
    events = drain(ex)
    assert {
        e.run_id for e in events if isinstance(e, RunEnded) and e.status is RunStatus.COMPLETED
    } == {s.run_id for s in specs}
    assert backend.most_at_once(ex, specs) == 2
    assert ex.capacity() == 2


def test_capacity_honours_max_concurrent_runs_under_every_other_limit(backend, executors) -> None:
    ex = make(backend, executors, max_workers=3)
    ex.limit_concurrent_runs(2)  # what the controller tells it, once
    assert ex.capacity() == 2  # the sweep's limit is the tighter one
    specs = [backend.spec(f"r{i}", "span") for i in range(2)]
    for spec in specs:
        ex.start(spec)
    assert ex.active() == 2 and ex.capacity() == 0
    drain(ex)
    assert ex.active() == 0 and ex.capacity() == 2
    ex.limit_concurrent_runs(5)  # looser than max_workers: max_workers is what is left
    assert ex.capacity() == 3
    ex.limit_concurrent_runs(None)
    assert ex.capacity() == 3


def test_a_waiting_trial_that_is_stopped_ends_at_once_and_never_starts(backend, executors) -> None:
    ex = make(backend, executors, max_workers=1)
    ex.start(backend.spec("r0", "forever"))
    ex.start(backend.spec("r1", "ok"))  # waits for room
    assert ex.running_ids() == ["r0", "r1"]
    ex.stop("r1", "no longer wanted")
    events = ex.poll(0)
    assert (
        RunEnded("r1", RunStatus.CANCELED, "no longer wanted", of(events, "r1")[-1].time) in events
    )
    ex.stop("r0", "done")
    events += drain(ex)
    assert not [e for e in events if isinstance(e, RunStarted) and e.run_id == "r1"]
    assert of(events, "r0")[-1].status is RunStatus.CANCELED


def test_shutdown_stops_everything_and_reports_each_end(backend, executors) -> None:
    ex = make(backend, executors)
    specs = [backend.spec(f"r{i}", "forever") for i in range(2)]
    for spec in specs:
        ex.start(spec)
    events = until_logged(ex, "r0") + until_logged(ex, "r1")
    events += ex.shutdown("sweep ended", wait_seconds=30)
    ends = {e.run_id: e for e in events if isinstance(e, RunEnded)}
    assert {r: (e.status, e.error) for r, e in ends.items()} == {
        "r0": (RunStatus.CANCELED, "sweep ended"),
        "r1": (RunStatus.CANCELED, "sweep ended"),
    }
    assert not ex.active()
    for spec in specs:
        assert_gone(backend.pids(spec))


# -- the scripted executor drives the real controller --------------------------------------------


def test_the_scripted_executor_runs_a_sweep_in_the_controller() -> None:
    """The base's books hold for the fake too: a stopped script ends Canceled, time is polls."""
    ex = ScriptedExecutor(max_workers=3)
    for i in range(5):
        ex.start(
            TrialSpec(f"r{i}", Path("unused"), {}, function=forever() if i == 0 else STEPS["ok"]())
        )
    events: list[Event] = []
    while ex.active():
        events += ex.poll(0)
        if ex.clock == 2:
            ex.stop("r0", "enough")
    ends = {e.run_id: e.status for e in events if isinstance(e, RunEnded)}
    assert ends == {"r0": RunStatus.CANCELED, **{f"r{i}": RunStatus.COMPLETED for i in range(1, 5)}}
    assert ex.most_running == 3 and ex.clock < 20


def test_the_scripted_executor_drives_a_real_sweep_in_milliseconds(tmp_path) -> None:
    """The real controller, store and policy, with the fake under them: the bad runs are stopped by the policy."""
    from hypersweep import BanditPolicy, GridParameterSampling, PrimaryMetricGoal, choice
    from hypersweep.controller import SweepController, SweepPlan
    from hypersweep.store import Store

    qualities = [0.9, 0.1, 0.8, 0.2]
    store = Store(tmp_path / "hypersweep.db")
    store.create_sweep(
        "HD_fake",
        "e",
        {
            "primary_metric": {"name": "acc", "goal": "maximize"},
            "max_total_runs": 4,
            "max_concurrent_runs": 4,
        },
        {},
    )
    plan = SweepPlan(
        sweep_id="HD_fake",
        sampling=GridParameterSampling({"q": choice(*qualities)}),
        policy=BanditPolicy(evaluation_interval=1, slack_amount=0.2, delay_evaluation=2),
        goal=PrimaryMetricGoal.MAXIMIZE,
        primary_metric="acc",
        max_total_runs=4,
        max_concurrent_runs=4,
        max_duration_seconds=600.0,
        trial_timeout=None,
        runs_dir=tmp_path / "runs",
    )

    def factory(run_id: str, number: int, config: dict, run_dir: Path, resume_from: str | None):
        steps = [("log", "acc", config["q"] * (1 - 0.5**epoch)) for epoch in range(1, 11)]
        return TrialSpec(run_id, run_dir, config, function=Script(steps), primary_metric="acc"), []

    ex = ScriptedExecutor(max_workers=4)
    started = time.monotonic()
    assert SweepController(store, plan, ex, factory, poll_interval=0.0).run() is RunStatus.COMPLETED
    assert time.monotonic() - started < 30
    rows = {json_q(r["hyperparameters"]): (r["status"], r["reason"]) for r in store.runs("HD_fake")}
    assert rows[0.9] == ("Completed", None) and rows[0.8] == ("Completed", None)
    for q in (0.1, 0.2):
        assert rows[q][0] == "Canceled" and rows[q][1].startswith("Bandit"), rows
    assert ex.most_running == 4
    store.close()


def json_q(hyperparameters: dict[str, float]) -> float:
    return float(hyperparameters["q"])
