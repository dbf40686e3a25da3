"""The dashboard under hostile data and hostile requests: non-finite numbers anywhere, logs and
outputs linked out of the run, malformed query values, and a seeded fuzz over every API route."""

from __future__ import annotations

import json
import math
import random
import re
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from click.testing import CliRunner

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    Run,
    ScriptRunConfig,
    Workspace,
    choice,
)
from hypersweep.dashboard.commands import report
from hypersweep.status import RunStatus
from hypersweep.store import Batch, NewRun

from .dashboard_helpers import LiveServer

pytestmark = pytest.mark.integration

INF = float("inf")


def strict(text: str) -> Any:
    """``json.loads`` that refuses ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON)."""

    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def non_finite_trial(cfg: dict[str, Any]) -> float:
    """Logs infinities and NaN as scalars, in a list, a row and a table; ends on inf."""
    run = Run.get_context()
    run.log("score", 0.5)
    run.log("score", -INF)
    run.log("score", math.nan)
    run.log("loss", INF)
    run.log_list("curve", [1.0, INF, -INF, math.nan])
    run.log_row("rows", a=INF, b=math.nan)
    run.log_table("table", {"x": [1.0, -INF], "y": [math.nan, 2.0]})
    run.log("score", INF)
    return INF


SCRIPT = """
import os
from hypersweep import Run
Run.get_context().log("score", 1.0)
print("line one")
os.makedirs("outputs", exist_ok=True)
open("outputs/model.txt", "w").write("weights")
"""


class World:
    """A workspace with a sweep of non-finite values, a script sweep, and a run with inf hyperparameters."""

    def __init__(self, root: Path) -> None:
        self.ws = Workspace(root / "ws")
        self.inf_sweep = Experiment(self.ws, "nonfinite").submit(
            HyperDriveConfig(
                run_config=non_finite_trial,
                hyperparameter_sampling=RandomParameterSampling(
                    {"x": choice(1, 2)}, properties={"seed": 1}
                ),
                primary_metric_name="score",
                primary_metric_goal="maximize",
                max_total_runs=2,
                max_concurrent_runs=2,
            )
        )
        src = root / "src"
        src.mkdir()
        (src / "train.py").write_text(textwrap.dedent(SCRIPT))
        self.script_sweep = Experiment(self.ws, "script").submit(
            HyperDriveConfig(
                run_config=ScriptRunConfig(source_directory=src, script="train.py"),
                hyperparameter_sampling=RandomParameterSampling({"--u": choice(1)}),
                primary_metric_name="score",
                primary_metric_goal="maximize",
                max_total_runs=1,
            )
        )
        self.inf_sweep.wait_for_completion(raise_on_error=False)
        self.script_sweep.wait_for_completion()
        self.script_run = self.script_sweep.get_children()[0].id
        self.run_dir = Path(self.ws.store.run(self.script_run).run_dir)
        # a run whose hyperparameters are not finite, as a sampler of an overflowing expression made
        # them before such expressions were refused: written by the store, as the controller does
        self.hp_run = f"{self.inf_sweep.id}_2"
        hp_run = NewRun(
            self.hp_run,
            self.inf_sweep.id,
            2,
            time.time(),
            {"x": INF, "y": -INF, "z": math.nan, "w": [1, INF]},
            ["--x", INF],
            str(self.run_dir.parent / "none"),
            status=RunStatus.COMPLETED,
        )
        self.ws.store.apply(Batch(runs=[hp_run]))
        self.run_ids = [c.id for c in self.inf_sweep.get_children()] + [self.script_run]
        self.sweep_ids = [self.inf_sweep.id, self.script_sweep.id]
        self.links()

    def links(self) -> None:
        """The script run's logs and some outputs become links out of the run."""
        secret = self.run_dir.parent.parent.parent / "secret.txt"  # beside .hypersweep/
        secret.write_text("root:x:0:0:secret\n")
        logs, outputs = self.run_dir / "logs", self.run_dir / "outputs"
        self.stdout = (logs / "stdout.txt").read_text()
        (logs / "stdout.txt").rename(logs / "real-stdout.txt")
        (logs / "stdout.txt").symlink_to(secret)
        (logs / "stderr.txt").unlink()
        (logs / "stderr.txt").symlink_to("/proc/self/environ")
        (outputs / "leak.txt").symlink_to(secret)
        (outputs / "etc").symlink_to("/etc")
        (outputs / "db").symlink_to("../../../hypersweep.db")
        (outputs / "alias.txt").symlink_to("model.txt")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def live(world: World) -> Iterator[LiveServer]:
    """A real server of the world's workspace on a free loopback port."""
    with LiveServer(world.ws.path) as server:
        yield server


