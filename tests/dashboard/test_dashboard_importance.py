"""Hyperparameter importance on the dashboard: the API route, the sweep page's panel and the report's section."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from hypersweep import Experiment, Workspace
from hypersweep.dashboard.report import sweep_report_html

from .dashboard_helpers import callable_config

pytestmark = pytest.mark.integration


def get(server, path: str) -> httpx.Response:
    return httpx.get(server.url + path, timeout=60)


def _few_runs(tmp_path) -> tuple[Workspace, str]:
    ws = Workspace(tmp_path / "few")
    run = Experiment(ws, "few").submit(callable_config(2))
    run.wait_for_completion()
    return ws, run.id


def test_the_route_answers_the_results_apis_estimate(server, sweeps) -> None:
    data = get(server, f"/api/sweeps/{sweeps.fn.id}/importance").json()
    expected = sweeps.fn.get_parameter_importances()
    assert [e["name"] for e in data["importances"]] == list(expected)
    assert next(iter(expected)) == "x"  # the score is x times a curve, plus 0.05 for one kind
    for entry in data["importances"]:
        assert entry["importance"] == pytest.approx(expected[entry["name"]])
        assert entry["label"] == entry["name"] and entry["std"] >= 0
    assert (data["sweep_id"], data["primary_metric"], data["goal"], data["method"]) == (
        sweeps.fn.id,
        "score",
        "maximize",
        "fanova",
    )
    assert data["n_runs"] == 12 and data["counts"] == {"failed": 0, "unfinished": 0, "no_metric": 0}
    assert data["message"] is None
    again = get(server, f"/api/sweeps/{sweeps.fn.id}/importance").json()
    assert again == data  # reproducible (and served from the cache)
    assert get(server, "/api/sweeps/HD_nope/importance").status_code == 404
    assert "/api/sweeps/{sweep_id}/importance" in get(server, "/api/openapi.json").json()["paths"]


def test_the_route_says_why_with_too_few_runs(serve, tmp_path) -> None:
    ws, sweep_id = _few_runs(tmp_path)
    live = serve(ws.path)
    data = get(live, f"/api/sweeps/{sweep_id}/importance").json()
    assert data["importances"] == [] and data["n_runs"] == 2
    assert "at least 3" in data["message"]


def test_the_report_has_the_importance_section(sweeps) -> None:
    text = sweep_report_html(sweeps.workspace.path, sweeps.fn.id)
    found = re.search(
        r'<script type="application/json" id="app-importance">(.*?)</script>', text, re.S
    )
    assert found is not None
    data = json.loads(found.group(1))
    assert [e["name"] for e in data["importances"]] == list(sweeps.fn.get_parameter_importances())
    assert "HS.ImportancePanel" in text


@pytest.mark.browser
def test_the_sweep_page_draws_the_importance_bars(page, server, sweeps) -> None:
    page.goto(f"{server.url}/sweeps/{sweeps.fn.id}")
    page.wait_for_function(
        "() => document.getElementById('hs-importance')?.dataset.state === 'drawn'", timeout=60_000
    )
    assert "hyperparameter importance for score" in page.locator("#hs-importance h3").inner_text()
    assert "from 12 runs" in page.locator(".hs-importance-note").inner_text()
    option = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('hs-chart-importance')).getOption()"
    )
    labels = option["yAxis"][0]["data"]
    assert labels[-1] == "x" and sorted(labels) == [
        "kind",
        "lr",
        "x",
    ]  # the most important at the top
    values = option["series"][0]["data"]
    assert values == sorted(values) and sum(values) == pytest.approx(1.0)
    inked = page.evaluate("""() => { const c = document.querySelector('#hs-chart-importance canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
    assert inked > 500
    # the panel comes before the other charts, which are all still drawn
    assert page.evaluate("""() => { const s = document.getElementById('hs-importance');
      return !!(s.compareDocumentPosition(document.querySelector('.hs-charts')) & Node.DOCUMENT_POSITION_FOLLOWING); }""")


@pytest.mark.browser
def test_the_sweep_page_and_the_report_say_why_there_is_no_estimate(page, serve, tmp_path) -> None:
    ws, sweep_id = _few_runs(tmp_path)
    live = serve(ws.path)
    page.goto(f"{live.url}/sweeps/{sweep_id}")
    page.wait_for_function(
        "() => document.getElementById('hs-importance')?.dataset.state === 'empty'", timeout=60_000
    )
    assert "at least 3" in page.locator(".hs-importance-note").inner_text()
    assert page.locator("#hs-chart-importance").is_hidden()
    report = tmp_path / "report.html"
    report.write_text(sweep_report_html(ws.path, sweep_id))
    page.goto(report.as_uri())
    page.wait_for_function(
        "() => document.getElementById('hs-importance')?.dataset.state === 'empty'", timeout=60_000
    )
    assert "at least 3" in page.locator(".hs-importance-note").inner_text()


@pytest.mark.browser
def test_the_report_draws_the_importance_bars_offline(page, sweeps, tmp_path) -> None:
    report = tmp_path / "report.html"
    report.write_text(sweep_report_html(sweeps.workspace.path, sweeps.fn.id))
    page.goto(report.as_uri())
    page.wait_for_function(
        "() => document.getElementById('hs-importance')?.dataset.state === 'drawn'", timeout=60_000
    )
    option = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('hs-chart-importance')).getOption()"
    )
    assert option["yAxis"][0]["data"][-1] == "x"


@pytest.mark.browser
def test_a_live_sweep_page_shows_the_estimate_once_enough_runs_have_ended(
    page, serve, tmp_path
) -> None:
    ws = Workspace(tmp_path / "live")
    run = Experiment(ws, "live").submit(callable_config(6, pause=0.3, intervals=8, concurrent=2))
    try:
        live = serve(ws.path)
        page.goto(f"{live.url}/sweeps/{run.id}")
        page.wait_for_function(
            "() => !!document.getElementById('hs-importance')?.dataset.state", timeout=60_000
        )
        run.wait_for_completion()
        # the page fetches the panel again when the sweep ends: the estimate from all six runs
        page.wait_for_function(
            "() => document.getElementById('hs-importance').dataset.state === 'drawn'"
            " && document.querySelector('.hs-importance-note').textContent.includes('from 6 runs')",
            timeout=60_000,
        )
    finally:
        run.wait_for_completion(raise_on_error=False)
