"""The sweep page's views in headless Chromium: heat map, timeline, distribution, legends and log
scale, brushing that filters the table, comparison, export, resizing, the sweep's states, dark mode."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    Run,
    Workspace,
    choice,
    uniform,
)
from hypersweep.store import DB_NAME, Store

from .dashboard_helpers import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DRAWN = "() => document.documentElement.dataset.hsChartsDrawn !== undefined"
REASON = (
    "diverged: the loss became nan at step 3 "
    + "and the gradient norm had grown past every bound " * 3
)


def option(page: Any, element_id: str) -> dict[str, Any]:
    return page.evaluate(
        f"echarts.getInstanceByDom(document.getElementById('{element_id}')).getOption()"
    )


def rows(page: Any) -> list[int]:
    return page.locator("table.hs-table tbody tr").evaluate_all(
        "rs => rs.map(r => Number(r.dataset.run))"
    )


def hyperparameters(sweep: Any) -> dict[int, dict[str, Any]]:
    """Each run's hyperparameters, by run number."""
    values = sweep.get_hyperparameters()
    return {r.number: json.loads(values[r.id]) for r in sweep.get_children()}


def wait_until(page: Any, js: str, arg: Any = None, timeout: float = 30_000) -> None:
    page.wait_for_function(js, arg=arg, timeout=timeout)


def mixed_train(cfg: dict[str, Any]) -> float:
    """Logs loss per interval; fails (after logging) when x > 0.6, with a long reason."""
    run = Run.get_context()
    loss = 0.0
    for i in range(6):
        loss = (cfg["x"] - 0.3) ** 2 + (0.2 if cfg["opt"] == "sgd" else 0.0) + 1.0 / (i + 2)
        run.log("loss", loss)
    if cfg["x"] > 0.6:
        raise RuntimeError(REASON)
    return loss


def failing_train(cfg: dict[str, Any]) -> float:
    raise RuntimeError(REASON)


def submit(ws: Workspace, name: str, fn: Any, n: int) -> Any:
    config = HyperDriveConfig(
        run_config=fn,
        hyperparameter_sampling=RandomParameterSampling(
            {"x": uniform(0, 1), "opt": choice("adam", "sgd")}, properties={"seed": 5}
        ),
        primary_metric_name="loss",
        primary_metric_goal="minimize",
        max_total_runs=n,
        max_concurrent_runs=3,
    )
    run = Experiment(ws, name).submit(config)
    run.wait_for_completion(raise_on_error=False)
    return run


class States:
    """A workspace with a sweep of mixed outcomes, one whose runs all failed, an empty one and a starting one."""

    def __init__(self, root: Path) -> None:
        self.ws = Workspace(root / "ws")
        self.mixed = submit(self.ws, "mixed", mixed_train, 14)
        self.failed = submit(self.ws, "failing", failing_train, 3)
        store = Store(self.ws.path / ".hypersweep" / DB_NAME)
        config = {
            "generator_config": {
                "name": "RANDOM",
                "parameter_space": {"x": ["uniform", [0, 1]]},
                "properties": {},
            },
            "primary_metric": {"name": "loss", "goal": "minimize"},
            "policy_config": {"name": "Default", "properties": {}},
            "max_total_runs": 4,
            "max_concurrent_runs": 2,
            "max_duration_minutes": 10080.0,
            "run_config": {"type": "function", "target": "local"},
        }
        store.create_sweep("HD_empty", "states", config, {})
        store.update_sweep("HD_empty", status="Canceled", started=time.time(), ended=time.time())
        store.create_sweep("HD_starting", "states", config, {})
        store.update_sweep("HD_starting", status="Running", started=time.time())
        store.close()


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> States:
    return States(tmp_path_factory.mktemp("states"))


@pytest.fixture(scope="module")
def states_server(states: States) -> Iterator[LiveServer]:
    with LiveServer(states.ws.path) as live:
        yield live


