"""Fixtures for the dashboard: real finished sweeps, a real server on a free loopback port, a browser.

The sweeps are made once per session: one of callable trials (fast; it logs ``<script>`` as a tag
and as a metric name), one of script trials (stdout, an output file). Servers listen on
127.0.0.1 only. Browser tests use Debian's chromium through Playwright; they are skipped only
when /usr/bin/chromium is missing and CI is not set.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    choice,
)

from .dashboard_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TRAIN,
    LiveServer,
    Sweeps,
    browser_available,
    callable_config,
)


@pytest.fixture(scope="session")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> Sweeps:
    root = tmp_path_factory.mktemp("dash")
    ws = Workspace(root / "ws")
    fn = Experiment(ws, "callables").submit(callable_config(12))
    src = root / "src"
    src.mkdir()
    (src / "train.py").write_text(textwrap.dedent(TRAIN))
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=src, script="train.py"),
        hyperparameter_sampling=RandomParameterSampling(
            {"--width": choice(2, 4, 8)}, properties={"seed": 1}
        ),
        primary_metric_name="loss",
        primary_metric_goal="minimize",
        max_total_runs=3,
        max_concurrent_runs=3,
    )
    script = Experiment(ws, "scripts").submit(config)
    fn.wait_for_completion()
    script.wait_for_completion()
    return Sweeps(ws, fn, script)


@pytest.fixture(scope="session")
def server(sweeps: Sweeps) -> Iterator[LiveServer]:
    with LiveServer(sweeps.workspace.path) as live:
        yield live


@pytest.fixture
def serve() -> Iterator[Callable[..., LiveServer]]:
    """Start extra servers (another workspace, a token); all stopped at the end of the test."""
    started: list[LiveServer] = []

    def start(workspace: Path, token: str | None = None) -> LiveServer:
        live = LiveServer(workspace, token).__enter__()
        started.append(live)
        return live

    yield start
    for live in started:
        live.__exit__()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not browser_available():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI always runs these tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page (1400x1000) that fails the test on any script error or alert (an injected one)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_dialog(dialog: Any) -> None:
        if dialog.type == "confirm":  # the cancel buttons ask first
            dialog.accept()
        else:
            problems.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.problems = problems
    yield pg
    context.close()
    assert not problems, problems
