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
    run = Experiment(Workspace(tmp_path / "ws"), "nb").submit(callable_config(4, pause=0.05, intervals=6, concurrent=2))
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