def test_the_heat_map_shows_the_metric_over_two_chosen_hyperparameters(
    page, server, sweeps
) -> None:
    page.goto(f"{server.url}/sweeps/{sweeps.fn.id}")
    page.wait_for_function(DRAWN, timeout=30_000)
    opt = option(page, "hs-chart-contour")
    assert opt["xAxis"][0]["name"] == "x" and opt["xAxis"][0]["type"] == "value"
    assert (
        opt["yAxis"][0]["name"] == "kind" and opt["yAxis"][0]["type"] == "category"
    )  # a choice: its categories
    cells = opt["series"][0]["data"]
    assert cells and sum(c[5] for c in cells) == 12  # every run falls in one cell
    assert sum(len(s["data"]) for s in opt["series"][1:]) == 12  # and is drawn on top
    # each cell holds the best (here the largest) value of its runs
    best = sweeps.fn.get_best_run_by_primary_metric().get_metrics()["score"][-1]
    assert max(c[4] for c in cells) == pytest.approx(best, rel=1e-6)
    page.select_option("select.hs-contour-y", label="lr")
    wait_until(
        page,
        "() => echarts.getInstanceByDom(document.getElementById('hs-chart-contour')).getOption().yAxis[0].name === 'lr'",
    )
    opt = option(page, "hs-chart-contour")
    assert opt["yAxis"][0]["type"] == "log"  # loguniform: a log axis, its bins evenly spaced in log
    lows = sorted({c[2] for c in opt["series"][0]["data"]})
    assert all(b / a > 1.01 for a, b in zip(lows, lows[1:], strict=False))
    inked = page.evaluate("""() => { const c = document.querySelector('#hs-chart-contour canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
    assert inked > 500


def test_the_timeline_shows_each_run_its_concurrency_and_why_it_ended(
    page, states_server, states
) -> None:
    page.goto(f"{states_server.url}/sweeps/{states.mixed.id}")
    page.wait_for_function(DRAWN, timeout=30_000)
    opt = option(page, "hs-chart-timeline")
    bars = [bar for s in opt["series"] for bar in s["data"]]
    assert len(bars) == 14 and {s["name"] for s in opt["series"]} == {"Completed", "Failed"}
    lanes = {bar[2] for bar in bars}
    assert 1 <= len(lanes) <= 3  # max_concurrent_runs=3: never more lanes than ran at once
    assert all(bar[1] >= bar[0] for bar in bars)
    # bars of one lane never overlap (a lane is one slot)
    for lane in lanes:
        spans = sorted((b[0], b[1]) for b in bars if b[2] == lane)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    failed = next(i for i, s in enumerate(opt["series"]) if s["name"] == "Failed")
    page.evaluate(f"""() => echarts.getInstanceByDom(document.getElementById('hs-chart-timeline'))
      .dispatchAction({{type: 'showTip', seriesIndex: {failed}, dataIndex: 0}})""")
    wait_until(
        page,
        "(t) => document.getElementById('hs-chart-timeline').innerText.includes(t)",
        "diverged: the loss became nan",
    )
    assert "Failed" in page.locator("#hs-chart-timeline").inner_text()


def test_the_distribution_legends_status_marks_and_log_scale(page, states_server, states) -> None:
    page.goto(f"{states_server.url}/sweeps/{states.mixed.id}")
    page.wait_for_function(DRAWN, timeout=30_000)
    children = states.mixed.get_children()
    values = sorted(min(r.get_metrics()["loss"]) for r in children)
    edf = option(page, "hs-chart-edf")["series"][0]["data"]
    assert [p[0] for p in edf] == pytest.approx(values, rel=1e-6)
    assert [p[1] for p in edf] == pytest.approx([(i + 1) / len(values) for i in range(len(values))])
    # the per-interval chart has a legend: each status, and the best run
    intervals = option(page, "hs-chart-intervals")
    best = states.mixed.get_best_run_by_primary_metric()
    legend = intervals["legend"][0]["data"]
    assert {"Completed", "Failed", f"run #{best.number} (best)"} <= set(legend)
    failed = {r.number for r in children if r.get_status() == "Failed"}
    assert {s["id"] for s in intervals["series"] if s["name"] == "Failed"} == {
        f"run #{n}" for n in failed
    }
    # every scatter names its y axis and marks runs by status, with a legend
    for box in page.locator(".hs-scatters .hs-chart").all():
        opt = page.evaluate(
            "(el) => echarts.getInstanceByDom(el).getOption()", box.element_handle()
        )
        assert opt["yAxis"][0]["name"] == "loss"
        shapes = {s["name"]: s.get("symbol") for s in opt["series"]}
        assert shapes["Completed"] == "circle" and shapes["Failed"] == "diamond"
        assert set(opt["legend"][0]["data"]) >= {"Completed", "Failed"}
    # in the parallel coordinates (coloured by the metric), a run that did not complete is dashed
    lines = option(page, "hs-chart-parallel")["series"][0]["data"]
    dashed = {d["value"][-1] for d in lines if isinstance(d, dict) and d["lineStyle"]["type"]}
    assert dashed == failed and len(lines) == 14
    # log scale on the metric axes
    assert intervals["yAxis"][0]["type"] == "value"
    page.locator("input.hs-log-metric").check()
    wait_until(
        page,
        "() => echarts.getInstanceByDom(document.getElementById('hs-chart-intervals')).getOption().yAxis[0].type === 'log'",
    )
    assert option(page, "hs-chart-best")["yAxis"][0]["type"] == "log"
    assert option(page, "hs-chart-edf")["xAxis"][0]["type"] == "log"
    # a long "why it stopped" cell is ellipsized and shows its whole text on hover
    cell = page.locator(f"tr[data-run='{min(failed)}'] td.hs-note")
    assert cell.get_attribute("title") == "RuntimeError: " + REASON.strip()
    assert cell.evaluate("(td) => getComputedStyle(td).textOverflow") == "ellipsis"
    assert cell.evaluate("(td) => td.scrollWidth > td.clientWidth")


def test_brushing_the_parallel_axes_filters_the_table_and_the_charts(page, server, sweeps) -> None:
    page.goto(f"{server.url}/sweeps/{sweeps.fn.id}")
    page.wait_for_function(DRAWN, timeout=30_000)
    xs = {n: hp["x"] for n, hp in hyperparameters(sweeps.fn).items()}
    low = {n for n, x in xs.items() if x <= 0.5}
    assert 0 < len(low) < 12
    # what the brush controller dispatches when a range is dragged along the x axis
    page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('hs-chart-parallel'))
      .dispatchAction({type: 'axisAreaSelect', parallelAxisId: 'hp-0', intervals: [[-1, 0.5]]})""")
    wait_until(
        page, "(n) => document.getElementById('app').dataset.selected === String(n)", len(low)
    )
    assert set(rows(page)) == low
    assert page.locator(".hs-selection-note").inner_text() == f"{len(low)} of 12 runs selected"
    assert page.locator(".hs-count").inner_text() == f"{len(low)} of 12 runs"
    assert len(option(page, "hs-chart-edf")["series"][0]["data"]) == len(low)
    assert sum(len(s["data"]) for s in option(page, "hs-chart-timeline")["series"]) == len(low)
    scatter = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector(\"[data-param='x']\")).getOption()"
    )
    assert sum(len(s["data"]) for s in scatter["series"]) == len(low)
    assert {s["id"] for s in option(page, "hs-chart-intervals")["series"]} == {
        f"run #{n}" + (" (best)" if n == sweeps.fn.get_best_run_by_primary_metric().number else "")
        for n in low
    }
    # a log scale keeps the selection (and the parallel chart its brush)
    page.locator("input.hs-log-metric").check()
    wait_until(
        page,
        "() => echarts.getInstanceByDom(document.getElementById('hs-chart-best')).getOption().yAxis[0].type === 'log'",
    )
    assert set(rows(page)) == low and page.evaluate(
        "document.getElementById('app').dataset.selected"
    ) == str(len(low))
    # the other filters narrow the selection further
    page.select_option("select.hs-filter-status", "Failed")
    assert rows(page) == []
    page.select_option("select.hs-filter-status", "")
    page.get_by_role("button", name="Clear selection").click()
    wait_until(page, "() => document.getElementById('app').dataset.selected === ''")
    assert len(rows(page)) == 12 and not page.locator(".hs-selection").is_visible()
    assert len(option(page, "hs-chart-edf")["series"][0]["data"]) == 12


