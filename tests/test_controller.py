"""The sweep loop, driven through callable trials (fast, in-process)."""

from __future__ import annotations

import json
import math
import re
import threading
import time

import pytest

from hypersweep import (
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    MedianStoppingPolicy,
    PrimaryMetricGoal,
    RandomParameterSampling,
    Run,
    choice,
    uniform,
)
from hypersweep._launch import create_sweep
from hypersweep.policy.base import CONTINUE
from hypersweep.status import RunStatus
from hypersweep.store import Store


@pytest.fixture
def workspace(workspace):
    """The workspace, its database in memory: these tests read their results in this process only."""
    workspace._store = Store.in_memory()
    return workspace


def config(fn, sampling=None, **kw):
    kw.setdefault("max_total_runs", 10)
    kw.setdefault("max_concurrent_runs", 3)
    return HyperDriveConfig(
        run_config=fn,
        hyperparameter_sampling=sampling
        or RandomParameterSampling({"x": uniform(0, 1)}, {"seed": 0}),
        primary_metric_name="score",
        primary_metric_goal=kw.pop("goal", PrimaryMetricGoal.MAXIMIZE),
        **kw,
    )


def submit(workspace, cfg, name="exp"):
    run = Experiment(workspace, name).submit(cfg)
    run.wait_for_completion(raise_on_error=False)
    return run


def test_total_and_concurrency_limits_hold(workspace) -> None:
    lock, state = threading.Lock(), {"now": 0, "peak": 0}

    def trial(cfg):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return cfg["x"]

    run = submit(workspace, config(trial, max_total_runs=17, max_concurrent_runs=4))
    children = run.get_children()
    assert len(children) == 17
    assert state["peak"] <= 4
    assert run.get_status() == "Completed"
    assert re.fullmatch(r"HD_[0-9a-f-]{36}", run.id)
    assert [c.id for c in children] == [f"{run.id}_{n}" for n in range(17)]
    assert all(c.get_status() == "Completed" for c in children)


def test_grid_ends_when_exhausted_in_odometer_order(workspace) -> None:
    grid = GridParameterSampling({"--lr": choice(0.01, 0.1, 1.0), "--n": choice(10, 100)})
    run = submit(
        workspace,
        config(lambda cfg: cfg["lr"] * cfg["n"], grid, max_total_runs=20, max_concurrent_runs=2),
    )
    hyper = [json.loads(v) for v in run.get_hyperparameters().values()]
    assert hyper == [{"--lr": lr, "--n": n} for lr in (0.01, 0.1, 1.0) for n in (10, 100)]
    assert run.get_status() == "Completed"


def test_failures_do_not_stop_the_sweep_and_best_ignores_runs_without_metric(workspace) -> None:
    def trial(cfg):
        run = Run.get_context()
        if cfg["x"] < 0.3:
            raise ValueError("bad x")
        if cfg["x"] < 0.5:
            run.log("other", 1)
            return None  # never logs the primary metric
        if cfg["x"] < 0.6:
            run.log("score", float("nan"))
            return None
        run.log("score", cfg["x"])
        return None

    run = submit(workspace, config(trial, max_total_runs=30, max_concurrent_runs=5))
    rows = {c.id: c.get_details() for c in run.get_children()}
    statuses = {d["status"] for d in rows.values()}
    assert statuses == {"Completed", "Failed"}
    failed = [d for d in rows.values() if d["status"] == "Failed"]
    assert all("ValueError: bad x" in d["error"]["message"] for d in failed)
    best = run.get_best_run_by_primary_metric()
    xs = {k: json.loads(v)["x"] for k, v in run.get_hyperparameters().items()}
    assert xs[best.id] == max(xs.values())
    ranked = run.get_children_sorted_by_primary_metric()
    with_metric = [e for e in ranked if e["best_primary_metric"] is not None]
    assert [e["best_primary_metric"] for e in with_metric] == sorted(
        (x for x in xs.values() if x >= 0.6), reverse=True
    )
    assert len(ranked) == 30
    assert len(run.get_children_sorted_by_primary_metric(discard_no_metric=True)) == len(
        with_metric
    )
    assert run.get_children_sorted_by_primary_metric(top=2) == ranked[:2]
    worst_first = run.get_children_sorted_by_primary_metric(reverse=True, discard_no_metric=True)
    assert worst_first == list(reversed(with_metric))
    nan_runs = [k for k, x in xs.items() if 0.5 <= x < 0.6]
    for rid in nan_runs:
        assert math.isnan(run.get_metrics()[rid]["score"])


def test_minimize_goal_picks_the_smallest_best_value(workspace) -> None:
    def trial(cfg):
        run = Run.get_context()
        for v in (cfg["x"] + 1, cfg["x"], cfg["x"] + 2):
            run.log("score", v)

    run = submit(workspace, config(trial, goal="minimize", max_total_runs=8))
    best = run.get_best_run_by_primary_metric()
    xs = {k: json.loads(v)["x"] for k, v in run.get_hyperparameters().items()}
    assert xs[best.id] == min(xs.values())
    assert run.get_children_sorted_by_primary_metric(top=1)[0][
        "best_primary_metric"
    ] == pytest.approx(min(xs.values()))
    assert best.get_metrics()["score"] == pytest.approx(
        [xs[best.id] + 1, xs[best.id], xs[best.id] + 2]
    )


