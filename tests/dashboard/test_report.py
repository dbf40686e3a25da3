"""`hypersweep report` and `hypersweep ui` as commands; the HTML report is one self-contained file."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner

from hypersweep.dashboard.commands import report, ui
from hypersweep.dashboard.report import json_for_html, sweep_report_html

from .dashboard_helpers import EVIL_VALUE


def test_report_writes_one_self_contained_file(sweeps, tmp_path) -> None:
    out = tmp_path / "sub" / "report.html"
    result = CliRunner().invoke(
        report, [sweeps.fn.id[:12], "--workspace", str(sweeps.workspace.path), "--html", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    text = out.read_text()
    assert text.startswith("<!doctype html>")
    markup = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S)
    assert not re.search(r"(src|href)=|url\(", markup)  # nothing loaded from elsewhere
    assert EVIL_VALUE not in text and "\\u003cimg src=x onerror" in text
    data = json.loads(
        re.search(
            r'<script type="application/json" id="app-data">(.*?)</script>', text, re.S
        ).group(1)
    )
    assert len(data["runs"]) == 12 and data["sweep"]["id"] == sweeps.fn.id


def test_report_of_latest_and_unknown_sweeps(sweeps, tmp_path) -> None:
    ws = str(sweeps.workspace.path)
    ok = CliRunner().invoke(report, ["latest", "-w", ws, "--html", str(tmp_path / "r.html")])
    assert ok.exit_code == 0 and sweeps.script.id in ok.output
    bad = CliRunner().invoke(report, ["HD_nope", "-w", ws, "--html", str(tmp_path / "x.html")])
    assert bad.exit_code == 2 and "matches no sweep" in bad.output
    assert not (tmp_path / "x.html").exists()


def test_report_refuses_a_folder_without_a_workspace(tmp_path) -> None:
    result = CliRunner().invoke(
        report, ["latest", "-w", str(tmp_path), "--html", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 2 and "not a hypersweep workspace" in " ".join(result.output.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_json_for_html_cannot_close_its_script_element() -> None:
    text = json_for_html({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_the_report_names_the_sweep_in_its_title(sweeps) -> None:
    assert f"<title>{sweeps.script.id} · hypersweep report</title>" in sweep_report_html(
        sweeps.workspace.path, sweeps.script.id
    )


@pytest.mark.integration
def test_ui_serves_on_loopback_and_prints_its_url(sweeps) -> None:
    code = "import sys; from hypersweep.dashboard.commands import ui; sys.argv[0] = 'hypersweep ui'; ui()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "-w", str(sweeps.workspace.path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert len(httpx.get(url + "api/sweeps", timeout=10).json()) == 2
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_ui_on_another_address_makes_up_a_token_and_prints_it(monkeypatch, sweeps) -> None:
    import socket

    import uvicorn

    bound = []

    def loopback_instead(host, port):  # tests listen on loopback only
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        bound.append((host, sock))
        return sock

    served = []
    monkeypatch.setattr("hypersweep.dashboard.commands._bind", loopback_instead)
    monkeypatch.setattr(
        uvicorn.Server, "run", lambda self, sockets=None: served.append(self.config.app)
    )
    result = CliRunner().invoke(
        ui, ["--host", "0.0.0.0", "--port", "0", "-w", str(sweeps.workspace.path)]
    )
    assert result.exit_code == 0, result.output
    token = re.search(r"http://0\.0\.0\.0:\d+/\?token=([\w-]{20,})", result.output).group(1)
    assert bound[0][0] == "0.0.0.0"
    assert served[0].state.guard.token == token
    result = CliRunner().invoke(
        ui,
        ["--host", "0.0.0.0", "--port", "0", "--token", "mine", "-w", str(sweeps.workspace.path)],
    )
    assert "?token=mine" in result.output and served[1].state.guard.token == "mine"
    result = CliRunner().invoke(ui, ["--port", "0", "-w", str(sweeps.workspace.path)])
    assert "token" not in result.output and served[2].state.guard.token is None


def test_ui_refuses_a_port_in_use(sweeps) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        result = CliRunner().invoke(ui, ["--port", str(port), "-w", str(sweeps.workspace.path)])
    assert result.exit_code == 1 and "Cannot listen" in result.output