def test_a_brush_on_a_live_sweep_takes_in_the_runs_that_arrive_inside_it(
    page, serve, tmp_path
) -> None:
    from .dashboard_helpers import callable_config

    ws = Workspace(tmp_path / "ws")
    run = Experiment(ws, "live").submit(callable_config(8, pause=0.4, intervals=8, concurrent=2))
    try:
        live = serve(ws.path)
        page.goto(f"{live.url}/sweeps/{run.id}")
        # as soon as the parallel chart exists (the first runs have values), brush x <= 0.5
        wait_until(
            page,
            "() => { const b = document.getElementById('hs-chart-parallel');"
            " return Boolean(b && echarts.getInstanceByDom(b)); }",
        )
        page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('hs-chart-parallel'))
          .dispatchAction({type: 'axisAreaSelect', parallelAxisId: 'hp-0', intervals: [[-1, 0.5]]})""")
        wait_until(page, "() => document.getElementById('app').dataset.selected !== ''")
        shown_when_brushed = len(
            option(page, "hs-chart-parallel")["series"][0]["data"]
        )  # the runs with a value then
        run.wait_for_completion()
    finally:
        run.wait_for_completion(raise_on_error=False)
    low = {n for n, hp in hyperparameters(run).items() if hp["x"] <= 0.5}
    assert 0 < len(low) < 8
    # every run that arrived later and falls inside the brush joined the selection
    wait_until(
        page, "(n) => document.getElementById('app').dataset.selected === String(n)", len(low)
    )
    wait_until(
        page,
        "() => document.querySelectorAll('table.hs-table tbody .hs-completed').length > 0",
    )
    page.wait_for_timeout(2500)  # charts redraw at most every 2 s
    assert set(rows(page)) == low
    assert (
        len(option(page, "hs-chart-parallel")["series"][0]["data"]) == 8
    )  # every run, brushed or not
    assert len(option(page, "hs-chart-edf")["series"][0]["data"]) == len(low)
    assert page.locator(".hs-selection-note").inner_text() == f"{len(low)} of 8 runs selected"
    assert shown_when_brushed < 8, "the sweep ended before the brush: nothing could arrive later"


def test_checked_runs_are_compared_side_by_side(page, server, sweeps) -> None:
    page.goto(f"{server.url}/sweeps/{sweeps.fn.id}")
    page.wait_for_function(DRAWN, timeout=30_000)
    compare = page.locator("button.hs-compare-button")
    assert compare.is_disabled()
    picked = [3, 7, 1]
    for n in picked:
        page.locator(f"tr[data-run='{n}'] input.hs-check-run").check()
    assert compare.inner_text() == "Compare 3 runs"
    compare.click()
    box = page.locator("#hs-compare")
    assert box.is_visible()
    head = box.locator("thead th").all_inner_texts()
    assert head == ["", "run #1", "run #3", "run #7"]
    fields = box.locator("tbody th").all_inner_texts()
    assert fields[:4] == ["status", "x", "kind", "lr"] and {
        "duration",
        "why it stopped",
        "score best",
    } <= set(fields)
    by_number = {r.number: r for r in sweeps.fn.get_children()}
    x_row = box.locator("tr[data-field='x'] td").all_inner_texts()
    hps = hyperparameters(sweeps.fn)
    assert [float(v) for v in x_row] == pytest.approx([hps[n]["x"] for n in (1, 3, 7)], rel=1e-5)
    assert box.locator("tr[data-field='status'] td").all_inner_texts() == ["Completed"] * 3
    durations = box.locator("tr[data-field='duration'] td").all_inner_texts()
    assert all(d.endswith(("s", "m", "h")) for d in durations)
    curves = option(page, "hs-chart-compare")
    assert [s["name"] for s in curves["series"]] == [
        "run #1 (Completed)",
        "run #3 (Completed)",
        "run #7 (Completed)",
    ]
    assert [len(s["data"]) for s in curves["series"]] == [8, 8, 8]
    assert curves["legend"][0]["data"] == [s["name"] for s in curves["series"]]
    scores = by_number[3].get_metrics()["score"]
    assert [p[1] for p in curves["series"][1]["data"]] == pytest.approx(scores, rel=1e-6)
    box.get_by_role("button", name="Close").click()
    assert not box.is_visible()


def test_the_table_exports_as_csv_and_json_with_its_filters(page, server, sweeps) -> None:
    page.goto(f"{server.url}/sweeps/{sweeps.fn.id}")
    page.wait_for_function(DRAWN, timeout=30_000)
    hps = hyperparameters(sweeps.fn)
    page.fill(
        "input.hs-filter", "a"
    )  # a text filter: the runs of kind "a" (no other cell has an "a")
    shown = rows(page)
    assert (
        sorted(shown) == sorted(n for n, hp in hps.items() if hp["kind"] == "a")
        and 0 < len(shown) < 12
    )
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename == f"{sweeps.fn.id}-runs.csv"
    table = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [int(r["number"]) for r in table] == shown  # the table's rows, in its order
    by_number = {r.number: r for r in sweeps.fn.get_children()}
    for r in table:
        run = by_number[int(r["number"])]
        assert r["id"] == run.id and r["status"] == "Completed"
        assert float(r["x"]) == hps[run.number]["x"] and r["kind"] == "a"
        assert float(r["score_best"]) == pytest.approx(max(run.get_metrics()["score"]), rel=1e-6)
    assert {"kind", "lr", "duration_s", "why_it_stopped"} <= set(table[0])
    with page.expect_download() as download:
        page.get_by_role("button", name="Export JSON").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["sweep"] == sweeps.fn.id and data["primary_metric"] == "score"
    assert [r["number"] for r in data["runs"]] == shown
    assert data["runs"][0]["hyperparameters"] == hps[shown[0]]
    # with a brush too: the export is what the table shows
    page.fill("input.hs-filter", "")
    page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('hs-chart-parallel'))
      .dispatchAction({type: 'axisAreaSelect', parallelAxisId: 'hp-0', intervals: [[0.5, 2]]})""")
    wait_until(page, "() => document.getElementById('app').dataset.selected")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export JSON").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert [r["number"] for r in data["runs"]] == rows(page)
    assert all(r["hyperparameters"]["x"] >= 0.5 for r in data["runs"]) and len(data["runs"]) < 12


NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= window.innerWidth"
FITS = """() => Array.from(document.querySelectorAll('.hs-chart')).filter((b) => b.offsetParent).every((b) => {
  const c = b.querySelector('canvas'); return c && c.getBoundingClientRect().width <= b.clientWidth + 1; })"""


def test_charts_follow_the_window_wider_then_narrower(page, server, sweeps) -> None:
    page.goto(f"{server.url}/sweeps/{sweeps.fn.id}")
    page.wait_for_function(DRAWN, timeout=30_000)
    width = (
        "() => document.querySelector('#hs-chart-intervals canvas').getBoundingClientRect().width"
    )
    before = page.evaluate(width)
    page.set_viewport_size({"width": 1900, "height": 1000})
    wait_until(page, f"(w) => ({width})() > w + 100", before)
    wide = page.evaluate(width)
    page.set_viewport_size({"width": 700, "height": 900})
    wait_until(page, f"(w) => ({width})() < w - 100", wide)
    wait_until(page, FITS)
    assert page.evaluate(NO_SIDEWAYS)
    narrow = page.evaluate(width)
    page.set_viewport_size({"width": 1900, "height": 1000})
    wait_until(page, f"(w) => ({width})() > w + 100", narrow)
    wait_until(page, FITS)
    assert page.evaluate(NO_SIDEWAYS)


