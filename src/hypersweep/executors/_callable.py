"""The callable runner: one callable trial, from its call to its end, wherever it runs.

The thread executor calls :func:`run_callable` in a thread of the driving process and the Ray
executor in a Ray task; both get the same rules. The callable receives the sampled values as a dict
and logs through the training-side live run made by :func:`live_run` (``Run.get_context()`` inside
the call is that run). A number it returns is the primary metric unless it logged that itself, a
dict gives several metrics. A stopped run (:func:`request_stop`) is interrupted at its next ``log``
(``TrialStopped``) or at an interrupt its executor names, and ends Canceled with the stop reason;
a callable that returns after a stop ends Canceled too. Any other exception fails the run, with
its traceback on the run's stderr.

This module is the executors' only contact with the training-side live run of ``hypersweep.run``.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from hypersweep.errors import TrialStopped
from hypersweep.mlflow import install_hint
from hypersweep.run import LiveRun, reset_current_run, set_current_run
from hypersweep.status import RunStatus


def set_environ(values: dict[str, str]) -> dict[str, str | None]:
    """Put ``values`` in this process's environment; return what they replaced, for :func:`restore_environ`.

    For what a callable trial needs process-wide (MLflow's tracking URI): threads share one
    process, and a Ray worker runs one task at a time.
    """
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    return saved


def restore_environ(saved: dict[str, str | None]) -> None:
    """Put back what :func:`set_environ` replaced (a variable that was not set is removed)."""
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def live_run(
    run_id: str,
    sink: Any,
    *,
    run_dir: os.PathLike[str] | str | None = None,
    workspace: str | None = None,
    experiment: str | None = None,
) -> LiveRun:
    """The run a callable trial logs to: every record goes to ``sink.write(record)``."""
    return LiveRun(run_id, sink, run_dir=run_dir, workspace=workspace, experiment=experiment)


def request_stop(run: LiveRun, reason: str) -> None:
    """Ask the callable to stop: its next ``log`` raises ``TrialStopped(reason)`` (the first reason stands)."""
    if run._stop_reason is None:
        run._stop_reason = reason


def stop_reason(run: LiveRun) -> str | None:
    """Why the run was asked to stop (None while it may go on)."""
    return run._stop_reason


@contextmanager
def current(run: LiveRun) -> Iterator[None]:
    """``Run.get_context()`` is ``run`` in this context (this thread, or what it copies)."""
    token = set_current_run(run)
    try:
        yield
    finally:
        reset_current_run(token)


def log_result(run: LiveRun, primary_metric: str, result: Any) -> None:
    """A returned number is the primary metric (unless the trial logged it); a dict, several metrics."""
    if isinstance(result, dict):
        for name, value in result.items():
            if isinstance(value, (int, float)):
                run.log(str(name), value)
    elif isinstance(result, (int, float)) and not isinstance(result, bool):
        if primary_metric and primary_metric not in run._metrics:
            try:
                value = float(result)
            except OverflowError:  # an int beyond the float range: log refuses it, with a warning
                value = result
            run.log(primary_metric, value)


def run_callable(
    run: LiveRun,
    call: Callable[[], Any],
    *,
    primary_metric: str,
    stderr: IO[str],
    interrupts: tuple[type[BaseException], ...] = (),
    canceled_by: dict[type[BaseException], str] | None = None,
) -> tuple[RunStatus, str | None]:
    """Run ``call()`` as the trial ``run`` and say how it ended: ``(status, error)``.

    Args:
        run: the trial's live run (current while ``call`` runs).
        call: calls the callable with its configuration and returns what it returned.
        primary_metric: the name a returned number is logged under.
        stderr: where a failure's traceback is written.
        interrupts: exceptions besides ``TrialStopped`` that mean "stopped" (their text is the reason).
        canceled_by: exceptions that cancel the trial, with the error they give (Ray's cancel, say).

    Returns:
        Completed, Canceled (with the stop reason) or Failed (with the exception's type and text).
    """
    status: RunStatus = RunStatus.COMPLETED
    error: str | None = None
    stops: tuple[type[BaseException], ...] = (TrialStopped, *interrupts)
    with current(run):
        try:
            if (reason := stop_reason(run)) is not None:
                raise TrialStopped(reason)
            log_result(run, primary_metric, call())
        except stops as exc:
            status, error = RunStatus.CANCELED, str(exc)
        except BaseException as exc:  # noqa: BLE001 - a trial's failure must not stop the sweep
            message = next(
                (text for kind, text in (canceled_by or {}).items() if isinstance(exc, kind)), None
            )
            if message is not None:
                status, error = RunStatus.CANCELED, message
            else:
                stderr.write(traceback.format_exc())
                status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
                error += install_hint(error)
    if (reason := stop_reason(run)) is not None and status is RunStatus.COMPLETED:
        status, error = RunStatus.CANCELED, reason
    return status, error
