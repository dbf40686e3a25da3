"""A sweep driven from a real Jupyter kernel: the widget draws and refreshes, and cell output stays in its cell."""

from __future__ import annotations

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
        nbformat.v4.new_code_cell("print('while it runs'); run.wait_for_completion(); print('status', run.get_status())"),
        nbformat.v4.new_code_cell("time.sleep(2); print(run.get_children()[0].get_logs().strip())"),
    ]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    first, second, third = (cell.outputs for cell in nb.cells)
    assert [o.output_type for o in first] == ["display_data", "display_data"]
    view = first[1]["data"]["text/html"]
    assert "HD_" in view and "Completed" in view  # redrawn in place until the sweep ended
    assert [o.get("text") for o in second] == ["while it runs\n", "status Completed\n"]
    assert third[0]["text"].startswith("trained ")  # a callable's prints go to its run's log, not the notebook
