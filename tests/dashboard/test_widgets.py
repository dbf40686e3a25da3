"""RunDetails: a text table outside a notebook, a refreshing HTML view inside one (IPython faked)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from hypersweep import Experiment, Workspace, widgets
from hypersweep.widgets import RunDetails

from .dashboard_helpers import callable_config


class FakeHandle:
    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log

    def update(self, obj: Any) -> None:
        self.log.append(("update", obj))


class FakeIPython:
    """What RunDetails uses of IPython.display: display(obj, display_id=...) and HTML(text)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []
        self.lock = threading.Lock()

    def display(self, obj: Any, display_id: Any = None) -> FakeHandle | None:
        self.log.append(("display", obj))
        return FakeHandle(self.log) if display_id else None

    @staticmethod
    def html(text: str) -> str:
        return text


@pytest.fixture
def notebook(monkeypatch) -> FakeIPython:
    fake = FakeIPython()
    monkeypatch.setattr(widgets, "_in_notebook", lambda: True)
    monkeypatch.setattr(widgets, "_ipython_display", lambda: (fake.display, fake.html))
    monkeypatch.setattr(widgets, "_library_output", None)  # a fresh kernel session
    return fake


def test_outside_a_notebook_a_sweep_prints_its_table(sweeps, capsys) -> None:
    assert widgets._in_notebook() is False
    RunDetails(sweeps.fn).show()
    out = capsys.readouterr().out
    assert sweeps.fn.id in out and "Completed" in out and "kind" in out


def test_outside_a_notebook_a_run_prints_its_metrics(sweeps, capsys) -> None:
    run = sweeps.script.get_children()[0]
    RunDetails(run).show()
    out = capsys.readouterr().out
    assert run.id in out and "loss" in out and "last of 4" in out


def test_in_a_notebook_a_finished_sweep_is_drawn_once(sweeps, notebook) -> None:
    details = RunDetails(sweeps.fn)
    details.show()
    kinds = [kind for kind, _ in notebook.log]
    assert kinds == ["display", "display"]
    library, view = (obj for _, obj in notebook.log)
    assert "echarts" in library and "define, module, exports" in library
    assert "HS.SweepView" in view and sweeps.fn.id in view
    assert "<script>window.__pwned" not in view  # user text is escaped JSON inside the page
    assert details._thread is None


def test_in_a_notebook_a_running_sweep_refreshes_until_it_ends(tmp_path, notebook) -> None:
    run = Experiment(Workspace(tmp_path / "ws"), "nb").submit(
        callable_config(4, pause=0.05, intervals=6, concurrent=2)
    )
    details = RunDetails(run, refresh_seconds=0.2)
    details.show()
    run.wait_for_completion()
    assert details._thread is not None
    details._thread.join(timeout=10)
    assert not details._thread.is_alive()
    updates = [obj for kind, obj in notebook.log if kind == "update"]
    assert updates and '"status":"Completed"' in updates[-1]


def test_a_run_widget_has_its_metrics_and_logs(sweeps) -> None:
    html = RunDetails(sweeps.script.get_children()[1]).get_html("x1")
    assert 'id="x1"' in html and "HS.RunView" in html and "epoch 3 \\u003cb\\u003eloss" in html


def test_only_runs_are_accepted() -> None:
    with pytest.raises(TypeError, match="HyperDriveRun or a Run"):
        RunDetails("HD_123")


def _libraries(log: list[tuple[str, Any]]) -> int:
    return sum(
        1
        for kind, obj in log
        if kind == "display" and isinstance(obj, str) and "define, module, exports" in obj
    )


def test_the_chart_library_goes_once_per_session_and_again_when_its_cell_is_run_again(
    sweeps, notebook, monkeypatch
) -> None:
    cell = ["cell-a", 1]
    monkeypatch.setattr(widgets, "_current_cell", lambda: tuple(cell))
    RunDetails(sweeps.fn).show()
    RunDetails(sweeps.fn).show()  # the same cell, the same execution: its library output is there
    cell[:] = ["cell-b", 2]
    RunDetails(sweeps.script).show()
    assert _libraries(notebook.log) == 1
    views = [obj for kind, obj in notebook.log if kind == "display" and "HS.SweepView" in str(obj)]
    assert len(views) == 3 and all("define, module, exports" not in v for v in views)
    assert all(
        widgets.MISSING_LIBRARY_NOTE.split(":")[0] in v for v in views
    )  # said if the library is gone
    cell[:] = ["cell-a", 3]  # the cell that held the library is run again: its outputs are replaced
    RunDetails(sweeps.fn).show()
    assert _libraries(notebook.log) == 2


