"""Shapes of the API's answers, for the OpenAPI schema only.

Answers are built as plain dicts and serialized directly (a sweep of 1000 runs x 100 intervals
would spend longer in validation than in SQLite); these models document them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SweepSummary(BaseModel):
    """One sweep in the list: status, progress, best value so far."""

    id: str
    experiment: str
    status: str = Field(
        description="Queued, Running, CancelRequested, Completed, Failed or Canceled."
    )
    created: float = Field(description="UNIX time.")
    started: float | None = None
    ended: float | None = None
    elapsed: float = Field(description="Seconds from start to end (or to now while it runs).")
    primary_metric: str
    goal: str = Field(description="maximize or minimize.")
    max_total_runs: int
    n_runs: int = Field(description="Runs created so far.")
    done: int = Field(description="Runs that have ended (Completed, Failed, Canceled).")
    best: float | None = Field(None, description="Best value of the primary metric so far.")
    cancel_requested: bool
    kind: str = Field(
        "sweep",
        description="sweep, or single for a single run (Experiment.submit(ScriptRunConfig)).",
    )
    run_id: str | None = Field(
        None, description="For a single run: the run's id (its page is /runs/<run_id>)."
    )
    run_status: str | None = Field(None, description="For a single run: the run's status.")


class RunSummary(BaseModel):
    """One run in a sweep's table."""

    id: str
    number: int
    status: str
    started: float | None = None
    ended: float | None = None
    duration: float | None = Field(None, description="Seconds (so far, while it runs).")
    hp: dict[str, Any] = Field(
        description="The sampled hyperparameters (a value that is not finite is null)."
    )
    best: float | None = Field(None, description="Best value of the primary metric.")
    last: float | None = Field(None, description="Last value of the primary metric.")
    intervals: int = Field(description="How many values of the primary metric it logged.")
    note: str = Field(
        description="Why it was stopped, or its error (first line), or which values were not finite."
    )
    nonfinite: dict[str, str] = Field(
        description='The values sent as null because they were not finite: {"lr": "inf", "best": "-inf", "w.1": "nan"}.'
    )


class SweepDetail(SweepSummary):
    """A sweep's summary with its search space and policy."""

    max_concurrent_runs: int
    counts: dict[str, int] = Field(description="Runs per status.")
    best_run: int | None = Field(None, description="Number of the best run.")
    error: str | None = None
    tags: dict[str, str]
    sampling: str | None = None
    policy: dict[str, Any] | None = None
    parameters: list[dict[str, Any]] = Field(
        description="[{name, label, type, log, values}] per hyperparameter."
    )


class Series(BaseModel):
    """The primary metric of every run: ``y[number][i]`` is interval ``x[number][i]`` (or ``i + 1``)."""

    y: dict[str, list[float | None]]
    x: dict[str, list[int]] = Field(
        description="Intervals, only for runs thinned to the point budget."
    )


class SweepPage(BaseModel):
    """Everything a sweep page draws."""

    sweep: SweepDetail
    runs: list[RunSummary]
    series: Series
    cursor: str = Field(
        description="Pass as ?since= to /updates to get only what changed after this answer."
    )


class SweepUpdates(BaseModel):
    """What changed since a cursor."""

    sweep: SweepDetail
    runs: list[RunSummary] = Field(
        description="Runs that may have changed (upsert them by number)."
    )
    points: dict[str, list[tuple[int, float | None]]] = Field(
        description="New [interval, value] per run number."
    )
    cursor: str


class RunPage(BaseModel):
    """Everything a run page shows except its logs."""

    run: dict[str, Any] = Field(
        description="Its definition and state; values that are not finite are null, named in run.nonfinite"
        ' ({"hyperparameters.lr": "inf", "best": "inf"}).'
    )
    tags: dict[str, str]
    metrics: dict[str, dict[str, Any]] = Field(
        description='{name: {"kind": "series", "steps", "values"}} or {name: {"kind": "table", "columns"}}.'
    )
    files: list[dict[str, Any]] = Field(
        description="[{name, size}] under outputs/ and logs/, and uploaded files."
    )
    images: list[dict[str, Any]] = Field(
        default_factory=list, description="[{name, path, description, step}] logged with log_image."
    )
    documents: list[dict[str, Any]] = Field(
        default_factory=list,
        description="[{name, kind, step, columns}]: confusion matrices, accuracy tables, residuals, predictions.",
    )


class LogChunk(BaseModel):
    """Part of a run's stdout or stderr."""

    text: str
    offset: int = Field(description="Pass as ?offset= to get what was written after this answer.")
    truncated: bool = Field(description="True when more text is waiting after offset.")


class CancelResult(BaseModel):
    """The answer to a cancel request."""

    canceled: bool = Field(description="False if the sweep or run had already ended.")
    status: str


class ModelSummary(BaseModel):
    """One version of a registered model."""

    name: str
    version: int
    run_id: str | None = Field(
        None, description="The run it was registered from (None for a local file)."
    )
    experiment: str | None = None
    path: str = Field(description="The file or folder's name in the registry.")
    source: str
    tags: dict[str, str]
    properties: dict[str, str]
    description: str | None = None
    created: float


class ParameterImportance(BaseModel):
    """One hyperparameter's share of the primary metric's variance."""

    name: str = Field(
        description="As in the search space (a nested choice: the key in its branches)."
    )
    label: str = Field(description="The name without leading dashes, as the table shows it.")
    importance: float = Field(
        description="Share of the variance its main effect explains; the shares sum to 1."
    )
    std: float = Field(description="Standard deviation of the share across the forest's trees.")


class ImportancePage(BaseModel):
    """Hyperparameter importance for a sweep's primary metric (functional ANOVA on a random forest)."""

    sweep_id: str
    primary_metric: str
    goal: str
    method: str = Field(description="fanova.")
    importances: list[ParameterImportance] = Field(
        description="Most important first; empty with too few runs."
    )
    n_runs: int = Field(
        description="Runs used: Completed or Canceled, with a finite primary-metric value."
    )
    counts: dict[str, int] = Field(description="Runs left out: failed, unfinished, no_metric.")
    message: str | None = Field(
        None, description="Why there is no estimate, or why it says little."
    )
