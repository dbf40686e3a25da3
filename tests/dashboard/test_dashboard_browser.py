"""The pages in headless Chromium: a finished sweep's table and charts, a run, a live sweep, the report."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hypersweep import Experiment, Workspace
from hypersweep.dashboard import report

from .dashboard_helpers import EVIL, EVIL_VALUE, callable_config

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DRAWN = "() => document.documentElement.dataset.hsChartsDrawn !== undefined"
# How many of a chart's canvas pixels are not blank (a drawn chart has thousands).
INKED = """(sel) => Array.from(document.querySelectorAll(sel)).map((box) => {
  const c = box.querySelector('canvas'); if (!c) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })"""


def rows(page) -> list[str]:
    return page.locator("table.hs-table tbody tr").evaluate_all("rs => rs.map(r => r.dataset.run)")


def test_the_sweep_page_of_a_finished_sweep_has_its_table_and_charts(page, server, sweeps) -> None:
    page.goto(f"{server.url}/sweeps/{sweeps.fn.id}")
    page.wait_for_function(DRAWN, timeout=15_000)
    best = sweeps.fn.get_best_run_by_primary_metric()
    assert len(rows(page)) == 12
    assert rows(page)[0] == str(best.number)  # best first (maximize)
    assert page.locator("tr.hs-best td").first.inner_text() == f"#{best.number}"
    header = page.locator("table.hs-table thead th").all_inner_texts()
    assert header[:5] == ["#", "status", "x", "kind", "lr"] and "why it stopped" in header
    inked = page.evaluate(INKED, ".hs-chart")
    # intervals, best so far, parallel, heat map, distribution, timeline, 3 scatters
    assert len(inked) == 3 + 3 + 3 and min(inked) > 500, inked
    option = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('hs-chart-intervals')).getOption()"
    )
    assert (
        len(option["series"]) == 12 and option["series"][-1]["name"] == f"run #{best.number} (best)"
    )
    # sort by run number, then filter
    page.locator("th[data-key='number']").click()
    assert rows(page) == [str(i) for i in range(12)]
    page.locator("th[data-key='number']").click()
    assert rows(page) == [str(i) for i in reversed(range(12))]
    page.fill("input.hs-filter", "Failed")
    assert rows(page) == [] and page.locator(".hs-count").inner_text() == "0 of 12 runs"
    page.fill("input.hs-filter", "")
    page.select_option("select.hs-filter-status", "Completed")
    assert len(rows(page)) == 12
    # a hyperparameter value with markup is text in the table and in a chart's tooltip
    assert EVIL_VALUE in page.locator("table.hs-table tbody").inner_text()
    page.evaluate("""() => { const box = document.querySelector("[data-param='kind']");
      const chart = echarts.getInstanceByDom(box);
      chart.getOption().series.forEach((s, seriesIndex) => {
        const dataIndex = s.data.findIndex((p) => p[0] !== "a");
        if (dataIndex >= 0) chart.dispatchAction({type: "showTip", seriesIndex, dataIndex}); }); }""")
    page.wait_for_timeout(300)
    assert EVIL_VALUE in page.locator("[data-param='kind']").inner_text()
    assert page.evaluate("window.__pwned") is None


def test_the_run_page_escapes_tags_metric_names_and_logs(page, server, sweeps) -> None:
    run = sweeps.fn.get_children()[0]
    page.goto(f"{server.url}/runs/{run.id}")
    page.wait_for_function(DRAWN, timeout=15_000)
    assert EVIL in page.locator(".hs-tags-table").inner_text()
    assert EVIL in page.locator(".hs-metrics").inner_text()
    assert page.locator("[data-metric='score'] canvas").count() == 1
    assert page.locator("script:not([src])").count() == 0
    script_run = sweeps.script.get_children()[0]
    page.goto(f"{server.url}/runs/{script_run.id}")
    page.wait_for_function(
        "() => document.getElementById('app').dataset.logsLoaded === '1'", timeout=15_000
    )
    assert "epoch 3 <b>loss</b>" in page.locator("#hs-log-stdout").inner_text()
    # hyperparameters are named as on the sweep page ("width"); the arguments stay as they ran
    names = page.locator("h3:text-is('hyperparameters') + table th").all_inner_texts()
    assert names == ["width"], names
    assert page.locator("#hs-log-stdout b").count() == 0
    link = page.locator("a", has_text="outputs/model.txt")
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_text().startswith("width=")
    assert page.evaluate("window.__pwned") is None


def test_the_index_lists_every_sweep(page, server, sweeps) -> None:
    page.goto(server.url + "/")
    page.wait_for_function(
        "() => document.getElementById('app').dataset.sweeps === '2'", timeout=15_000
    )
    text = page.locator("main").inner_text()
    assert sweeps.fn.id in text and "12 / 12" in text and "callables" in text
    page.locator(f"a[href='/sweeps/{sweeps.fn.id}']").click()
    page.wait_for_function(DRAWN, timeout=15_000)


def test_a_running_sweep_updates_without_a_reload(page, serve, tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    run = Experiment(ws, "live").submit(callable_config(6, pause=0.3, intervals=8, concurrent=2))
    try:
        live = serve(ws.path)
        page.goto(f"{live.url}/sweeps/{run.id}")
        page.wait_for_function(DRAWN, timeout=15_000)
        seen = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            seen.add(len(rows(page)))
            if page.locator("header .hs-status").first.inner_text() == "Completed":
                break
            time.sleep(0.1)
        run.wait_for_completion()
        page.wait_for_function(
            "() => document.querySelectorAll('table.hs-table tbody .hs-completed').length === 6",
            timeout=10_000,
        )
    finally:
        run.wait_for_completion(raise_on_error=False)
    assert page.locator("header .hs-status").first.inner_text() == "Completed"
    assert len(seen) >= 2, seen  # rows appeared while the page was open
    assert int(page.evaluate("document.getElementById('app').dataset.updates")) >= 2
    page.wait_for_timeout(2500)  # charts redraw at most every 2 s
    option = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('hs-chart-intervals')).getOption()"
    )
    assert sum(len(s["data"]) for s in option["series"]) == 6 * 8


def test_the_report_draws_offline_from_one_file(page, sweeps, tmp_path) -> None:
    path = report.write_report(sweeps.workspace.path, sweeps.fn.id, tmp_path / "report.html")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_function(DRAWN, timeout=15_000)
    assert len(rows(page)) == 12
    assert min(page.evaluate(INKED, ".hs-chart")) > 500
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert page.evaluate("window.__pwned") is None


def test_the_widget_fragment_draws_a_run_and_a_sweep(page, sweeps) -> None:
    run = sweeps.script.get_children()[0]
    html = report.library_html()
    html += report.fragment(
        "sweep", report.sweep_data(sweeps.workspace.path, sweeps.script.id), "w1"
    )
    page.set_content(f"<html><body>{html}</body></html>")
    page.wait_for_function(
        "() => document.getElementById('w1').dataset.chartsDrawn === '6'", timeout=15_000
    )  # one parameter: no heat map
    page.set_content(
        "<html><body>"
        + report.library_html()
        + report.fragment("run", report.run_data(sweeps.workspace.path, run.id), "w2")
        + "</body></html>"
    )
    page.wait_for_function(
        "() => document.getElementById('w2').dataset.chartsDrawn === '1'", timeout=15_000
    )
    assert "<b>loss</b>" in page.locator("#hs-log-stdout").inner_text()


def test_the_cancel_buttons_stop_a_run_then_the_sweep(page, serve, tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    run = Experiment(ws, "stop").submit(callable_config(4, pause=0.05, intervals=200, concurrent=2))
    try:
        live = serve(ws.path)
        page.goto(f"{live.url}/runs/{run.id}_0")
        page.get_by_role("button", name="Cancel run").click()
        page.wait_for_function(
            "() => document.querySelector('h1 .hs-status').textContent === 'Canceled'",
            timeout=15_000,
        )
        assert "Canceled by the user." in page.locator(".hs-reason").inner_text()
        page.goto(f"{live.url}/sweeps/{run.id}")
        page.get_by_role("button", name="Cancel sweep").click()
        page.wait_for_function(
            "() => document.querySelector('header .hs-status').textContent === 'Canceled'",
            timeout=15_000,
        )
    finally:
        run.wait_for_completion(raise_on_error=False)
    assert run.get_status() == "Canceled"
    assert run.get_children()[0].get_status() == "Canceled"


def test_a_nested_choice_sweep_shows_flattened_values(page, serve, tmp_path) -> None:
    from hypersweep import HyperDriveConfig, RandomParameterSampling, choice, loguniform

    def train(cfg: dict) -> float:
        return cfg.get("C", 1.0) if cfg["model"] == "svm" else cfg["n_estimators"] / 100

    ws = Workspace(tmp_path / "ws")
    space = {
        "model": choice(
            {"model": "svm", "C": loguniform(-3, 0)},
            {"model": "rf", "n_estimators": choice(50, 100)},
        )
    }
    config = HyperDriveConfig(
        run_config=train,
        hyperparameter_sampling=RandomParameterSampling(space, properties={"seed": 2}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=8,
    )
    sweep = Experiment(ws, "nested").submit(config)
    sweep.wait_for_completion()
    live = serve(ws.path)
    page.goto(f"{live.url}/sweeps/{sweep.id}")
    page.wait_for_function(DRAWN, timeout=15_000)
    header = page.locator("table.hs-table thead th").all_inner_texts()
    assert header[2:5] == ["model", "C", "n_estimators"]
    body = page.locator("table.hs-table tbody").inner_text()
    assert "svm" in body and "rf" in body and "{" not in body  # values, not a dict's text
    inked = page.evaluate(INKED, ".hs-chart")
    assert min(inked) > 500, inked  # every chart drawn, the parallel coordinates included
    page.screenshot(path=str(tmp_path / "nested.png"), full_page=True)
