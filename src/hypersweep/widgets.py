"""``RunDetails``: the table and charts of a sweep or a run in a notebook, refreshing while it runs.

In Jupyter (any kernel-backed IPython front end) it displays the dashboard's own view, drawn from
data read straight from the workspace (no server), and replaces it every few seconds until the
run ends. Elsewhere it prints a text table. IPython is imported only when a notebook is detected.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from hypersweep.status import RunStatus

__all__ = ["RunDetails"]


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


class RunDetails:
    """HyperDrive's notebook widget: a sweep's runs table and charts, or one run's metrics.

    Args:
        run: a :class:`~hypersweep.HyperDriveRun` (a sweep) or one of its child runs.
        refresh_seconds: how often the display is redrawn while the run is not finished.

    Example:
        >>> from hypersweep.widgets import RunDetails                  # doctest: +SKIP
        >>> RunDetails(hyperdrive_run).show()                          # doctest: +SKIP
    """

    def __init__(self, run: Any, refresh_seconds: float = 3.0) -> None:
        from hypersweep.experiment import HyperDriveRun
        from hypersweep.run import Run

        if not isinstance(run, Run) or not hasattr(run, "experiment"):
            raise TypeError(f"RunDetails expects a HyperDriveRun or a Run. Got {type(run).__name__} instead.")
        self.run = run
        self.is_sweep = isinstance(run, HyperDriveRun)
        self.refresh_seconds = float(refresh_seconds)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- data -------------------------------------------------------------------------------------

    def _workspace(self) -> Any:
        return self.run.experiment.workspace.path

    def _finished(self) -> bool:
        return RunStatus(self.run.get_status()).is_terminal

    def get_html(self, element_id: str | None = None) -> str:
        """The view as an HTML fragment (styles, data and scripts; the chart library not included)."""
        from hypersweep.dashboard import report

        if self.is_sweep:
            return report.fragment("sweep", report.sweep_data(self._workspace(), self.run.id), element_id)
        return report.fragment("run", report.run_data(self._workspace(), self.run.id), element_id)

    # -- showing ----------------------------------------------------------------------------------

    def show(self) -> None:
        """Display the widget (in a notebook) or print a text table (anywhere else)."""
        if _in_notebook():
            self._show_notebook()
        else:
            self._print()

    def _print(self) -> None:
        from rich.console import Console

        from hypersweep.display import runs_table, summary_line

        console = Console()
        if self.is_sweep:
            console.print(runs_table(self.run))
            console.print(summary_line(self.run))
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
        display(html(library_html()))
        element = f"hs-{id(self):x}-{int(time.time() * 1000) % 10**8}"
        handle = display(html(self.get_html(element)), display_id=True)
        if self._finished():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._refresh, args=(handle, html, element), name="hypersweep-RunDetails", daemon=True
        )
        self._thread.start()

    def _refresh(self, handle: Any, html: Any, element: str) -> None:
        """Redraw every ``refresh_seconds`` until the run ends (then once more, with its final state)."""
        while not self._stop.wait(self.refresh_seconds):
            finished = self._finished()
            try:
                handle.update(html(self.get_html(element)))
            except Exception:  # a closed notebook or a vanished workspace ends the refresh
                return
            if finished:
                return

    def stop(self) -> None:
        """Stop refreshing (the last drawing stays)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.refresh_seconds + 5)
