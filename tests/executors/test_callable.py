"""The callable runner's rules, shared by the thread and Ray executors, on a live run writing to a list."""

from __future__ import annotations

import io
from typing import Any

from hypersweep import Run
from hypersweep.executors._callable import live_run, request_stop, run_callable, stop_reason
from hypersweep.status import RunStatus


class ListSink:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def write(self, record: dict[str, Any]) -> None:
        self.records.append(record)


def metrics(sink: ListSink) -> list[tuple[str, Any]]:
    return [(r.name, r.value) for r in sink.records if r.kind.value == "metric"]


def test_a_returned_number_is_the_primary_metric_unless_the_trial_logged_it() -> None:
    sink = ListSink()
    run = live_run("r0", sink)
    assert run_callable(run, lambda: 0.5, primary_metric="acc", stderr=io.StringIO()) == (
        RunStatus.COMPLETED,
        None,
    )
    assert metrics(sink) == [("acc", 0.5)]

    sink = ListSink()
    run = live_run("r1", sink)

    def logs_itself() -> float:
        Run.get_context().log("acc", 0.25)  # the runner makes the run current
        return 0.9

    run_callable(run, logs_itself, primary_metric="acc", stderr=io.StringIO())
    assert metrics(sink) == [("acc", 0.25)]


def test_a_returned_dict_gives_its_numbers_as_metrics() -> None:
    sink = ListSink()
    run = live_run("r0", sink)
    run_callable(
        run, lambda: {"a": 1, "b": 2.5, "note": "text"}, primary_metric="acc", stderr=io.StringIO()
    )
    assert metrics(sink) == [("a", 1), ("b", 2.5)]


def test_a_failure_keeps_its_type_and_text_and_its_traceback() -> None:
    err = io.StringIO()

    def boom() -> None:
        raise ValueError("no good")

    status, error = run_callable(live_run("r0", ListSink()), boom, primary_metric="m", stderr=err)
    assert (status, error) == (RunStatus.FAILED, "ValueError: no good")
    assert "Traceback" in err.getvalue() and "no good" in err.getvalue()


def test_a_stopped_run_is_canceled_with_the_first_reason() -> None:
    run = live_run("r0", ListSink())
    request_stop(run, "first")
    request_stop(run, "second")
    assert stop_reason(run) == "first"
    called: list[bool] = []
    status, error = run_callable(
        run, lambda: called.append(True), primary_metric="m", stderr=io.StringIO()
    )
    assert (status, error, called) == (
        RunStatus.CANCELED,
        "first",
        [],
    )  # stopped before its call: never called

    run = live_run("r1", ListSink())

    def stopped_while_running() -> float:
        request_stop(run, "late")
        return 1.0  # returns without logging again: still Canceled

    assert run_callable(run, stopped_while_running, primary_metric="m", stderr=io.StringIO()) == (
        RunStatus.CANCELED,
        "late",
    )

    run = live_run("r2", ListSink())

    def logs_after_the_stop() -> None:
        request_stop(run, "policy")
        Run.get_context().log("m", 1.0)  # raises TrialStopped

    assert run_callable(run, logs_after_the_stop, primary_metric="m", stderr=io.StringIO()) == (
        RunStatus.CANCELED,
        "policy",
    )


def test_interrupts_and_cancels_an_executor_names() -> None:
    class Interrupted(BaseException):
        pass

    def interrupted() -> None:
        raise Interrupted("told to stop")

    def cancelled() -> None:
        raise KeyboardInterrupt

    run = live_run("r0", ListSink())
    assert run_callable(
        run, interrupted, primary_metric="m", stderr=io.StringIO(), interrupts=(Interrupted,)
    ) == (RunStatus.CANCELED, "told to stop")
    assert run_callable(
        live_run("r1", ListSink()),
        cancelled,
        primary_metric="m",
        stderr=io.StringIO(),
        canceled_by={KeyboardInterrupt: "The Ray task was canceled."},
    ) == (RunStatus.CANCELED, "The Ray task was canceled.")
    status, error = run_callable(
        live_run("r2", ListSink()), cancelled, primary_metric="m", stderr=io.StringIO()
    )
    assert status is RunStatus.FAILED and error == "KeyboardInterrupt: "
