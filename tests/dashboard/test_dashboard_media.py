"""Single runs, logged images and tables, and registered models on the dashboard: the API over HTTP,
the pages in headless Chromium, and the self-contained report."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hypersweep import Experiment, Model, Run, ScriptRunConfig, Workspace
from hypersweep.dashboard import report

from .dashboard_helpers import EVIL

pytestmark = pytest.mark.integration

TRAIN = """
import struct, zlib
from hypersweep import Run

def png(path, rgb, size=24):
    raw = b"".join(b"\\x00" + bytes(rgb) * size for _ in range(size))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

run = Run.get_context()
png("red.png", (255, 0, 0))
run.log_image("red square", path="red.png", description=EVIL)
run.log_confusion_matrix("cm", {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
                               "data": {"class_labels": ["cat", "dog"], "matrix": [[5, 1], [2, 7]]}})
run.log_residuals("res", {"schema_type": "residuals", "schema_version": "1.0.0",
                          "data": {"bin_edges": [-1, 0, 1], "bin_counts": [3, 4]}})
run.log("loss", 0.5)
open("outputs/model.txt", "w").write("w")
open("notes.txt", "w").write("reviewed")
run.upload_file("notes/review.txt", "notes.txt")  # outside outputs/: listed and served all the same
run.register_model("clf", "outputs/model.txt", tags={"note": EVIL})
""".replace("EVIL", repr(EVIL))


@dataclass
class Media:
    workspace: Workspace
    run: Run


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    root = tmp_path_factory.mktemp("media")
    src = root / "src"
    (src / "outputs").mkdir(parents=True)
    (src / "train.py").write_text(textwrap.dedent(TRAIN))
    ws = Workspace(root / "ws")
    run = Experiment(ws, "single-runs").submit(
        ScriptRunConfig(source_directory=src, script="train.py")
    )
    assert run.wait_for_completion()["status"] == "Completed", run.get_logs("stderr")
    local = root / "local.bin"
    local.write_bytes(b"x")
    Model.register(ws, str(local), "local-model")
    return Media(ws, run)


def test_the_api_has_single_runs_images_tables_and_models(media: Media, serve) -> None:
    live = serve(media.workspace.path)
    [entry] = httpx.get(f"{live.url}/api/sweeps", timeout=10).json()
    assert (entry["kind"], entry["run_id"], entry["run_status"]) == (
        "single",
        media.run.id,
        "Completed",
    )
    page = httpx.get(f"{live.url}/api/runs/{media.run.id}", timeout=10).json()
    assert page["run"]["kind"] == "single" and page["run"]["experiment"] == "single-runs"
    [image] = page["images"]
    assert (image["name"], image["path"], image["description"]) == (
        "red square",
        "outputs/images/red_square.png",
        EVIL,
    )
    assert set(page["metrics"]) == {"loss"}  # images and documents have their own sections
    cm, res = page["documents"]
    assert cm["columns"] == {"actual \\ predicted": ["cat", "dog"], "cat": [5, 2], "dog": [1, 7]}
    assert res["columns"] == {"bin_edges": [-1, 0, 1], "bin_counts": [3, 4, None]}
    shown = httpx.get(
        f"{live.url}/api/runs/{media.run.id}/image", params={"name": image["path"]}, timeout=10
    )
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    assert shown.content[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("logs/stdout.txt", "../../hypersweep.db", "outputs/model.txt"):
        assert (
            httpx.get(
                f"{live.url}/api/runs/{media.run.id}/image", params={"name": name}, timeout=10
            ).status_code
            == 404
        )
    assert "notes/review.txt" in {f["name"] for f in page["files"]}
    uploaded = httpx.get(
        f"{live.url}/api/runs/{media.run.id}/file", params={"name": "notes/review.txt"}, timeout=10
    )
    assert uploaded.status_code == 200 and uploaded.content == b"reviewed"
    models = httpx.get(f"{live.url}/api/models", timeout=10).json()
    assert [(m["name"], m["version"], m["run_id"]) for m in models] == [
        ("local-model", 1, None),
        ("clf", 1, media.run.id),
    ]
    assert "/api/models" in httpx.get(f"{live.url}/api/openapi.json", timeout=10).json()["paths"]


def test_the_report_of_a_run_carries_its_images_inline(media: Media, tmp_path: Path) -> None:
    data = report.run_data(media.workspace.path, media.run.id)
    assert data["images"][0]["data"].startswith("data:image/png;base64,iVBOR")


@pytest.mark.browser
def test_the_run_page_shows_images_and_tables_and_the_index_lists_runs_and_models(
    media: Media, serve, page
) -> None:
    live = serve(media.workspace.path)
    page.goto(f"{live.url}/runs/{media.run.id}")
    page.wait_for_function("() => document.querySelector('.hs-image img') !== null", timeout=15_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('.hs-image img'); return i.complete && i.naturalWidth > 0; }",
        timeout=15_000,
    )
    assert page.evaluate("document.querySelector('.hs-image img').naturalWidth") == 24
    # the image is really drawn: its centre pixel is red
    rgb = page.evaluate("""() => { const img = document.querySelector('.hs-image img');
      const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
      const g = c.getContext('2d'); g.drawImage(img, 0, 0); return Array.from(g.getImageData(12, 12, 1, 1).data); }""")
    assert rgb[:3] == [255, 0, 0]
    assert EVIL in page.locator(".hs-image figcaption").inner_text()
    tables = page.locator("table.hs-document")
    assert tables.count() == 2
    assert tables.nth(0).locator("thead th").all_inner_texts() == [
        "actual \\ predicted",
        "cat",
        "dog",
    ]
    assert tables.nth(0).locator("tbody tr").first.locator("td").all_inner_texts() == [
        "cat",
        "5",
        "1",
    ]
    facts = page.locator(".hs-facts").inner_text()
    assert "single run" in facts and "single-runs" in facts and "sweep" not in facts.split()
    page.goto(f"{live.url}/")
    page.wait_for_function(
        "() => document.getElementById('app').dataset.models === '2'", timeout=15_000
    )
    link = page.locator("table.hs-single-runs a")
    assert (
        link.inner_text() == media.run.id and link.get_attribute("href") == f"/runs/{media.run.id}"
    )
    assert page.locator("table.hs-sweeps").count() == 0
    models = page.locator("table.hs-models tbody tr")
    assert models.count() == 2
    clf = page.locator("tr[data-model='clf:1']")
    assert EVIL in clf.inner_text()
    clf.locator("a").click()
    page.wait_for_url(f"**/runs/{media.run.id}")
    assert page.evaluate("window.__pwned") is None
