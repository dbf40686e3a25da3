"""``RunDetails``: the table and charts of a sweep or a run in a notebook, refreshing while it runs.

In Jupyter (any kernel-backed IPython front end) it displays the dashboard's own view, drawn from
data read straight from the workspace (no server), and redraws it every few seconds until the run
ends. Elsewhere it prints a text table. IPython is imported only when a notebook is detected.

The chart library (1.1 MB) is sent once per kernel session: in its own output, just above the
first view, and never again while that output stays (each later ``show()`` sends only its data and
the view's small scripts). A notebook saved and reopened runs its outputs in order, so the library
output of the first ``show()`` defines the charts of every later view. Running that first cell
again would take the library away with its old output: it is sent again then (the cell's id tells).

The final state of a finished run is always drawn: the display is redrawn one last time when the
run ends, by the refresh thread or, at the latest, when the cell that was running ends (an IPython
``post_run_cell`` hook), so a cell that waits for the sweep leaves its display finished.

Where ipywidgets is installed, a live bar follows the view while the run is not finished: progress,
status and buttons to redraw now or stop refreshing (``pip install 'hypersweep[notebook]'``). The
view itself stays a plain HTML output, which a saved notebook shows without any widget state.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from hypersweep.status import RunStatus

__all__ = ["RunDetails"]

# The output that holds the chart library in this kernel session: (cell id, execution count) of the
# cell that displayed it, or None until the first show(). See _library_needed().
_library_output: tuple[str | None, int | None] | None = None
_library_lock = threading.Lock()

MISSING_LIBRARY_NOTE = (
    "The charts need the chart library, which the first RunDetails(...).show() of the session displays "
    "above its view: run that cell again (or this one after restarting the kernel)."
)


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (not in a terminal IPython or plain Python)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _ipython_display() -> tuple[Any, Any]:
    """``(display, HTML)`` from IPython (lazily: IPython is not a dependency)."""
    from IPython.display import HTML, display

    return display, HTML


def _shell() -> Any:
    """The running IPython shell, or None (outside IPython)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def _current_cell() -> tuple[str | None, int | None]:
    """The id (when the front end sends it) and execution count of the cell being run."""
    shell = _shell()
    if shell is None:
        return None, None
    cell_id = None
    kernel = getattr(shell, "kernel", None)
    try:
        header = kernel.get_parent("shell") if kernel is not None else {}
        cell_id = (header.get("metadata") or {}).get("cellId")
    except Exception:  # an older ipykernel: no cell ids, the library goes once per session
        cell_id = None
    return cell_id, getattr(shell, "execution_count", None)


def _library_needed() -> bool:
    """True if this ``show()`` must display the chart library (and note that it did).

    The library goes with the first ``show()`` of the kernel session, and again only if the cell that
    holds it is being run again (its old outputs, library included, are replaced).
    """
    global _library_output
    here = _current_cell()
    with _library_lock:
        held = _library_output
        rerun = (
            held is not None and held[0] is not None and held[0] == here[0] and held[1] != here[1]
        )
        if held is None or rerun:
            _library_output = here
            return True
        return False


def _plain_labels(data: dict[str, Any]) -> dict[str, Any]:
    """A run's data with hyperparameters named as the dashboard's sweep view names them (``hidden``,
    not ``--hidden``)."""
    run = data.get("run")
    if not isinstance(run, dict) or not isinstance(run.get("hyperparameters"), dict):
        return data
    names = [plain_label(k) for k in run["hyperparameters"]]
    if len(set(names)) != len(names):  # "--x" and "x" both: keep the names as they are
        return data
    run["hyperparameters"] = {plain_label(k): v for k, v in run["hyperparameters"].items()}
    prefix = "hyperparameters."
    run["nonfinite"] = {
        (prefix + plain_label(key[len(prefix) :]) if key.startswith(prefix) else key): mark
        for key, mark in (run.get("nonfinite") or {}).items()
    }
    return data


def _guard(element_id: str) -> str:
    """A line above the view, shown only when the chart library is missing in the page."""
    import html
    import json

    note = html.escape(MISSING_LIBRARY_NOTE)
    return (
        f'<div id="{html.escape(element_id)}-nolib" class="hs-muted" style="display:none">{note}</div>'
        "<script>(function(){if(!window.echarts){var n=document.getElementById("
        + json.dumps(element_id + "-nolib").replace("<", "\\u003c")
        + ");if(n){n.style.display='block';}}})();</script>\n"
    )


