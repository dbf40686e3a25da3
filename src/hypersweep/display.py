"""Terminal output: a live progress display while a sweep runs, and readable tables of its runs."""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from typing import Any, Protocol

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from hypersweep.space_nested import flat_parameters, flat_values
from hypersweep.status import RunStatus


class HyperDriveRun(Protocol):
    """What the display reads of a sweep (a :class:`hypersweep.HyperDriveRun`): its id, and the
    workspace's store through its experiment (this module sits below the results API)."""

    @property
    def id(self) -> str: ...

    @property
    def experiment(self) -> Any: ...

_STYLE = {
    "Completed": "green",
    "Failed": "red",
    "Canceled": "yellow",
    "CancelRequested": "yellow",
    "Running": "cyan",
    "Queued": "dim",
}


# Control characters (C0 but newline and tab, DEL, C1) and lone surrogates: shown as escapes, never sent raw.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def clean(value: Any) -> str:
    """User text made safe for a terminal: control characters and lone surrogates as visible escapes.

    ``"\\x1b[31mred"`` (with a real ESC) prints as the text ``\\x1b[31mred``; newlines and tabs are kept.
    """
    return _UNSAFE.sub(_escape_char, str(value))


def safe(value: Any) -> str:
    """User text for a Rich markup string: :func:`clean`, then markup escaped (``[bold]`` prints as is).

    Every string that comes from a user (names, values, paths, error texts) goes through this or
    :func:`plain` before it reaches the terminal.
    """
    return escape(clean(value))


def plain(value: Any, style: str = "") -> Text:
    """User text as a Rich ``Text`` (never parsed as markup), :func:`clean` ed: for table cells and titles."""
    return Text(clean(value), style=style)


def fmt(value: Any, digits: int = 6) -> str:
    """A metric or hyperparameter value for a table cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _lines(text: str | None) -> list[str]:
    """The lines of a note (split on newlines only: a carriage return is shown, escaped, by :func:`clean`)."""
    text = (text or "").strip()
    return text.split("\n") if text else []


def _duration(row: Any) -> str:
    if row["started"] is None:
        return ""
    seconds = (row["ended"] or time.time()) - row["started"]
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def runs_table(sweep: HyperDriveRun, top: int | None = None, sort: bool = True, width: int | None = None) -> Any:
    """A table of the sweep's runs: status, hyperparameters, best and last primary metric, duration, why it ended.

    Columns that do not fit ``width`` (default: the terminal's) are left out, least useful first;
    the notes then follow the table as lines of their own.
    """
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
    names = [name for name, _ in flat_parameters(json.loads(row["config"])["generator_config"]["parameter_space"])]
    title = plain(f"{sweep.id} · {row['primary_metric']} ({row['goal'].lower()})")
    notes = {r["number"]: _lines(r["reason"] or r["error"]) for r in rows}
    console = Console(width=width) if width else Console()
    for optional in (("last", "time", "note"), ("last", "time"), ("time",), ()):
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("status", no_wrap=True)
        for name in names:
            table.add_column(plain(name.lstrip("-")), justify="right", no_wrap=True)
        table.add_column("best", justify="right", style="bold", no_wrap=True)
        for col in optional:
            table.add_column(col, justify="left" if col == "note" else "right", no_wrap=True, max_width=40 if col == "note" else None, overflow="ellipsis")
        table.add_column("n", justify="right", no_wrap=True)
        for r in rows:
            hyper = flat_values(json.loads(r["hyperparameters"]))
            extra = {"last": fmt(r["last_value"]), "time": _duration(r), "note": (notes[r["number"]] or [""])[0]}
            table.add_row(
                str(r["number"]),
                Text(r["status"], style=_STYLE.get(r["status"], "")),
                *[plain(fmt(hyper.get(n), digits=4)) for n in names],
                plain(fmt(r["best_value"])),
                *[plain(extra[c]) for c in optional],
                str(r["intervals"]),
            )
        wide = console.options.update(width=10_000)
        if Measurement.get(console, wide, table).maximum <= console.width:
            break
    if "note" in optional:
        return table
    lines = [
        Text(clean(f"#{number} {text[0]}"), style="dim", overflow="fold")
        for number, text in sorted(notes.items())
        if text
    ]
    return Group(table, *lines)


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
        text.append(clean(f" · best {row['primary_metric']} {fmt(best['best_value'])} (run {best['number']})"), style="bold")
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
    console.line()
    console.print(runs_table(sweep))
