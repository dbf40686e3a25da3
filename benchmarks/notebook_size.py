"""Notebook size: a notebook with three ``RunDetails(...).show()`` calls, run in a real kernel and saved.

    python benchmarks/notebook_size.py [--runs 6]

Runs the notebook with nbclient (three sweeps of --runs runs each, every one shown; the last one
shown while it runs), saves it as .ipynb and prints its size, how many outputs carry the chart
library, and the status the last view ends with. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import nbclient
import nbformat

SETUP = """
import time
from hypersweep import *
ws = Workspace('.')
def train(cfg):
    run = Run.get_context()
    for i in range(1, 4):
        run.log('acc', cfg['hidden'] * i)
        time.sleep(0.05)
def sweep(total):
    config = HyperDriveConfig(run_config=train,
        hyperparameter_sampling=RandomParameterSampling({'--hidden': uniform(0, 1)}, {'seed': total}),
        primary_metric_name='acc', primary_metric_goal='maximize', max_total_runs=total, max_concurrent_runs=2)
    return Experiment(ws, 'nb').submit(config)
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    nb = nbformat.v4.new_notebook()
    nb.cells = (
        [nbformat.v4.new_code_cell(SETUP)]
        + [
            nbformat.v4.new_code_cell(
                f"s{i} = sweep({args.runs}); s{i}.wait_for_completion(); RunDetails(s{i}).show()"
            )
            for i in range(2)
        ]
        + [
            nbformat.v4.new_code_cell(
                f"s2 = sweep({args.runs}); RunDetails(s2, refresh_seconds=1).show()"
            ),
            nbformat.v4.new_code_cell("s2.wait_for_completion(); print(s2.get_status())"),
        ]
    )
    with tempfile.TemporaryDirectory(prefix="hs-notebook-") as folder:
        nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": folder}}
        ).execute()
        path = Path(folder) / "three.ipynb"
        nbformat.write(nb, path)
        size = path.stat().st_size
    outputs = [o for cell in nb.cells for o in cell.outputs]
    libraries = sum("define, module, exports" in str(o.get("data", {})) for o in outputs)
    last = [o for o in nb.cells[3].outputs if "text/html" in o.get("data", {})][-1]["data"][
        "text/html"
    ]
    status = re.search(r'"sweep":\{.*?"status":"(\w+)"', last)
    print(
        f"notebook with three show() calls: {size / 1e6:.2f} MB; outputs with the chart library: {libraries}; "
        f"last view's sweep status: {status.group(1) if status else '?'}"
    )


if __name__ == "__main__":
    main()
