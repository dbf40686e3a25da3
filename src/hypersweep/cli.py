"""The ``hypersweep`` command.

Exit codes: 0 success; 1 the sweep failed or was canceled; 2 bad input (a sweep file, an id);
130 interrupted with Ctrl-C (the sweep is canceled and its state recorded).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from hypersweep._cli_common import console, err_console, handle_errors, workspace_option
from hypersweep._results import RunView
from hypersweep.display import fmt, runs_table, summary_line, watch
from hypersweep.errors import NotFoundError
from hypersweep.experiment import Experiment, HyperDriveRun, Workspace
from hypersweep.status import RunStatus
from hypersweep.store import DB_NAME, STATE_DIR


def _warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    err_console.print(f"[yellow]Warning:[/] {message}", highlight=False)


def existing_workspace(path: Path) -> Workspace:
    """The workspace at ``path`` for reading; an error (not a new empty database) if there is none."""
    ws = Workspace(path)
    if not (ws.state_dir / DB_NAME).exists():
        raise NotFoundError(
            f"{ws.path} is not a hypersweep workspace yet (no {STATE_DIR}/{DB_NAME}). Start a sweep there with "
            "'hypersweep run SWEEP.yml', or point to one with --workspace DIR."
        )
    return ws


def resolve_sweep(ws: Workspace, ref: str) -> HyperDriveRun:
    """A sweep by id, unique id prefix, or ``latest``."""
    rows = ws.store.sweeps()
    if not rows:
        raise NotFoundError(f"The workspace {ws.path} has no sweeps yet. Start one with: hypersweep run SWEEP.yml")
    if ref == "latest":
        row = rows[-1]
    else:
        matches = [r for r in rows if r["id"] == ref] or [r for r in rows if r["id"].startswith(ref)]
        if len(matches) != 1:
            what = "matches no sweep" if not matches else f"matches {len(matches)} sweeps"
            raise NotFoundError(f"{ref!r} {what} in {ws.path}; list them with: hypersweep ls")
        row = matches[0]
    return HyperDriveRun(Experiment(ws, row["experiment"]), row["id"])


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="hypersweep")
def main() -> None:
    """Run hyperparameter sweeps on this machine, the HyperDrive way.

    \b
    Start with a sweep file (Azure ML's sweep-job YAML):
      hypersweep run examples/digits/sweep.yml
    then look at the results:
      hypersweep ls                     # every sweep in the workspace
      hypersweep show latest            # its runs, best first
      hypersweep best latest --json     # the best run's arguments and metrics
      hypersweep logs HD_..._3          # a run's output
      hypersweep ui                     # the dashboard: http://127.0.0.1:8765/
      hypersweep report latest --html sweep.html

    Every command takes --workspace DIR (default: the current folder).
    """


@main.command()
@click.argument("sweep_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@workspace_option
@click.option("--experiment", "-e", help="Experiment name (default: the file's experiment_name).")
@click.option("--quiet", "-q", is_flag=True, help="No live display; print only the final table.")
@click.option("--compute", help="Where the trials run: local, ray or ray://HOST:PORT (default: the file's compute; "
              "an Azure ML cluster name runs locally).")
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a field of the file before validation, as az ml job create --set does "
              "(repeatable): --set inputs.iris_csv.path=./iris.csv --set limits.max_total_trials=6.")
@handle_errors
def run(sweep_file: Path, workspace: Path, experiment: str | None, quiet: bool, compute: str | None,
        sets: tuple[str, ...]) -> None:
    """Run the sweep defined in SWEEP_FILE until it ends.

    \b
    The file follows Azure ML's sweep-job YAML: trial.command with ${{search_space.NAME}},
    ${{inputs.NAME}} and ${{outputs.NAME}} placeholders, search_space, sampling_algorithm,
    objective, limits, early_termination. Ctrl-C cancels the sweep cleanly: its runs are
    stopped and everything logged is kept.
    """
    from hypersweep.sweepfile import load_sweep_file

    warnings.showwarning = _warning
    spec = load_sweep_file(sweep_file, sets=sets, compute=compute, workspace=workspace)
    ws = Workspace(workspace)
    exp = Experiment(ws, experiment or spec.experiment_name)
    sweep = exp.submit(spec.config, tags=spec.tags)
    err_console.print(
        f"Sweep [bold]{sweep.id}[/] started in {ws.path} (experiment {exp.name}).", highlight=False
    )
    _follow(sweep, quiet)


@main.command()
@click.argument("sweep")
@workspace_option
@click.option("--quiet", "-q", is_flag=True, help="No live display; print only the final table.")
@handle_errors
def resume(sweep: str, workspace: Path, quiet: bool) -> None:
    """Continue SWEEP after the process driving it died (kill -9, power loss, a closed notebook).

    \b
    Finished runs and every logged value are kept. Runs that were in flight end as Failed
    ("interrupted") and count toward max_total_runs; their processes are stopped if they
    still run. The sampler continues without repeating configurations.
    """
    warnings.showwarning = _warning
    hd = resolve_sweep(existing_workspace(workspace), sweep)
    hd.resume()
    interrupted = [c for c in hd.get_children() if "Interrupted" in (c.get_details().get("error", {}).get("message") or "")]
    err_console.print(
        f"Sweep [bold]{hd.id}[/] resumed: {len(hd.get_children())} runs recorded, {len(interrupted)} interrupted.",
        highlight=False,
    )
    _follow(hd, quiet)


def _follow(sweep: HyperDriveRun, quiet: bool) -> None:
    """Show the sweep until it ends (Ctrl-C cancels it), then its best run; exit 1 unless Completed."""
    try:
        if quiet:
            sweep.wait_for_completion(raise_on_error=False)
            console.print(runs_table(sweep))
        else:
            watch(sweep, console=console)
            sweep.wait_for_completion(raise_on_error=False)
    except KeyboardInterrupt:
        err_console.print("\nCanceling the sweep...")
        sweep.cancel()
        sweep._wait_done()
        err_console.print(f"Sweep {sweep.id} canceled; its runs are recorded.")
        sys.exit(130)
    status = sweep.get_status()
    best = sweep.get_best_run_by_primary_metric()
    if best is not None:
        console.print(f"Best run: [bold]{best.id}[/]  (hypersweep best {sweep.id})", highlight=False)
    else:
        console.print(
            f"No run logged the primary metric {sweep.primary_metric!r}; check the name your script logs.",
            style="yellow",
        )
    if status != RunStatus.COMPLETED.value:
        error = sweep.get_details().get("error", {}).get("message")
        err_console.print(f"Sweep ended as {status}." + (f" {error}" if error else ""))
        sys.exit(1)


@main.command(name="ls")
@workspace_option
@click.option("--experiment", "-e", help="Only this experiment's sweeps.")
@handle_errors
def list_sweeps(workspace: Path, experiment: str | None) -> None:
    """List the workspace's sweeps: status, progress and best value."""
    ws = existing_workspace(workspace)
    table = Table(title=f"Sweeps in {ws.path}", title_justify="left")
    for col in ("sweep", "experiment", "status", "runs", "best", "started", "elapsed"):
        table.add_column(col, justify="right" if col in ("runs", "best", "elapsed") else "left")
    for row in ws.store.sweeps(experiment):
        runs = ws.store.runs(row["id"])
        done = sum(1 for r in runs if RunStatus(r["status"]).is_terminal)
        values = [r["best_value"] for r in runs if r["best_value"] is not None]
        best = (max if row["goal"] == "maximize" else min)(values) if values else None
        started = row["started"] or row["created"]
        elapsed = (row["ended"] or time.time()) - started
        table.add_row(
            row["id"],
            row["experiment"],
            row["status"],
            f"{done}/{row['max_total_runs']}",
            f"{row['primary_metric']}={fmt(best)}" if best is not None else "",
            time.strftime("%Y-%m-%d %H:%M", time.localtime(started)),
            f"{elapsed:.0f}s" if elapsed < 120 else f"{elapsed / 60:.1f}m",
        )
    console.print(table)


@main.command()
@click.argument("sweep")
@workspace_option
@click.option("--top", type=click.IntRange(min=1), help="Show only the best N runs.")
@handle_errors
def show(sweep: str, workspace: Path, top: int | None) -> None:
    """Show SWEEP's runs, best first (SWEEP: an id, a unique prefix, or 'latest')."""
    hd = resolve_sweep(existing_workspace(workspace), sweep)
    console.print(runs_table(hd, top=top))
    console.print(summary_line(hd))


@main.command()
@click.argument("sweep")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (run id, arguments, hyperparameters, metrics).")
@handle_errors
def best(sweep: str, workspace: Path, as_json: bool) -> None:
    """Print the best run of SWEEP: its arguments and metrics."""
    hd = resolve_sweep(existing_workspace(workspace), sweep)
    run_ = hd.get_best_run_by_primary_metric()
    if run_ is None:
        raise NotFoundError(
            f"No run of {hd.id} logged the primary metric {hd.primary_metric!r} "
            "(check the name your script logs; it is case-sensitive)."
        )
    details = run_.get_details()
    data = {
        "run_id": run_.id,
        "status": details["status"],
        "primary_metric": hd.primary_metric,
        "best_value": hd.get_children_sorted_by_primary_metric(top=1)[0]["best_primary_metric"],
        "arguments": details["runDefinition"]["arguments"],
        "hyperparameters": details["properties"]["hyperparameters"],
        "metrics": run_.get_metrics(),
    }
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    console.print(f"[bold]{run_.id}[/] ({details['status']})", highlight=False)
    console.print(f"{hd.primary_metric}: [bold]{fmt(data['best_value'])}[/]", highlight=False)
    console.print("arguments: " + " ".join(data["arguments"]), highlight=False)
    table = Table("metric", "value")
    for name, value in data["metrics"].items():
        table.add_row(name, fmt(value) if not isinstance(value, (list, dict)) else _short(value))
    console.print(table)


def _short(value: Any) -> str:
    if isinstance(value, list):
        shown = ", ".join(fmt(v) for v in value[-5:])
        return f"[{len(value)} values] … {shown}" if len(value) > 5 else f"[{shown}]"
    return json.dumps(value)[:80]


@main.command()
@click.argument("sweep")
@workspace_option
@handle_errors
def cancel(sweep: str, workspace: Path) -> None:
    """Cancel SWEEP: its running runs are stopped, and it ends as Canceled."""
    hd = resolve_sweep(existing_workspace(workspace), sweep)
    if hd.cancel():
        console.print(f"Cancel requested for {hd.id}; its driver stops the runs within a second.")
    else:
        console.print(f"{hd.id} has already ended ({hd.get_status()}).")


@main.command()
@click.argument("run_id")
@workspace_option
@click.option("--stderr", "stream", flag_value="stderr", help="Show stderr instead of stdout.")
@click.option("--stdout", "stream", flag_value="stdout", default=True, hidden=True)
@click.option("--tail", "-n", type=click.IntRange(min=1), help="Only the last N lines.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new output until the run ends.")
@handle_errors
def logs(run_id: str, workspace: Path, stream: str, tail: int | None, follow: bool) -> None:
    """Print the output of RUN_ID (e.g. HD_<uuid>_3; a unique prefix is enough)."""
    ws = existing_workspace(workspace)
    row = ws.store.find_run(run_id)
    path = Path(row["run_dir"]) / "logs" / f"{stream}.txt"
    text = path.read_text(errors="replace") if path.exists() else ""
    if tail:
        text = "\n".join(text.splitlines()[-tail:]) + ("\n" if text else "")
    click.echo(text, nl=False)
    if row["error"]:
        err_console.print(f"[red]{row['status']}:[/] {row['error'].splitlines()[0]}", highlight=False)
    elif row["reason"]:
        err_console.print(f"[yellow]{row['status']}:[/] {row['reason']}", highlight=False)
    if not follow:
        return
    offset = path.stat().st_size if path.exists() else 0
    for text in RunView(ws.store, row["id"]).follow(stream, offset):
        click.echo(text, nl=False)


from hypersweep.dashboard.commands import report as report_command  # noqa: E402 - needs the group above
from hypersweep.dashboard.commands import ui as ui_command  # noqa: E402

main.add_command(ui_command)
main.add_command(report_command)

if __name__ == "__main__":  # pragma: no cover
    main()
