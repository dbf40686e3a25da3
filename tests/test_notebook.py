"""A sweep driven from a real Jupyter kernel: the widget draws and refreshes, and cell output stays in its cell."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.integration

SETUP = """
import time
from hypersweep import *
ws = Workspace('.')
def train(cfg):
    run = Run.get_context()
    for i in range(1, 4):
        run.log('acc', cfg['x'] * i)
        time.sleep(0.2)
    print('trained', cfg['x'])
config = HyperDriveConfig(run_config=train,
    hyperparameter_sampling=RandomParameterSampling({'x': uniform(0, 1)}, {'seed': 1}),
    primary_metric_name='acc', primary_metric_goal='maximize', max_total_runs=4, max_concurrent_runs=2)
run = Experiment(ws, 'nb').submit(config)
RunDetails(run, refresh_seconds=0.5).show()
"""


def test_a_sweep_in_a_notebook(tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(
            "print('while it runs'); run.wait_for_completion(); print('status', run.get_status())"
        ),
        nbformat.v4.new_code_cell("time.sleep(2); print(run.get_children()[0].get_logs().strip())"),
    ]
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    first, second, third = (cell.outputs for cell in nb.cells)
    # the chart library, the view, and (with ipywidgets) the live bar under it
    with_bar = importlib.util.find_spec("ipywidgets") is not None
    assert [o.output_type for o in first] == ["display_data"] * (3 if with_bar else 2)
    if with_bar:
        assert "application/vnd.jupyter.widget-view+json" in first[2]["data"]
    view = first[1]["data"]["text/html"]
    assert "HD_" in view and "Completed" in view  # redrawn in place until the sweep ended
    assert [o.get("text") for o in second] == ["while it runs\n", "status Completed\n"]
    assert third[0]["text"].startswith(
        "trained "
    )  # a callable's prints go to its run's log, not the notebook


THREE_VIEWS_SETUP = """
import json, re, time
from hypersweep import *
ws = Workspace('.')
def train(cfg):
    run = Run.get_context()
    for i in range(1, 4):
        run.log('acc', cfg.get('hidden', cfg.get('--hidden')) * i)
        time.sleep(0.05)
def sweep(total):
    config = HyperDriveConfig(run_config=train,
        hyperparameter_sampling=RandomParameterSampling({'--hidden': uniform(0, 1)}, {'seed': total}),
        primary_metric_name='acc', primary_metric_goal='maximize', max_total_runs=total, max_concurrent_runs=2)
    return Experiment(ws, 'nb').submit(config)
"""


def _view_data(output: dict) -> dict:
    """The data a view output draws (its JSON script element)."""
    html = output["data"]["text/html"]
    found = re.search(r'<script type="application/json" id="[^"]+-data">(.*?)</script>', html, re.S)
    assert found, html[:300]
    return json.loads(found.group(1))


def test_three_views_share_one_chart_library_and_the_last_ends_finished(tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(THREE_VIEWS_SETUP),
        nbformat.v4.new_code_cell(
            "first = sweep(2); first.wait_for_completion(); RunDetails(first).show()"
        ),
        nbformat.v4.new_code_cell("RunDetails(first.get_children()[0]).show()"),
        # watched while it runs, with a refresh far slower than the sweep: the end of the cell that
        # waits for it must draw its final state
        nbformat.v4.new_code_cell("last = sweep(6); RunDetails(last, refresh_seconds=600).show()"),
        nbformat.v4.new_code_cell("last.wait_for_completion(); print(last.get_status())"),
    ]
    nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    saved = tmp_path / "three.ipynb"
    nbformat.write(nb, saved)
    assert saved.stat().st_size < 1_500_000, saved.stat().st_size

    library = [
        o
        for cell in nb.cells
        for o in cell.outputs
        if "define, module, exports" in str(o.get("data", {}))
    ]
    assert len(library) == 1  # the first view's cell holds the library, the others only their data
    assert library[0] is nb.cells[1].outputs[0]

    run_view = _view_data(nb.cells[2].outputs[0])
    assert (
        "hidden" in run_view["run"]["hyperparameters"]
        and "--hidden" not in run_view["run"]["hyperparameters"]
    )

    views = [
        o for o in nb.cells[3].outputs if "HS.SweepView" in o.get("data", {}).get("text/html", "")
    ]
    assert len(views) == 1
    final = _view_data(views[0])
    assert final["sweep"]["status"] == "Completed"
    assert len(final["runs"]) == 6 and {r["status"] for r in final["runs"]} == {"Completed"}
    assert [o.get("text") for o in nb.cells[4].outputs] == ["Completed\n"]