class RunDetails:
    """HyperDrive's notebook widget: a sweep's runs table and charts, or one run's metrics.

    Args:
        run: a :class:`~hypersweep.HyperDriveRun` (a sweep) or one of its child runs.
        refresh_seconds: how often the display is redrawn while the run is not finished.
        controls: show the live ipywidgets bar (progress, redraw, stop) while the run is not
            finished; default: when ipywidgets is installed.

    Example:
        >>> from hypersweep.widgets import RunDetails                  # doctest: +SKIP
        >>> RunDetails(hyperdrive_run).show()                          # doctest: +SKIP
    """

    def __init__(
        self, run: Any, refresh_seconds: float = 3.0, *, controls: bool | None = None
    ) -> None:
        from hypersweep.experiment import HyperDriveRun
        from hypersweep.run import Run

        if not isinstance(run, Run) or not hasattr(run, "experiment"):
            raise TypeError(
                f"RunDetails expects a HyperDriveRun or a Run. Got {type(run).__name__} instead."
            )
        self.run = run
        self.is_sweep = isinstance(run, HyperDriveRun)
        self.refresh_seconds = float(refresh_seconds)
        self.controls = controls
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._draw_lock = threading.Lock()
        self._final_drawn = False
        self._handle: Any = None
        self._html: Any = None
        self._element = ""
        self._bar: Any = None
        self._hooked: Any = None

    # -- data -------------------------------------------------------------------------------------

    def _workspace(self) -> Any:
        return self.run.experiment.workspace.path

    def _finished(self) -> bool:
        return RunStatus(self.run.get_status()).is_terminal

    def get_html(self, element_id: str | None = None) -> str:
        """The view as an HTML fragment (styles, data and scripts; the chart library not included)."""
        from hypersweep.dashboard import report

        if self.is_sweep:
            return report.fragment(
                "sweep", report.sweep_data(self._workspace(), self.run.id), element_id
            )
        data = _plain_labels(report.run_data(self._workspace(), self.run.id))
        return report.fragment("run", data, element_id)

    # -- showing ----------------------------------------------------------------------------------

    def show(self) -> None:
        """Display the widget (in a notebook) or print a text table (anywhere else)."""
        if _in_notebook():
            self._show_notebook()
        else:
            self._print()

    def _print(self) -> None:
        from rich.console import Console

        from hypersweep.display import print_whole, runs_table, summary_line

        console = Console()
        if self.is_sweep:
            print_whole(console, runs_table(self.run), summary_line(self.run))
            return
        from rich.table import Table

        from hypersweep.display import fmt

        console.print(f"{self.run.id} ({self.run.get_status()})", soft_wrap=True, highlight=False)
        table = Table("metric", "value")
        for name, value in self.run.get_metrics().items():
            if isinstance(value, list):
                shown = f"{fmt(value[-1])} (last of {len(value)})" if value else ""
            elif isinstance(value, dict):
                shown = f"table: {', '.join(map(str, value))}"
            else:
                shown = fmt(value)
            table.add_row(name, shown)
        console.print(table)

    def _show_notebook(self) -> None:
        from hypersweep.dashboard.report import library_html

        display, html = _ipython_display()
        if _library_needed():
            display(html(library_html()))
        self._html = html
        self._element = f"hs-{id(self):x}-{int(time.time() * 1000) % 10**8}"
        finished = self._finished()
        self._final_drawn = finished
        self._handle = display(
            html(_guard(self._element) + self.get_html(self._element)), display_id=True
        )
        if finished:
            return
        self._bar = self._make_bar(display)
        self._hook()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._refresh, name="hypersweep-RunDetails", daemon=True
        )
        self._thread.start()

    def _make_bar(self, display: Any) -> Any:
        """The ipywidgets bar under the view, or None (no ipywidgets, or ``controls=False``)."""
        if self.controls is False:
            return None
        try:
            bar = ControlBar(redraw=self.redraw, stop=self.stop)
        except ImportError:
            if self.controls:
                raise
            return None
        bar.update(*self._progress())
        display(bar.box)
        return bar

    def _progress(self) -> tuple[str, int, int]:
        """``(status line, finished runs, total)`` for the bar."""
        status = self.run.get_status()
        if not self.is_sweep:
            return status, int(RunStatus(status).is_terminal), 1
        store = self.run.experiment.workspace.store
        try:
            total = int(store.sweep(self.run.id).max_total_runs)
            rows = store.runs(self.run.id)
        except Exception:  # the sweep's row is being created
            return status, 0, 1
        done = sum(1 for r in rows if r.status.is_terminal)
        return f"{status} · {done}/{total} runs finished", done, max(total, len(rows))

    def redraw(self) -> bool:
        """Draw the display again with the run's current state; True once its final state is drawn."""
        if self._handle is None:
            return False
        with self._draw_lock:
            if self._final_drawn:
                return True
            finished = self._finished()  # read before the data: a finished run's data is final
            self._handle.update(self._html(_guard(self._element) + self.get_html(self._element)))
            if self._bar is not None:
                self._bar.update(*self._progress(), finished=finished)
            self._final_drawn = finished
            if finished:
                self._stop.set()
            return finished

    def _refresh(self) -> None:
        """Redraw every ``refresh_seconds`` until the run ends (then once more, with its final state)."""
        while not self._stop.wait(self.refresh_seconds):
            try:
                if self.redraw():
                    break
            except Exception:  # a closed notebook or a vanished workspace ends the refresh
                break
        self._unhook()

    def _hook(self) -> None:
        """Redraw at the end of each cell once the run has finished (a cell that waited for it)."""
        shell = _shell()
        events = getattr(shell, "events", None)
        if events is None:
            return

        def after_cell(*_: Any) -> None:
            try:
                if self._finished() and self.redraw():
                    self._unhook()
            except Exception:
                self._unhook()

        events.register("post_run_cell", after_cell)
        self._hooked = (events, after_cell)

    def _unhook(self) -> None:
        hooked, self._hooked = self._hooked, None
        if hooked is not None:
            try:
                hooked[0].unregister("post_run_cell", hooked[1])
            except ValueError:  # already gone
                pass

    def stop(self) -> None:
        """Stop refreshing (the last drawing stays; a finished run is still drawn when a cell ends)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.refresh_seconds + 5)
        if self._bar is not None:
            self._bar.stopped()


def plain_label(name: Any) -> str:
    """A name as the dashboard shows it: a hyperparameter ``--hidden`` is ``hidden``."""
    return str(name).lstrip("-") or str(name)


class ControlBar:
    """A progress bar, a status line and two buttons (Redraw now, Stop refreshing).

    Args:
        redraw: called by "Redraw now".
        stop: called by "Stop refreshing".
    """

    def __init__(self, redraw: Callable[[], Any], stop: Callable[[], Any]) -> None:
        import ipywidgets  # ImportError without it: RunDetails then shows the HTML view alone

        self.progress = ipywidgets.IntProgress(
            value=0, min=0, max=1, description="runs", bar_style="info"
        )
        self.status = ipywidgets.Label(value="")
        self.redraw_button = ipywidgets.Button(
            description="Redraw now", tooltip="Draw the current state now"
        )
        self.stop_button = ipywidgets.Button(
            description="Stop refreshing", tooltip="Keep the last drawing"
        )
        self.redraw_button.on_click(lambda _: redraw())
        self.stop_button.on_click(lambda _: stop())
        self.box = ipywidgets.HBox(
            [self.progress, self.status, self.redraw_button, self.stop_button]
        )

    def update(self, status: str, done: int, total: int, finished: bool = False) -> None:
        """Show ``done`` of ``total`` finished runs and the status line; a finished run ends the bar."""
        self.progress.max = max(1, total)
        self.progress.value = min(done, self.progress.max)
        self.status.value = status
        if finished:
            self.progress.bar_style = "success" if status.startswith("Completed") else "warning"
            self.redraw_button.disabled = True
            self.stop_button.disabled = True

    def stopped(self) -> None:
        """Refreshing was stopped by the user: the buttons say so."""
        self.stop_button.disabled = True
        self.stop_button.description = "Stopped"