def test_a_run_view_names_hyperparameters_as_the_sweep_view_does(tmp_path) -> None:
    from hypersweep import HyperDriveConfig, RandomParameterSampling, uniform

    def train(cfg: dict[str, Any]) -> None:
        from hypersweep import Run

        Run.get_context().log("acc", cfg["hidden"])

    config = HyperDriveConfig(
        run_config=train,
        hyperparameter_sampling=RandomParameterSampling({"--hidden": uniform(0, 1)}),
        primary_metric_name="acc",
        primary_metric_goal="maximize",
        max_total_runs=1,
        max_concurrent_runs=1,
    )
    sweep = Experiment(Workspace(tmp_path / "ws"), "labels").submit(config)
    sweep.wait_for_completion()
    html = RunDetails(sweep.get_children()[0]).get_html("x2")
    assert '"hyperparameters":{"hidden":' in html and '"hyperparameters":{"--hidden"' not in html
    assert '"arguments":["--hidden",' in html  # the command line stays as it ran
    assert '"label":"hidden"' in RunDetails(sweep).get_html("x3")


def test_redraw_after_the_end_draws_the_final_state_once(tmp_path, notebook) -> None:
    run = Experiment(Workspace(tmp_path / "ws"), "nb").submit(
        callable_config(3, pause=0.2, intervals=3, concurrent=2)
    )
    details = RunDetails(
        run, refresh_seconds=600, controls=False
    )  # the thread would wait ten minutes
    details.show()
    run.wait_for_completion()
    assert details.redraw() is True  # what the end of a cell does once the run has finished
    assert details.redraw() is True
    updates = [obj for kind, obj in notebook.log if kind == "update"]
    assert len(updates) == 1 and '"status":"Completed"' in updates[0]
    details._thread.join(timeout=30)
    assert not details._thread.is_alive()


def test_with_ipywidgets_a_running_sweep_gets_a_live_bar_that_ends_finished(
    tmp_path, notebook
) -> None:
    ipywidgets = pytest.importorskip("ipywidgets")
    run = Experiment(Workspace(tmp_path / "ws"), "nb").submit(
        callable_config(3, pause=0.2, intervals=3, concurrent=2)
    )
    details = RunDetails(run, refresh_seconds=0.2)
    details.show()
    bars = [obj for kind, obj in notebook.log if isinstance(obj, ipywidgets.HBox)]
    assert len(bars) == 1
    run.wait_for_completion()
    details._thread.join(timeout=30)
    assert not details._thread.is_alive()
    assert details._bar.progress.value == 3 and details._bar.progress.max == 3
    assert details._bar.status.value.startswith("Completed") and details._bar.stop_button.disabled


def test_without_ipywidgets_a_running_sweep_is_the_html_view_alone(
    tmp_path, notebook, monkeypatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "ipywidgets", None)  # import ipywidgets fails
    run = Experiment(Workspace(tmp_path / "ws"), "nb").submit(
        callable_config(2, pause=0.2, intervals=3, concurrent=2)
    )
    details = RunDetails(run, refresh_seconds=0.2)
    details.show()
    assert details._bar is None and all(isinstance(obj, str) for _, obj in notebook.log)
    run.wait_for_completion()
    details._thread.join(timeout=30)
    assert '"status":"Completed"' in [obj for kind, obj in notebook.log if kind == "update"][-1]
    with pytest.raises(ImportError):
        RunDetails(run, controls=True)._make_bar(notebook.display)


@pytest.mark.browser
def test_reopened_the_outputs_in_order_draw_every_view_and_a_view_without_the_library_says_why(
    sweeps, notebook, page
) -> None:
    """What a saved notebook shows when it is opened again: its outputs' HTML, in order, in one page."""
    RunDetails(sweeps.fn).show()
    RunDetails(sweeps.script).show()
    RunDetails(sweeps.script.get_children()[0]).show()
    outputs = [obj for kind, obj in notebook.log if kind == "display"]
    assert len(outputs) == 4 and "define, module, exports" in outputs[0]
    page.set_content("<!doctype html><html><body>" + "\n".join(outputs) + "</body></html>")
    views = page.locator(".hs-embedded")
    assert views.count() == 3
    for i in range(3):
        page.wait_for_function(
            "i => document.querySelectorAll('.hs-embedded')[i].querySelectorAll('canvas').length > 0",
            arg=i,
            timeout=30_000,
        )
    assert page.locator("[id$='-nolib']:visible").count() == 0
    without = page.context.new_page()  # its script errors are expected: no chart library
    without.set_content(
        "<!doctype html><html><body>" + outputs[-1] + "</body></html>"
    )  # the library output lost
    note = without.locator("[id$='-nolib']")
    assert note.is_visible() and "run that cell again" in note.inner_text()
    without.close()
