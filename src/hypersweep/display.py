"""Terminal output: a live progress display while a sweep runs, and readable tables of its runs.

In a terminal, tables fit its width: the columns that matter most stay (a sweep's full id, its
status and best value), the others go first. When the output is not a terminal (a pipe, a file),
tables are printed whole: every column, no cell cut, no line folded at 80 columns.
"""

from __future__ import annotations

import io
import math
import re
import shlex
import time
from collections import Counter
from pathlib import Path
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
    "Interrupted": "bold magenta",
}

INTERRUPTED = "Interrupted"
"""The status shown for a sweep whose driver is gone: recorded as running, driven by no process."""


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


def whole(console: Console) -> bool:
    """True when ``console`` writes to no terminal: tables are then printed whole."""
    return not console.is_terminal


def print_whole(console: Console, *renderables: Any) -> None:
    """Print to a terminal as Rich does; elsewhere each table at its full width and each line unfolded."""
    if not whole(console):
        for renderable in renderables:
            console.print(renderable)
        return
    for renderable in renderables:
        if isinstance(renderable, (str, Text)):
            console.print(renderable, soft_wrap=True)
            continue
        wide = console.options.update(width=100_000)
        width = max(console.width, Measurement.get(console, wide, renderable).maximum)
        buffer = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
        buffer.print(renderable, crop=False)
        lines = buffer.file.getvalue().split("\n")  # type: ignore[attr-defined]
        console.file.write("\n".join(line.rstrip() for line in lines))
        console.file.flush()


def shown_status(row: Any, ws_path: str | Path) -> str:
    """A sweep record's status as the terminal shows it: :data:`INTERRUPTED` when it is recorded as not
    finished but no process drives it any more (its driver was killed; ``hypersweep resume`` continues it)."""
    from hypersweep._launch import SINGLE, sweep_driven

    if row.kind == SINGLE or row.status.is_terminal:
        return str(row.status)
    return str(row.status) if sweep_driven(row, Path(ws_path)) else INTERRUPTED


def resume_command(sweep_id: str, ws_path: str | Path) -> str:
    """The command that continues an interrupted sweep (with ``--workspace`` unless it is the current folder)."""
    here = Path.cwd().resolve()
    path = Path(ws_path).resolve()
    where = "" if path == here else f" --workspace {shlex.quote(str(path))}"
    return f"hypersweep resume {sweep_id}{where}"


def interrupted_note(sweep_id: str, ws_path: str | Path) -> Text:
    """``HD_… was interrupted: no process drives it any more. Continue it with: hypersweep resume HD_…``."""
    return Text(
        clean(
            f"{sweep_id} was interrupted: no process drives it any more. "
            f"Continue it with: {resume_command(sweep_id, ws_path)}"
        ),
        style=_STYLE[INTERRUPTED],
    )


