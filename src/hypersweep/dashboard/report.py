"""Self-contained HTML: the report of a sweep (one file to share) and the notebook widget's fragments.

Both inline the same scripts, styles and chart library as the dashboard's pages, and the same data
as its API, so they draw the same table and charts with no server and no network.
"""

from __future__ import annotations

import html
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypersweep.dashboard import _json, _runs, _sweeps
from hypersweep.dashboard._db import Reader
from hypersweep.errors import NotFoundError

STATIC = Path(__file__).parent / "static"
_SWEEP_SCRIPTS = ("hs-core.js", "hs-charts.js", "hs-sweep.js")
_RUN_SCRIPTS = ("hs-core.js", "hs-charts.js", "hs-run.js")


def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def _script(code: str) -> str:
    return "<script>" + code.replace("</script", "<\\/script") + "</script>"


def json_for_html(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (no ``<``, ``>``, ``&``)."""
    text = _json.dumps(data)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def library_html() -> str:
    """The chart library as one ``<script>``, defining ``window.echarts`` even where RequireJS is loaded
    (the classic notebook): the UMD wrapper is given no ``define``, ``module`` or ``exports``."""
    code = _static("echarts.min.js")
    return _script("(function(define, module, exports){\n" + code + "\n}).call(window);")


def _read(
    workspace: str | Path, payload: Callable[[Any, str], dict[str, Any]], sweep_id: str
) -> dict[str, Any]:
    """``payload(reads, sweep_id)`` on one read-only snapshot of the workspace's database."""
    reader = Reader(workspace)
    if not reader.exists:
        raise NotFoundError(f"{Path(workspace)} has no hypersweep workspace database.")
    try:
        with reader.snapshot() as reads:
            return payload(reads, sweep_id)
    finally:
        reader.close()


def sweep_data(workspace: str | Path, sweep_id: str) -> dict[str, Any]:
    """The same data as ``GET /api/sweeps/{sweep_id}``, read directly from the workspace."""
    return _read(workspace, _sweeps.sweep_payload, sweep_id)


def importance_data(workspace: str | Path, sweep_id: str) -> dict[str, Any]:
    """The same data as ``GET /api/sweeps/{sweep_id}/importance``, read directly from the workspace."""
    from hypersweep.dashboard._importance import importance_payload

    return _read(workspace, importance_payload, sweep_id)


def _importance_view(data: dict[str, Any], element_id: str) -> str:
    """The importance panel of the sweep view in ``element_id`` (drawn after it)."""
    boot = (
        (
            "(function(){var data=JSON.parse(document.getElementById(@DATA@).textContent);"
            "new HS.ImportancePanel(document.getElementById(@ROOT@)).update(data);})();"
        )
        .replace("@DATA@", json.dumps(element_id + "-importance"))
        .replace("@ROOT@", json.dumps(element_id))
    )
    return (
        f'<script type="application/json" id="{html.escape(element_id)}-importance">{json_for_html(data)}</script>\n'
        + _script(_static("hs-importance.js"))
        + "\n"
        + _script(boot)
    )


def run_data(workspace: str | Path, run_id: str, tail: int = 200) -> dict[str, Any]:
    """The same data as ``GET /api/runs/{run_id}``, plus the tails of its stdout and stderr."""
    reader = Reader(workspace)
    if not reader.exists:
        raise NotFoundError(f"{Path(workspace)} has no hypersweep workspace database.")
    try:
        with reader.snapshot() as reads:
            data = _runs.run_payload(reads, run_id)
            run_dir = _runs.run_row(reads, run_id).run_dir
    finally:
        reader.close()
    data["logs"] = {
        s: _runs.log_chunk(run_dir, s, None, tail)["text"] for s in ("stdout", "stderr")
    }
    for image in data.get(
        "images", []
    ):  # no server behind a report or a widget: images travel inline
        image["data"] = _runs.image_data_uri(run_dir, image["path"])
    return data


def _view(kind: str, data: dict[str, Any], element_id: str) -> str:
    """A root element, its data, and the scripts that draw it (the library must be loaded already)."""
    scripts = _SWEEP_SCRIPTS if kind == "sweep" else _RUN_SCRIPTS
    view = "SweepView" if kind == "sweep" else "RunView"
    boot = (
        "(function(){var root=document.getElementById(@ROOT@);"
        "var data=JSON.parse(document.getElementById(@DATA@).textContent);"
        "var view=new HS.@VIEW@(root,data,{links:false,logs:@LOGS@});"
        "if(data.logs){for(var s in view.logBoxes){view.logBoxes[s].textContent=data.logs[s]||'';}}})();"
    )
    for key, value in (
        ("@ROOT@", json.dumps(element_id)),
        ("@DATA@", json.dumps(element_id + "-data")),
        ("@VIEW@", view),
        ("@LOGS@", "true" if kind == "run" else "false"),
    ):
        boot = boot.replace(key, value)
    return (
        f'<div id="{html.escape(element_id)}" class="hs hs-embedded"></div>\n'
        f'<script type="application/json" id="{html.escape(element_id)}-data">{json_for_html(data)}</script>\n'
        + "\n".join(_script(_static(name)) for name in scripts)
        + "\n"
        + _script(boot)
    )


def fragment(kind: str, data: dict[str, Any], element_id: str | None = None) -> str:
    """An HTML fragment for a notebook output: styles, the view and its data (no chart library;
    display :func:`library_html` first)."""
    element_id = element_id or f"hs-{uuid.uuid4().hex[:12]}"
    return f"<style>{_static('hs.css')}</style>\n" + _view(kind, data, element_id)


def sweep_report_html(workspace: str | Path, sweep_id: str, run_id: str | None = None) -> str:
    """One self-contained HTML page with the sweep's summary, charts and runs table (with ``run_id``:
    that run's page instead, for a single run)."""
    kind = "run" if run_id else "sweep"
    data = run_data(workspace, run_id) if run_id else sweep_data(workspace, sweep_id)
    title = f"{run_id or sweep_id} · hypersweep report"
    made = time.strftime("%Y-%m-%d %H:%M %Z")
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_static('hs.css')}</style>\n</head>\n"
        '<body class="hs-page">\n'
        f'<nav class="hs-nav">hypersweep report <span class="hs-muted">· made {html.escape(made)}</span></nav>\n'
        '<main class="hs">\n'
        + library_html()
        + "\n"
        + _view(kind, data, "app")
        + ("" if run_id else "\n" + _importance_view(importance_data(workspace, sweep_id), "app"))
        + "\n</main>\n</body>\n</html>\n"
    )


def write_report(
    workspace: str | Path, sweep_id: str, path: str | Path, run_id: str | None = None
) -> Path:
    """Write :func:`sweep_report_html` to ``path`` and return it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(sweep_report_html(workspace, sweep_id, run_id), encoding="utf-8")
    return target