@pytest.fixture(scope="module")
def client(live: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client of the server, carrying the cancel token."""
    token = live.app.state.guard.action_token
    with httpx.Client(
        base_url=live.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        yield c


# -- non-finite numbers ----------------------------------------------------------------------------


def test_sweep_run_and_updates_answer_valid_json_with_non_finite_values(client, world) -> None:
    sweep = client.get(f"/api/sweeps/{world.inf_sweep.id}")
    assert sweep.status_code == 200, sweep.text
    data = strict(sweep.text)
    runs = {r["number"]: r for r in data["runs"]}
    assert runs[2]["hp"] == {"x": None, "y": None, "z": None, "w": [1, None]}
    assert runs[2]["nonfinite"] == {"x": "inf", "y": "-inf", "z": "nan", "w.1": "inf"}
    assert "x=inf" in runs[2]["note"]
    assert runs[0]["best"] is None and runs[0]["nonfinite"]["best"] == "inf"
    assert all(v is None or math.isfinite(v) for v in data["series"]["y"]["0"])
    assert data["sweep"]["best"] is None or math.isfinite(data["sweep"]["best"])

    updates = client.get(f"/api/sweeps/{world.inf_sweep.id}/updates", params={"since": "0:0"})
    assert updates.status_code == 200, updates.text
    points = strict(updates.text)["points"]["0"]
    assert [p[1] for p in points] == [0.5, None, None, None]

    listed = client.get("/api/sweeps")
    assert listed.status_code == 200 and strict(listed.text)

    run = client.get(f"/api/runs/{world.inf_sweep.id}_0")
    assert run.status_code == 200, run.text
    page = strict(run.text)
    assert page["run"]["best"] is None and page["run"]["nonfinite"]["best"] == "inf"
    metrics = page["metrics"]
    assert metrics["score"]["values"] == [0.5, None, None, None] and metrics["loss"]["values"] == [
        None
    ]
    assert metrics["curve"]["values"] == [1.0, None, None, None]
    assert metrics["rows"]["columns"] == {"a": [None], "b": [None]}
    assert metrics["table"]["columns"] == {"x": [1.0, None], "y": [None, 2.0]}

    hp = strict(client.get(f"/api/runs/{world.hp_run}").text)["run"]
    assert hp["hyperparameters"] == {"x": None, "y": None, "z": None, "w": [1, None]}
    assert hp["arguments"] == ["--x", None]
    assert hp["nonfinite"] == {
        "hyperparameters.x": "inf",
        "hyperparameters.y": "-inf",
        "hyperparameters.z": "nan",
        "hyperparameters.w.1": "inf",
        "arguments.1": "inf",
    }


@pytest.mark.browser
def test_the_pages_name_the_values_that_were_not_finite(page, live, world) -> None:
    page.goto(f"{live.url}/sweeps/{world.inf_sweep.id}")
    page.wait_for_function(
        "() => document.documentElement.dataset.hsChartsDrawn !== undefined", timeout=15_000
    )
    cells = page.locator("table.hs-table tbody tr[data-run='2'] td").all_inner_texts()
    assert cells[2] == "inf" and any("not finite: x=inf" in c for c in cells), cells
    cells = page.locator("table.hs-table tbody tr[data-run='0'] td").all_inner_texts()
    assert cells[3] == "inf" and cells[4] == "inf", cells  # best, last
    page.goto(f"{live.url}/runs/{world.hp_run}")
    table = page.locator("h3:text-is('hyperparameters') + table")
    table.wait_for(timeout=15_000)
    rows = dict(line.split("\t", 1) for line in table.inner_text().splitlines())
    assert rows == {"x": "inf", "y": "-inf", "z": "nan", "w": "[1,null]"}, rows


def test_the_report_of_a_sweep_with_non_finite_values_is_written(world, tmp_path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        report, [world.inf_sweep.id, "--workspace", str(world.ws.path), "--html", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    data = strict(
        re.search(
            r'<script type="application/json" id="app-data">(.*?)</script>', text, re.S
        ).group(1)
    )
    assert {r["number"]: r["nonfinite"] for r in data["runs"]}[2]["x"] == "inf"


# -- links out of the run --------------------------------------------------------------------------


def test_logs_and_files_that_link_out_of_the_run_are_not_served(client, world) -> None:
    run = world.script_run
    for stream in ("stdout", "stderr"):
        for params in ({}, {"offset": 0}, {"tail": 5}):
            answer = client.get(f"/api/runs/{run}/logs/{stream}", params=params)
            assert answer.status_code == 200 and answer.json() == {
                "text": "",
                "offset": 0,
                "truncated": False,
            }
    files = {f["name"] for f in client.get(f"/api/runs/{run}").json()["files"]}
    assert (
        "outputs/model.txt" in files
        and "outputs/alias.txt" in files
        and "logs/real-stdout.txt" in files
    )
    assert not files & {"outputs/leak.txt", "outputs/db", "logs/stdout.txt", "logs/stderr.txt"}
    assert not any(name.startswith("outputs/etc") for name in files)
    for name in (
        "logs/stdout.txt",
        "logs/stderr.txt",
        "outputs/leak.txt",
        "outputs/etc/passwd",
        "outputs/db",
    ):
        answer = client.get(f"/api/runs/{run}/file", params={"name": name})
        assert (
            answer.status_code == 404
            and b"root:" not in answer.content
            and b"SQLite" not in answer.content
        )
    alias = client.get(f"/api/runs/{run}/file", params={"name": "outputs/alias.txt"})
    assert alias.status_code == 200 and alias.content == b"weights"
    real = client.get(f"/api/runs/{run}/file", params={"name": "logs/real-stdout.txt"})
    assert real.status_code == 200 and real.text == world.stdout
    assert real.headers["content-disposition"] == 'attachment; filename="real-stdout.txt"'


def test_the_log_tail_endpoint_reads_from_the_end(client, world) -> None:
    log = world.run_dir / "logs" / "stdout.txt"
    target = log.readlink()
    long_line = "y" * 100_000  # longer than a block read back from the end
    try:
        log.unlink()
        with open(log, "w") as f:
            f.truncate(50 * 2**20)  # a sparse 50 MB start without a newline
            f.seek(0, 2)
            f.write(
                "first\n"
                + long_line
                + "\n"
                + "\n".join(f"line {i}" for i in range(30))
                + "\nno newline at the end"
            )
        size = log.stat().st_size
        answer = client.get(f"/api/runs/{world.script_run}/logs/stdout", params={"tail": 3}).json()
        assert answer == {
            "text": "line 28\nline 29\nno newline at the end",
            "offset": size,
            "truncated": False,
        }
        answer = client.get(f"/api/runs/{world.script_run}/logs/stdout", params={"tail": 32}).json()
        assert answer["text"].startswith(long_line + "\nline 0\n") and answer["offset"] == size
        everything = client.get(
            f"/api/runs/{world.script_run}/logs/stdout", params={"tail": 100_000}
        ).json()
        assert len(everything["text"]) <= 256 * 1024 and everything["text"].endswith(
            "no newline at the end"
        )
    finally:
        log.unlink()
        log.symlink_to(target)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/api/runs/{run}/file?name=outputs/%00", "NUL"),
        ("/api/runs/{run}/file?name=outputs/" + "a" * 300, "255 bytes"),
        ("/api/runs/{run}/file?name=/etc/passwd", "relative"),
        ("/api/runs/{run}/file?name=outputs/../../x", "'..'"),
        ("/api/sweeps/{sweep}/updates?since=99999999999999999999:0", "row id"),
        ("/api/sweeps/{sweep}/updates?since=-1:0", "row id"),
        ("/api/sweeps/{sweep}/updates?since=0:nan", "finite"),
        ("/api/sweeps/{sweep}/updates?since=0:1e999", "finite"),
        ("/api/sweeps/{sweep}/updates?since=12", "ROWID:TIME"),
    ],
)
def test_bad_query_values_are_4xx_with_a_message(client, world, url, says) -> None:
    answer = client.get(url.format(run=world.script_run, sweep=world.inf_sweep.id))
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["detail"]


# -- a seeded fuzz over every route of the schema --------------------------------------------------

HOSTILE_TEXT = [
    "",
    " ",
    ".",
    "..",
    "../",
    "../../hypersweep.db",
    "/etc/passwd",
    "//etc/passwd",
    "outputs",
    "outputs/",
    "outputs/model.txt",
    "logs/stdout.txt",
    "logs/real-stdout.txt",
    "outputs/..",
    "outputs/../logs/stdout.txt",
    "a" * 255,
    "a" * 256,
    "outputs/" + "b" * 300,
    "x/" * 2000,
    "é" * 200,
    "😀" * 70,
    "\x00",
    "outputs/\x00",
    "\x01\x7f",
    "\u202e",
    "\ufeff",
    "%",
    "%00",
    "%2e%2e%2f",
    "latest",
    "HD_",
    "HD_%",
    "*",
    "'; DROP TABLE runs; --",
    "<script>",
    "stdout",
    "stderr",
    "environ",
    "0",
    "-1",
    "1e400",
    "nan",
    "inf",
]
# sent verbatim in a query (already percent-encoded): invalid UTF-8, overlong dots, encoded NUL and slashes
RAW_QUERY = [
    "%00",
    "%ff%fe",
    "%C0%AE%C0%AE%2F",
    "%ED%B3%BF",
    "%2e%2e%2f%2e%2e%2f",
    "outputs%2F%00",
    "%25%30%30",
]
HOSTILE_INT = [
    "0",
    "1",
    "-1",
    "7",
    "999",
    "1000",
    "5000000",
    "5000001",
    "100000",
    "100001",
    str(2**62),
    str(2**63),
    str(2**64),
    "9" * 20,
    "9" * 400,
    "-" + "9" * 30,
    "1e3",
    "1.5",
    "nan",
    "inf",
    "-inf",
    "",
    "0x10",
    "١٢",
    " 5",
]
CURSORS = [
    "0:0",
    "1:1",
    "0:1e308",
    "0:-1e308",
    "99999999999999999999:0",
    str(2**63) + ":0",
    str(2**63 - 1) + ":0",
    "-1:0",
    "0:nan",
    "0:inf",
    "0:-inf",
    ":",
    "0:",
    ":0",
    "12",
    "a:b",
    "1:2:3",
    "0:" + "9" * 60,
    " 1 : 2 ",
    "٣:٤",
    "0x1:0",
    "1_000:0",
    "1e3:0",
]


def _value(
    rng: random.Random, name: str, schema: dict[str, Any], ids: list[str]
) -> tuple[str, bool]:
    """A value for the parameter ``name`` and whether it is already percent-encoded."""
    roll = rng.random()
    if name in ("run_id", "sweep_id") and roll < 0.6:
        return rng.choice(ids), False
    if name == "since" and roll < 0.7:
        return rng.choice(CURSORS), False
    if name == "stream" and roll < 0.5:
        return rng.choice(["stdout", "stderr"]), False
    if schema.get("type") == "integer" or "integer" in json.dumps(schema.get("anyOf", "")):
        if roll < 0.85:
            return rng.choice(HOSTILE_INT), False
    if roll < 0.12:
        return rng.choice(RAW_QUERY), True
    if roll < 0.2:
        return "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(1, 40))).replace(
            "\ud800", ""
        ), False
    return rng.choice(HOSTILE_TEXT), False


def test_fuzz_every_route_never_answers_5xx(client, world) -> None:
    schema = client.get("/api/openapi.json").json()
    routes = [
        (path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()
    ]
    assert len(routes) >= 8
    ids = world.run_ids + world.sweep_ids + [world.hp_run]
    rng = random.Random(12)
    seen: dict[int, int] = {}
    started = time.monotonic()
    total = 0
    for round_ in range(-(-2000 // len(routes))):  # 2,000 requests in all
        for path, method, op in routes:
            url, query = path, []
            for param in op.get("parameters", []):
                value, raw = _value(rng, param["name"], param.get("schema", {}), ids)
                encoded = value if raw else quote(value, safe="")
                if param["in"] == "path":
                    url = url.replace("{" + param["name"] + "}", encoded or "%20")
                elif round_ % 7 or param.get("required"):  # now and then, leave optional ones out
                    query.append(f"{quote(param['name'])}={encoded}")
            if query:
                url += "?" + "&".join(query)
            answer = client.request(method.upper(), url)
            total += 1
            seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
            assert answer.status_code < 500, (method, url, answer.status_code, answer.text[:300])
            if answer.headers.get("content-type", "").startswith("application/json"):
                strict(answer.text)
    elapsed = time.monotonic() - started
    assert total >= 2000 and elapsed < 60, (total, elapsed)
    assert (
        seen.get(200, 0) > 100 and sum(n for code, n in seen.items() if 400 <= code < 500) > 500
    ), seen