def _duration(row: Any) -> str:
    if row.started is None:
        return ""
    seconds = (row.ended or time.time()) - row.started
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def runs_table(
    sweep: HyperDriveRun,
    top: int | None = None,
    sort: bool = True,
    width: int | None = None,
    whole_table: bool | None = None,
) -> Any:
    """A table of the sweep's runs: status, hyperparameters, best and last primary metric, duration, why it ended.

    Columns that do not fit ``width`` (default: the terminal's) are left out, least useful first;
    the notes then follow the table as lines of their own. With ``whole_table`` (default: when the
    output is not a terminal) every column is kept and each note is given whole, its lines joined
    by `` / `` (print it with :func:`print_whole`).
    """
    store = sweep.experiment.workspace.store
    row = store.sweep(sweep.id)
    rows = store.runs(sweep.id)
    maximize = row.goal.upper() == "MAXIMIZE"
    if sort:
        with_metric = [r for r in rows if r.best_value is not None]
        without = [r for r in rows if r.best_value is None]
        with_metric.sort(key=lambda r: r.best_value, reverse=maximize)
        rows = with_metric + without
    if top:
        rows = rows[:top]
    names = [name for name, _ in flat_parameters(row.config["generator_config"]["parameter_space"])]
    title = plain(f"{sweep.id} · {row.primary_metric} ({row.goal.lower()})")
    notes = {r.number: _lines(r.reason or r.error) for r in rows}
    console = Console(width=width) if width else Console()
    if whole_table is None:
        whole_table = width is None and whole(console)
    if whole_table:
        notes = {number: [" / ".join(text)] if text else [] for number, text in notes.items()}
        console = Console(width=1_000_000)
    for optional in (("last", "time", "note"), ("last", "time"), ("time",), ()):
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("status", no_wrap=True)
        for name in names:
            table.add_column(plain(name.lstrip("-")), justify="right", no_wrap=True)
        table.add_column("best", justify="right", style="bold", no_wrap=True)
        for col in optional:
            table.add_column(
                col,
                justify="left" if col == "note" else "right",
                no_wrap=True,
                max_width=40 if col == "note" and not whole_table else None,
                overflow="ellipsis",
            )
        table.add_column("n", justify="right", no_wrap=True)
        for r in rows:
            hyper = flat_values(r.hyperparameters)
            extra = {
                "last": fmt(r.last_value),
                "time": _duration(r),
                "note": (notes[r.number] or [""])[0],
            }
            table.add_row(
                str(r.number),
                Text(r.status.value, style=_STYLE.get(r.status.value, "")),
                *[plain(fmt(hyper.get(n), digits=4)) for n in names],
                plain(fmt(r.best_value)),
                *[plain(extra[c]) for c in optional],
                str(r.intervals),
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
    counts = Counter(r.status.value for r in rows)
    maximize = row.goal.upper() == "MAXIMIZE"
    scored = [r for r in rows if r.best_value is not None]
    status = shown_status(row, sweep.experiment.workspace.path)
    text = Text(status, style=_STYLE.get(status, "bold"))
    text.append(
        " · " + ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
        if counts
        else " · starting"
    )
    if scored:
        best = (max if maximize else min)(scored, key=lambda r: r.best_value)
        text.append(
            clean(f" · best {row.primary_metric} {fmt(best.best_value)} (run {best.number})"),
            style="bold",
        )
    return text


def watch(sweep: HyperDriveRun, console: Console | None = None, refresh: float = 0.5) -> None:
    """Show a live progress bar until the sweep ends, then the table of its runs (whole when the
    output is not a terminal, see :func:`print_whole`)."""
    console = console or Console()
    store = sweep.experiment.workspace.store
    total = store.sweep(sweep.id).max_total_runs
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    task = progress.add_task("runs finished", total=total)
    with Live(
        Group(progress, summary_line(sweep)), console=console, refresh_per_second=4, transient=False
    ) as live:
        while True:
            status = store.sweep(sweep.id).status
            rows = store.runs(sweep.id)
            done = sum(1 for r in rows if r.status.is_terminal)
            progress.update(task, completed=done, total=max(total, len(rows)))
            live.update(Group(progress, summary_line(sweep)))
            if status.is_terminal:
                break
            time.sleep(refresh)
    console.line()
    print_whole(console, runs_table(sweep))


def _took(seconds: float) -> str:
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def sweep_records(
    store: Any, ws_path: str | Path, experiment: str | None = None
) -> list[dict[str, Any]]:
    """Every sweep and single run of a workspace as plain data: what ``hypersweep ls`` shows (and
    ``ls --json`` prints), oldest first."""
    from hypersweep._launch import SINGLE

    records = []
    now = time.time()
    for row in store.sweeps(experiment):
        runs = store.runs(row.id)
        started = row.started or row.created
        status = shown_status(row, ws_path)
        record: dict[str, Any] = {
            "id": row.id,
            "kind": row.kind,
            "experiment": row.experiment,
            "status": status,
            "recorded_status": row.status.value,
            "created": row.created,
            "started": row.started,
            "ended": row.ended,
            "elapsed_seconds": (row.ended or now) - started,
        }
        if row.kind == SINGLE:
            run_row = runs[0] if runs else None
            record["run_id"] = run_row.id if run_row else f"{row.id}_0"
            record["status"] = run_row.status.value if run_row else status
        else:
            values = [r.best_value for r in runs if r.best_value is not None]
            maximize = row.goal.lower() == "maximize"
            record.update(
                runs=len(runs),
                runs_finished=sum(1 for r in runs if r.status.is_terminal),
                max_total_runs=row.max_total_runs,
                primary_metric=row.primary_metric,
                goal=row.goal.lower(),
                best_value=(max if maximize else min)(values) if values else None,
            )
            if status == INTERRUPTED:
                record["resume_command"] = resume_command(row.id, ws_path)
        records.append(record)
    return records


# Columns of the sweeps table; in a terminal too narrow for all, they go in this order.
_SWEEP_OPTIONAL = ("experiment", "metric", "started", "elapsed")
_SWEEP_DROP = ("started", "metric", "experiment", "elapsed")


def sweeps_tables(
    records: list[dict[str, Any]], ws_path: str | Path, console: Console
) -> list[Any]:
    """The tables of ``hypersweep ls`` (sweeps, then single runs) and a line for each interrupted sweep.

    In a terminal the sweep's full id, status, progress and best value always stay; the other columns
    go, as many as the width needs. Not in a terminal (see :func:`whole`), every column is kept.
    """
    sweeps = [r for r in records if "run_id" not in r]
    singles = [r for r in records if "run_id" in r]
    shown: list[Any] = []

    def when(r: dict[str, Any]) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(r["started"] or r["created"]))

    def sweeps_table(optional: tuple[str, ...]) -> Table:
        table = Table(
            title=plain(f"Sweeps in {ws_path}"),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
        )
        columns = [
            c
            for c in (
                "sweep",
                "experiment",
                "status",
                "runs",
                "best",
                "metric",
                "started",
                "elapsed",
            )
            if c in ("sweep", "status", "runs", "best") or c in optional
        ]
        for col in columns:
            table.add_column(
                col,
                justify="right" if col in ("runs", "best", "elapsed") else "left",
                no_wrap=col not in ("experiment", "metric"),
            )
        for r in sweeps:
            cells = {
                "sweep": plain(r["id"]),
                "experiment": plain(r["experiment"]),
                "status": Text(r["status"], style=_STYLE.get(r["status"], "")),
                "runs": Text(f"{r['runs_finished']}/{r['max_total_runs']}"),
                "best": plain(fmt(r["best_value"])),
                "metric": plain(f"{r['primary_metric']} ({r['goal']})"),
                "started": Text(when(r)),
                "elapsed": Text(_took(r["elapsed_seconds"])),
            }
            table.add_row(*[cells[c] for c in columns])
        return table

    if sweeps or not singles:
        optional = list(_SWEEP_OPTIONAL)
        table = sweeps_table(tuple(optional))
        if not whole(console):
            wide = console.options.update(width=100_000)
            for col in _SWEEP_DROP:
                if Measurement.get(console, wide, table).maximum <= console.width:
                    break
                optional.remove(col)
                table = sweeps_table(tuple(optional))
        shown.append(table)
        shown.extend(
            interrupted_note(r["id"], ws_path) for r in sweeps if r["status"] == INTERRUPTED
        )
    if singles:
        table = Table(
            title=plain(f"Single runs in {ws_path}"),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
        )
        for col in ("run", "experiment", "status", "started", "elapsed"):
            table.add_column(
                col, justify="right" if col == "elapsed" else "left", no_wrap=col != "experiment"
            )
        for r in singles:
            table.add_row(
                plain(r["run_id"]),
                plain(r["experiment"]),
                Text(r["status"], style=_STYLE.get(r["status"], "")),
                when(r),
                _took(r["elapsed_seconds"]),
            )
        shown.append(table)
    return shown


def sweep_record(sweep: HyperDriveRun) -> dict[str, Any]:
    """One sweep and all its runs as plain data (what ``hypersweep show --json`` prints)."""
    ws = sweep.experiment.workspace
    store = ws.store
    row = store.sweep(sweep.id)
    record = next(r for r in sweep_records(store, ws.path, row.experiment) if r["id"] == sweep.id)
    record["sampling"] = row.config["generator_config"].get("name")
    runs = []
    for r in store.runs(sweep.id):
        runs.append(
            {
                "id": r.id,
                "number": r.number,
                "status": r.status.value,
                "hyperparameters": r.hyperparameters,
                "best_value": r.best_value,
                "last_value": r.last_value,
                "intervals": r.intervals,
                "created": r.created,
                "started": r.started,
                "ended": r.ended,
                "duration_seconds": None
                if r.started is None
                else (r.ended or time.time()) - r.started,
                "reason": r.reason,
                "error": r.error,
            }
        )
    return {"sweep": record, "runs": runs}