def test_a_sweep_whose_runs_all_failed_says_why(page, states_server, states) -> None:
    page.goto(f"{states_server.url}/sweeps/{states.failed.id}")
    page.wait_for_function(DRAWN, timeout=30_000)
    state = page.locator(".hs-state")
    assert state.get_attribute("data-state") == "failed"
    first = min(states.failed.get_children(), key=lambda r: r.number)
    text = state.inner_text()
    assert (
        "Every run failed (3 of 3)" in text
        and f"run #{first.number}" in text
        and "diverged: the loss became nan" in text
    )
    assert state.locator("a").get_attribute("href") == f"/runs/{first.id}"
    assert not page.locator(".hs-chart-area").is_visible()  # no empty charts
    state.locator("a").click()
    page.wait_for_function(
        "() => document.getElementById('app').dataset.logsLoaded === '1'", timeout=30_000
    )


def test_an_empty_and_a_starting_sweep_say_what_is_happening(page, states_server) -> None:
    page.goto(f"{states_server.url}/sweeps/HD_empty")
    page.wait_for_function(DRAWN, timeout=30_000)
    assert page.locator(".hs-state").get_attribute("data-state") == "empty"
    assert "ended (Canceled) without starting a run" in page.locator(".hs-state").inner_text()
    assert not page.locator(".hs-chart-area").is_visible()
    assert page.locator(".hs-count").inner_text() == "0 runs"
    page.goto(f"{states_server.url}/sweeps/HD_starting")
    page.wait_for_function(DRAWN, timeout=30_000)
    assert page.locator(".hs-state").get_attribute("data-state") == "starting"
    assert "no run has started yet" in page.locator(".hs-state").inner_text()


def test_the_dark_theme_follows_the_system(browser, server, sweeps) -> None:
    colours = "() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.querySelector('.hs')).color]"
    luminance = "(c) => { const [r, g, b] = c.match(/\\d+/g).map(Number); return (r + g + b) / 3; }"
    labels = {}
    for scheme, theme in (("dark", "dark"), ("light", None)):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme=scheme)
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            page.goto(f"{server.url}/sweeps/{sweeps.fn.id}")
            page.wait_for_function(DRAWN, timeout=30_000)
            background, text = page.evaluate(colours)
            dark_bg = page.evaluate(luminance, background) < 60
            light_text = page.evaluate(luminance, text) > 180
            assert (dark_bg, light_text) == (scheme == "dark", scheme == "dark"), (background, text)
            assert (
                page.evaluate("() => document.getElementById('hs-chart-intervals')._hsTheme")
                == theme
            )
            # the charts' own text follows the theme (ECharts' dark theme draws other axis labels)
            labels[scheme] = (
                page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('hs-chart-best'))
              .getModel().getComponent('xAxis').get('axisLabel.color')""")
            )
            assert not errors, errors
        finally:
            context.close()
    assert labels["dark"] != labels["light"], labels