def test_best_run_is_none_when_nobody_logged_the_metric(workspace) -> None:
    run = submit(workspace, config(lambda cfg: None, max_total_runs=3))
    assert run.get_best_run_by_primary_metric() is None


def test_max_duration_cancels_running_runs(workspace) -> None:
    def trial(cfg):
        run = Run.get_context()
        for i in range(10_000):
            run.log("score", i)
            time.sleep(0.01)

    start = time.monotonic()
    run = submit(
        workspace, config(trial, max_total_runs=6, max_concurrent_runs=2, max_duration_minutes=0.02)
    )
    assert time.monotonic() - start < 10
    assert run.get_status() == "Canceled"
    details = [c.get_details() for c in run.get_children()]
    assert {d["status"] for d in details} == {"Canceled"}
    assert all("max_duration_minutes" in d["canceledReason"] for d in details)
    assert all(len(c.get_metrics()["score"]) > 1 for c in run.get_children())  # metrics kept


def test_cancel_from_the_api_stops_the_sweep(workspace) -> None:
    def trial(cfg):
        run = Run.get_context()
        while True:
            run.log("score", cfg["x"])
            time.sleep(0.01)

    run = Experiment(workspace, "exp").submit(
        config(trial, max_total_runs=5, max_concurrent_runs=2)
    )
    time.sleep(0.3)
    assert run.cancel() is True
    run.wait_for_completion(raise_on_error=False)
    assert run.get_status() == "Canceled"
    assert {c.get_status() for c in run.get_children()} == {"Canceled"}
    assert run.cancel() is False


def test_callable_output_is_captured_per_run(workspace) -> None:
    def trial(cfg):
        print("value", cfg["x"])
        return cfg["x"]

    run = submit(workspace, config(trial, max_total_runs=4, max_concurrent_runs=4))
    for child in run.get_children():
        x = json.loads(run.get_hyperparameters()[child.id])["x"]
        assert child.get_logs() == f"value {x}\n"
        assert child.get_metrics() == {"score": x}


def test_a_config_submitted_twice_gives_each_sweep_its_own_sampler_and_policy(workspace) -> None:
    def trial(cfg):
        run = Run.get_context()
        for i in range(4):
            run.log("score", cfg["x"] + i)

    sampling = RandomParameterSampling({"x": uniform(0, 1)}, {"seed": 3})
    policy = MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=2)
    cfg = config(trial, sampling, policy=policy, max_total_runs=8, max_concurrent_runs=2)
    experiment = Experiment(workspace, "twice")
    first, second = experiment.submit(cfg), experiment.submit(cfg)  # two controller threads at once
    plans = [first._controller.plan, second._controller.plan]
    assert plans[0].sampling is not plans[1].sampling and plans[0].policy is not plans[1].policy
    for plan in plans:  # built from the stored description: equal to the user's objects, never them
        assert plan.sampling == sampling and plan.sampling is not sampling
        assert plan.policy == policy and plan.policy is not policy
    for run in (first, second):
        run.wait_for_completion(raise_on_error=False)
        assert run.get_status() == "Completed"
    assert list(first.get_hyperparameters().values()) == list(second.get_hyperparameters().values())


def test_a_subclass_that_declares_no_name_is_rebuilt_as_itself(workspace) -> None:
    # the registry knows MedianStoppingPolicy by its name; the sweep still runs the user's own rule
    seen = []

    class Stopping(MedianStoppingPolicy):
        def evaluate(self, run_id, interval, histories, goal):
            seen.append(run_id)
            return super().evaluate(run_id, interval, histories, goal)

    def trial(cfg):
        run = Run.get_context()
        for i in range(3):
            run.log("score", cfg["x"] + i)

    policy = Stopping(evaluation_interval=1, delay_evaluation=1)
    run = Experiment(workspace, "sub").submit(
        config(trial, policy=policy, max_total_runs=3, max_concurrent_runs=1)
    )
    plan = run._controller.plan
    assert type(plan.policy) is Stopping and plan.policy is not policy and plan.policy == policy
    run.wait_for_completion(raise_on_error=False)
    assert run.get_status() == "Completed" and seen


def test_each_run_has_one_status_that_the_policy_sees(workspace) -> None:
    seen = []

    class Recording(MedianStoppingPolicy):
        def evaluate(self, run_id, interval, histories, goal):
            seen.append({r: h.status for r, h in histories.items()})
            super().evaluate(run_id, interval, histories, goal)
            return CONTINUE  # every run completes

    def trial(cfg):
        run = Run.get_context()
        for i in range(3):
            run.log("score", cfg["x"] + i)

    controller = create_sweep(
        workspace.store,
        workspace.path,
        "states",
        config(trial, max_total_runs=4, max_concurrent_runs=2),
        "HD_states",
        {},
    )
    controller.plan.policy = Recording(evaluation_interval=1, delay_evaluation=1)
    assert controller.run() is RunStatus.COMPLETED
    assert seen and all(isinstance(s, RunStatus) for view in seen for s in view.values())
    assert all(
        not s.is_terminal or s is RunStatus.COMPLETED for view in seen for s in view.values()
    )
    for run_id, state in controller.runs.items():
        assert (
            controller.histories[run_id] is state.history and state.status is state.history.status
        )
        assert state.status is workspace.store.run(run_id).status is RunStatus.COMPLETED
