"""The ``hypersweep`` command.

Exit codes: 0 success; 1 the sweep failed or was canceled, or ``ui`` cannot listen on its port;
2 bad input (a sweep file, an unknown or ambiguous id, a folder that is no workspace, a sweep given
to ``logs`` with no run chosen); 130 interrupted with Ctrl-C (the sweep is canceled and its state
recorded). Each of these errors is one message on stderr.
"""

from __future__ import annotations

import codecs
import json
import os
import signal
import sys
import warnings
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from hypersweep._cli_common import (
    console,
    echo_json,
    err_console,
    existing_workspace,
    handle_errors,
    resolve_sweep,
    workspace_option,
)
from hypersweep._launch import SINGLE
from hypersweep._results import RunView
from hypersweep._runfiles import open_log, tail_bytes
from hypersweep.display import (
    INTERRUPTED,
    fmt,
    interrupted_note,
    plain,
    print_whole,
    runs_table,
    safe,
    shown_status,
    summary_line,
    sweep_record,
    sweep_records,
    sweeps_tables,
    watch,
)
from hypersweep.errors import NotFoundError
from hypersweep.experiment import Experiment, HyperDriveRun, Workspace
from hypersweep.status import RunStatus
from hypersweep.store import RunRecord


def _warning(
    message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    err_console.print(f"[yellow]Warning:[/] {safe(message)}", highlight=False)


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
      hypersweep models                 # the registered models
      hypersweep ui                     # the dashboard: http://127.0.0.1:8765/
      hypersweep report latest --html sweep.html

    Every command takes --workspace DIR (default: the current folder).
    """


@main.command()
@click.argument("sweep_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@workspace_option
@click.option("--experiment", "-e", help="Experiment name (default: the file's experiment_name).")
@click.option("--quiet", "-q", is_flag=True, help="No live display; print only the final table.")
@click.option(
    "--compute",
    help="Where the trials run: local, ray or ray://HOST:PORT (default: the file's compute; "
    "an Azure ML cluster name runs locally).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Override a field of the file before validation, as az ml job create --set does "
    "(repeatable): --set inputs.iris_csv.path=./iris.csv --set limits.max_total_trials=6.",
)
@handle_errors
def run(
    sweep_file: Path,
    workspace: Path,
    experiment: str | None,
    quiet: bool,
    compute: str | None,
    sets: tuple[str, ...],
) -> None:
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
    ctrl_c = _CtrlC("the sweep will be canceled as soon as it has started")
    try:
        sweep = exp.submit(spec.config, tags=spec.tags)
    except BaseException:
        ctrl_c.restore()
        raise
    err_console.print(
        f"Sweep [bold]{sweep.id}[/] started in {safe(ws.path)} (experiment {safe(exp.name)}).",
        highlight=False,
    )
    _follow(sweep, quiet, ctrl_c)


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
    ctrl_c = _CtrlC("the sweep will be canceled as soon as it has resumed")
    try:
        hd.resume()
    except BaseException:
        ctrl_c.restore()
        raise
    interrupted = [
        c
        for c in hd.get_children()
        if "Interrupted" in (c.get_details().get("error", {}).get("message") or "")
    ]
    err_console.print(
        f"Sweep [bold]{hd.id}[/] resumed: {len(hd.get_children())} runs recorded, {len(interrupted)} interrupted.",
        highlight=False,
    )
    _follow(hd, quiet, ctrl_c)


class _CtrlC:
    """Holds Ctrl-C back while a sweep this process drives is being started or canceled.

    The sweep runs in a thread that keeps the process alive until the sweep ends, so a Ctrl-C
    that ended the command before its handler was in place (or in the middle of a cancel) would
    leave the sweep running with nobody to stop it. A first Ctrl-C is noted (and acted on at
    :meth:`deliver`); a second one is raised at once.
    """

    def __init__(self, pending: str) -> None:
        self.pressed = False
        self._pending = pending
        self._previous = signal.signal(signal.SIGINT, self._note)

    def _note(self, signum: int, frame: Any) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True
        os.write(2, f"\nCtrl-C: {self._pending} (press it again to stop waiting).\n".encode())

    def restore(self) -> None:
        """Ctrl-C raises KeyboardInterrupt again."""
        signal.signal(signal.SIGINT, self._previous)

    def deliver(self) -> None:
        """Ctrl-C raises again; raise it now if it was pressed meanwhile."""
        self.restore()
        if self.pressed:
            raise KeyboardInterrupt


def _follow(sweep: HyperDriveRun, quiet: bool, ctrl_c: _CtrlC | None = None) -> None:
    """Show the sweep until it ends (Ctrl-C cancels it), then its best run; exit 1 unless Completed.

    ``ctrl_c`` holds a Ctrl-C pressed while the sweep was being started: it cancels the sweep now.
    """
    try:
        if ctrl_c is not None:
            ctrl_c.deliver()
        if quiet:
            sweep.wait_for_completion(raise_on_error=False)
            print_whole(console, runs_table(sweep))
        else:
            watch(sweep, console=console)
            sweep.wait_for_completion(raise_on_error=False)
    except KeyboardInterrupt:
        held = _CtrlC("the sweep is being canceled")
        err_console.print("\nCanceling the sweep...")
        sweep.cancel()
        sweep._wait_done()
        held.restore()
        err_console.print(f"Sweep {sweep.id} canceled; its runs are recorded.")
        sys.exit(130)
    status = sweep.get_status()
    best = sweep.get_best_run_by_primary_metric()
    if best is not None:
        console.print(
            f"Best run: [bold]{best.id}[/]  (hypersweep best {sweep.id})",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(
            f"No run logged the primary metric {safe(repr(sweep.primary_metric))}; check the name your script logs.",
            style="yellow",
        )
    if status != RunStatus.COMPLETED.value:
        error = sweep.get_details().get("error", {}).get("message")
        err_console.print(
            f"Sweep ended as {status}." + (f" {safe(error)}" if error else ""), highlight=False
        )
        sys.exit(1)


@main.command(name="ls")
@workspace_option
@click.option("--experiment", "-e", help="Only this experiment's sweeps.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON: every sweep and single run, whole."
)
@handle_errors
def list_sweeps(workspace: Path, experiment: str | None, as_json: bool) -> None:
    """List the workspace's sweeps (status, progress, best value) and single runs.

    A sweep whose driver is gone (killed, a closed laptop) shows as Interrupted, with the
    'hypersweep resume' command that continues it. Piped, the tables are printed whole.
    """
    ws = existing_workspace(workspace)
    records = sweep_records(ws.store, ws.path, experiment)
    if as_json:
        echo_json(
            {
                "workspace": str(ws.path),
                "sweeps": [r for r in records if "run_id" not in r],
                "single_runs": [r for r in records if "run_id" in r],
            }
        )
        return
    print_whole(console, *sweeps_tables(records, ws.path, console))


@main.command()
@click.argument("sweep")
@workspace_option
@click.option("--top", type=click.IntRange(min=1), help="Show only the best N runs.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON: the sweep and all its runs (or the run), whole.",
)
@handle_errors
def show(sweep: str, workspace: Path, top: int | None, as_json: bool) -> None:
    """Show SWEEP's runs, best first (SWEEP: an id, a unique prefix, or 'latest'); or one run."""
    ws = existing_workspace(workspace)
    try:
        hd = resolve_sweep(ws, sweep)
    except NotFoundError:
        sweeps = [r for r in ws.store.sweeps() if r.id.startswith(sweep)]
        if len(sweeps) > 1:
            _ambiguous(sweep, [f"{r.id} ({r.experiment}, {r.status})" for r in sweeps], "sweeps")
        try:
            row = ws.store.run(
                sweep
            )  # a run id (a single run, or a run of a sweep), or a unique prefix
        except NotFoundError:
            runs = _runs_by_prefix(ws, sweep)
            if len(runs) != 1:
                if runs:
                    _ambiguous(sweep, [f"{r.id} ({r.status})" for r in runs], "runs")
                raise NotFoundError(
                    f"{sweep!r} matches no sweep and no run in {ws.path}; list them with: hypersweep ls"
                ) from None
            row = runs[0]
        _show_run(ws.get_run(row.id), as_json)
        return
    sweep_row = ws.store.sweep(hd.id)
    if sweep_row.kind == SINGLE:
        _show_run(ws.get_run(hd.id), as_json)
        return
    if as_json:
        data = sweep_record(hd)
        if top:  # the best N, best first, as the table shows them
            scored = sorted(
                (r for r in data["runs"] if r["best_value"] is not None),
                key=lambda r: r["best_value"],
                reverse=data["sweep"]["goal"] == "maximize",
            )
            data["runs"] = (scored + [r for r in data["runs"] if r["best_value"] is None])[:top]
        echo_json(data)
        return
    shown = [runs_table(hd, top=top), summary_line(hd)]
    if shown_status(sweep_row, ws.path) == INTERRUPTED:
        shown.append(interrupted_note(hd.id, ws.path))
    print_whole(console, *shown)


def _show_run(run_: Any, as_json: bool = False) -> None:
    """One run: status, arguments, metrics, tags, files (``hypersweep show`` of a single run).

    What the run recorded is user text: it is printed as text, never as Rich markup.
    """
    details = run_.get_details()
    if as_json:
        echo_json({"run": details, "metrics": run_.get_metrics(), "files": run_.get_file_names()})
        return
    console.print(
        safe(f"{run_.id} ({details['status']}) run of experiment {details['experiment']}"),
        style="bold",
        highlight=False,
    )
    if details.get("error"):
        console.print(
            "[red]error:[/] " + safe(details["error"]["message"] or ""),
            highlight=False,
            soft_wrap=True,
        )
    if details.get("canceledReason"):
        console.print(
            "[yellow]why it stopped:[/] " + safe(details["canceledReason"]),
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        safe("arguments: " + " ".join(details["runDefinition"]["arguments"])),
        highlight=False,
        soft_wrap=True,
    )
    table = Table("metric", "value")
    for name, value in run_.get_metrics().items():
        table.add_row(
            safe(name), safe(fmt(value) if not isinstance(value, (list, dict)) else _short(value))
        )
    print_whole(console, table)
    if details["tags"]:
        console.print(
            safe("tags: " + ", ".join(f"{k}={v}" for k, v in details["tags"].items())),
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        safe("files: " + (", ".join(run_.get_file_names()) or "none")),
        highlight=False,
        soft_wrap=True,
    )


@main.command()
@workspace_option
@click.option("--name", "-n", help="Only this model's versions.")
@click.option("--latest", is_flag=True, help="Only the latest version of each model.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def models(workspace: Path, name: str | None, latest: bool, as_json: bool) -> None:
    """List the registered models: name, version, the run that produced each, tags."""
    from hypersweep.model import Model

    ws = existing_workspace(workspace)
    found = Model.list(ws, name=name, latest=latest)
    if as_json:
        echo_json([m.serialize() for m in found])
        return
    table = Table(title=safe(f"Models in {ws.path}"), title_justify="left")
    for col in ("name", "version", "run", "registered", "tags", "description"):
        table.add_column(col, justify="right" if col == "version" else "left")
    for m in found:
        table.add_row(
            *(
                safe(cell)
                for cell in (
                    m.name,
                    str(m.version),
                    m.run_id or f"(file {m._source})",
                    m.created_time.astimezone().strftime("%Y-%m-%d %H:%M"),
                    ", ".join(f"{k}={v}" for k, v in m.tags.items()),
                    m.description or "",
                )
            )
        )
    print_whole(console, table)


@main.command()
@click.argument("sweep")
@workspace_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON (run id, arguments, hyperparameters, metrics).",
)
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
        echo_json(data)
        return
    console.print(
        f"[bold]{safe(run_.id)}[/] ({details['status']})", highlight=False, soft_wrap=True
    )
    console.print(
        f"{safe(hd.primary_metric)}: [bold]{safe(fmt(data['best_value']))}[/]",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        "arguments: " + safe(" ".join(data["arguments"])), highlight=False, soft_wrap=True
    )
    table = Table("metric", "value")
    for name, value in data["metrics"].items():
        table.add_row(
            plain(name), plain(fmt(value) if not isinstance(value, (list, dict)) else _short(value))
        )
    print_whole(console, table)


def _short(value: Any) -> str:
    if isinstance(value, list):
        shown = ", ".join(fmt(v) for v in value[-5:])
        return f"[{len(value)} values] … {shown}" if len(value) > 5 else f"[{shown}]"
    return json.dumps(value, default=str)[:80]


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
@click.option(
    "--all",
    "all_runs",
    is_flag=True,
    help="Given a sweep: the output of each of its runs, one after the other.",
)
@handle_errors
def logs(
    run_id: str, workspace: Path, stream: str, tail: int | None, follow: bool, all_runs: bool
) -> None:
    """Print the output of RUN_ID (e.g. HD_<uuid>_3; a unique prefix is enough).

    \b
    Given a sweep (an id, a unique prefix, or 'latest'), it lists the sweep's runs and asks
    which one (in a terminal), or prints them all with --all.
    """
    ws = existing_workspace(workspace)
    rows = _log_runs(ws, run_id, all_runs)
    if follow and len(rows) > 1:
        raise NotFoundError(
            f"--follow follows one run; {run_id!r} names {len(rows)}. Give one run's id."
        )
    for row in rows:
        if len(rows) > 1:
            click.echo(f"==> {row.id} ({row.status}) <==")
        _print_log(ws, row, stream, tail, follow)


def _runs_list(rows: list[RunRecord]) -> Table:
    table = Table("#", "run", "status", "best", title_justify="left")
    for r in rows:
        table.add_row(str(r.number), plain(r.id), r.status.value, plain(fmt(r.best_value)))
    return table


def _log_runs(ws: Workspace, ref: str, all_runs: bool) -> list[Any]:
    """The runs whose output ``hypersweep logs REF`` prints: a run by id or unique prefix; a sweep's runs
    (which one is asked in a terminal; all with ``all_runs``). An ambiguous prefix is an error that
    lists what it matches."""
    store = ws.store
    try:
        return [store.run(ref)]
    except NotFoundError:
        pass
    sweeps = store.sweeps()
    if ref == "latest":
        matched = sweeps[-1:]
    else:
        matched = [r for r in sweeps if r.id == ref] or [r for r in sweeps if r.id.startswith(ref)]
    if len(matched) > 1:
        _ambiguous(ref, [f"{r.id} ({r.experiment}, {r.status})" for r in matched], "sweeps")
    if len(matched) == 1:
        sweep = matched[0]
        runs = store.runs(sweep.id)
        if not runs:
            raise NotFoundError(f"Sweep {sweep.id} has no runs yet.")
        if sweep.kind == SINGLE or len(runs) == 1 or all_runs:
            return list(runs)
        if sys.stdin.isatty() and sys.stdout.isatty():
            console.print(_runs_list(runs))
            numbers = [str(r.number) for r in runs]
            chosen = click.prompt(
                f"{sweep.id} has {len(runs)} runs; which one (#)",
                type=click.Choice(numbers),
                show_choices=False,
            )
            return [r for r in runs if str(r.number) == chosen]
        err_console.print(_runs_list(runs))
        raise NotFoundError(
            f"{sweep.id} is a sweep of {len(runs)} runs: give one run's id "
            f"(hypersweep logs {runs[0].id}) or print them all with --all."
        )
    runs = _runs_by_prefix(ws, ref)
    if len(runs) == 1 or (runs and all_runs):
        return runs
    if runs:
        _ambiguous(
            ref, [f"{r.id} ({r.status})" for r in runs], "runs", " or --all for each of them"
        )
    raise NotFoundError(
        f"{ref!r} matches no run and no sweep in {ws.path}; list the sweeps with: hypersweep ls"
    )


def _runs_by_prefix(ws: Workspace, ref: str) -> list[Any]:
    """The runs whose id starts with ``ref`` (which names their sweep whole: run ids are SWEEP_N)."""
    candidates = [r for r in ws.store.sweeps() if ref.startswith(r.id + "_")]
    runs = [r for sweep in candidates for r in ws.store.runs(sweep.id) if r.id.startswith(ref)]
    if not runs:  # a run named otherwise: the store's own lookup of a unique prefix
        try:
            runs = [ws.store.find_run(ref)]
        except NotFoundError:
            pass
    return runs


def _ambiguous(ref: str, matches: list[str], what: str, hint: str = "") -> None:
    """Raise the error of a prefix that names several sweeps or runs, listing them (the first 20)."""
    listed = "\n  ".join(matches[:20]) + (
        f"\n  ... and {len(matches) - 20} more" if len(matches) > 20 else ""
    )
    raise NotFoundError(
        f"{ref!r} is ambiguous: it matches {len(matches)} {what}:\n  {listed}\n"
        f"Give more of the id{hint}."
    )


def _print_log(ws: Workspace, row: Any, stream: str, tail: int | None, follow: bool) -> None:
    """One run's output (its last ``tail`` lines), then why it ended; with ``follow``, until it ends."""
    view = RunView(ws.store, row.id)
    f = open_log(row.run_dir, stream, row.id)  # None when missing or a link out of the run
    offset = 0
    if f is not None:
        with f:
            if tail:
                offset = f.seek(0, 2)
                data = tail_bytes(f, tail, offset)  # read back from the end, not the whole file
                text = data.decode(errors="replace") + (
                    "\n" if data and not data.endswith(b"\n") else ""
                )
                click.echo(text, nl=False)
            else:
                decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
                while chunk := f.read(1 << 20):
                    click.echo(decoder.decode(chunk), nl=False)
                click.echo(decoder.decode(b"", final=True), nl=False)
                offset = f.tell()
    if row.error:
        first = row.error.split("\n")[0]  # not splitlines(): a carriage return is shown escaped
        err_console.print(f"[red]{row.status}:[/] {safe(first)}", highlight=False)
    elif row.reason:
        err_console.print(f"[yellow]{row.status}:[/] {safe(row.reason)}", highlight=False)
    if not follow:
        return
    for text in view.follow(stream, offset):
        click.echo(text, nl=False)


@main.command()
@click.argument("sweep")
@workspace_option
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (importances, runs used, message)."
)
@handle_errors
def importance(sweep: str, workspace: Path, as_json: bool) -> None:
    """How much each hyperparameter of SWEEP matters to its primary metric (fANOVA on a random forest)."""
    from hypersweep.importance import sweep_importances

    ws = existing_workspace(workspace)
    hd = resolve_sweep(ws, sweep)
    result = sweep_importances(ws.store.sweep(hd.id), ws.store.runs(hd.id))
    if as_json:
        echo_json({"sweep_id": hd.id, "primary_metric": hd.primary_metric, **result.to_dict()})
        return
    console.print(
        f"[bold]{safe(hd.id)}[/]: importance for {safe(hd.primary_metric)}, "
        f"from {result.n_runs} runs",
        highlight=False,
    )
    if result.importances:
        table = Table("hyperparameter", "importance", "± across trees", "")
        for name, share in result.importances.items():
            table.add_row(
                plain(name),
                f"{100 * share:.1f}%",
                f"{100 * result.std.get(name, 0.0):.1f}%",
                "█" * round(30 * share),
            )
        console.print(table)
    if result.message:
        console.print(safe(result.message), highlight=False)


from hypersweep.dashboard.commands import report as report_command  # noqa: E402 - needs the group above
from hypersweep.dashboard.commands import ui as ui_command  # noqa: E402

main.add_command(ui_command)
main.add_command(report_command)

if __name__ == "__main__":  # pragma: no cover
    main()
