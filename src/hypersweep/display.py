"""Terminal output: a live progress display while a sweep runs, and readable tables of its runs."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from hypersweep.status import RunStatus

if TYPE_CHECKING:
    from hypersweep.experiment import HyperDriveRun

_STYLE = {
    "Completed": "green",
    "Failed": "red",
    "Canceled": "yellow",
    "CancelRequested": "yellow",
    "Running": "cyan",
    "Queued": "dim",
}


def fmt(value: Any) -> str:
    """A metric value for a table cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _duration(row: Any) -> str:
    if row["started"] is None:
        return ""
    seconds = (row["ended"] or time.time()) - row["started"]
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def runs_table(sweep: HyperDriveRun, top: int | None = None, sort: bool = True) -> Table:
    """A table of the sweep's runs: status, hyperparameters, best and last primary metric, duration, why it ended."""
    store = sweep.experiment.workspace.store
    row = store.sweep(sweep.id)
    rows = store.runs(sweep.id)
    maximize = row["goal"].upper() == "MAXIMIZE"
    if sort:
        with_metric = [r for r in rows if r["best_value"] is not None]
        without = [r for r in rows if r["best_value"] is None]
        with_metric.sort(key=lambda r: r["best_value"], reverse=maximize)
        rows = with_metric + without
    if top:
        rows = rows[:top]
    names: list[str] = list(json.loads(row["config"])["generator_config"]["parameter_space"])
    table = Table(title=f"{sweep.id} · {row['primary_metric']} ({row['goal'].lower()})", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("status")
    for name in names:
        table.add_column(name.lstrip("-"), justify="right")
    table.add_column(f"best {row['primary_metric']}", justify="right", style="bold")
    table.add_column("last", justify="right")
    table.add_column("intervals", justify="right")
    table.add_column("duration", justify="right")
    table.add_column("note", overflow="fold", max_width=48)
    for r in rows:
        hyper = json.loads(r["hyperparameters"])
        note = (r["reason"] or r["error"] or "").strip().splitlines()
        table.add_row(
            str(r["number"]),
            Text(r["status"], style=_STYLE.get(r["status"], "")),
            *[fmt(hyper.get(n)) for n in names],
            fmt(r["best_value"]),
            fmt(r["last_value"]),
            str(r["intervals"]),
            _duration(r),
            note[0] if note else "",
        )
    return table


def summary_line(sweep: HyperDriveRun) -> Text:
    """``Running · 12 completed, 2 failed · best accuracy 0.97 (run 5)``."""
    store = sweep.experiment.workspace.store
    row = store.sweep(sweep.id)
    rows = store.runs(sweep.id)
    counts = Counter(r["status"] for r in rows)
    maximize = row["goal"].upper() == "MAXIMIZE"
    scored = [r for r in rows if r["best_value"] is not None]
    text = Text(f"{row['status']}", style=_STYLE.get(row["status"], "bold"))
    text.append(" · " + ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())) if counts else " · starting")
    if scored:
        best = (max if maximize else min)(scored, key=lambda r: r["best_value"])
        text.append(f" · best {row['primary_metric']} {fmt(best['best_value'])} (run {best['number']})", style="bold")
    return text


def watch(sweep: HyperDriveRun, console: Console | None = None, refresh: float = 0.5) -> None:
    """Show a live progress bar until the sweep ends, then the table of its runs."""
    console = console or Console()
    store = sweep.experiment.workspace.store
    total = store.sweep(sweep.id)["max_total_runs"]
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    task = progress.add_task("runs finished", total=total)
    with Live(Group(progress, summary_line(sweep)), console=console, refresh_per_second=4, transient=False) as live:
        while True:
            status = RunStatus(store.sweep(sweep.id)["status"])
            rows = store.runs(sweep.id)
            done = sum(1 for r in rows if RunStatus(r["status"]).is_terminal)
            progress.update(task, completed=done, total=max(total, len(rows)))
            live.update(Group(progress, summary_line(sweep)))
            if status.is_terminal:
                break
            time.sleep(refresh)
    console.print(runs_table(sweep))
