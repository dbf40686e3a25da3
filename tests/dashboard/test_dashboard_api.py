"""The dashboard's JSON API, over HTTP against a real server on a free loopback port."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from hypersweep import Experiment, Workspace
from hypersweep.dashboard._security import COOKIE

from .dashboard_helpers import EVIL, EVIL_VALUE, callable_config

pytestmark = pytest.mark.integration


def get(server, path: str, **kwargs) -> httpx.Response:
    return httpx.get(server.url + path, timeout=10, **kwargs)


def test_the_list_has_every_sweep_with_progress_and_best(server, sweeps) -> None:
    listed = {s["id"]: s for s in get(server, "/api/sweeps").json()}
    assert set(listed) == {sweeps.fn.id, sweeps.script.id}
    fn = listed[sweeps.fn.id]
    assert (fn["status"], fn["done"], fn["n_runs"], fn["max_total_runs"]) == (
        "Completed",
        12,
        12,
        12,
    )
    best = sweeps.fn.get_children_sorted_by_primary_metric(top=1)[0]["best_primary_metric"]
    assert fn["best"] == pytest.approx(best)
    assert listed[sweeps.script.id]["goal"] == "minimize"
    assert fn["elapsed"] > 0


def test_a_sweep_has_its_runs_parameters_and_every_interval(server, sweeps) -> None:
    data = get(server, f"/api/sweeps/{sweeps.fn.id}").json()
    assert [p["name"] for p in data["sweep"]["parameters"]] == ["x", "kind", "lr"]
    assert data["sweep"]["parameters"][2]["log"] is True
    assert data["sweep"]["parameters"][1]["values"] == ["a", EVIL_VALUE]
    assert len(data["runs"]) == 12
    best = sweeps.fn.get_best_run_by_primary_metric()
    assert data["sweep"]["best_run"] == best.number
    metrics = sweeps.fn.get_metrics()
    for run in data["runs"]:
        assert data["series"]["y"][str(run["number"])] == pytest.approx(metrics[run["id"]]["score"])
        assert run["intervals"] == 8 and run["status"] == "Completed"
        assert set(run["hp"]) == {"x", "kind", "lr"}
    assert data["series"]["x"] == {}


def test_updates_send_only_what_changed_after_the_cursor(server, sweeps) -> None:
    data = get(server, f"/api/sweeps/{sweeps.fn.id}").json()
    later = get(
        server, f"/api/sweeps/{sweeps.fn.id}/updates", params={"since": data["cursor"]}
    ).json()
    assert later["points"] == {} and later["sweep"]["status"] == "Completed"
    everything = get(server, f"/api/sweeps/{sweeps.fn.id}/updates", params={"since": "0:0"}).json()
    assert sum(len(p) for p in everything["points"].values()) == 12 * 8
    assert everything["points"]["0"][0][0] == 1  # [interval, value]
    assert (
        get(server, f"/api/sweeps/{sweeps.fn.id}/updates", params={"since": "nonsense"}).status_code
        == 400
    )


def test_unknown_ids_are_404(server) -> None:
    assert get(server, "/api/sweeps/HD_nope").status_code == 404
    assert get(server, "/api/runs/HD_nope_1").status_code == 404
    assert get(server, "/api/runs/HD_nope_1/logs/stdout").status_code == 404


def test_a_run_has_metrics_tags_and_files_with_user_text_as_data(server, sweeps) -> None:
    run = sweeps.fn.get_children()[0]
    data = get(server, f"/api/runs/{run.id}").json()
    assert data["run"]["number"] == 0 and data["run"]["hyperparameters"].keys() == {
        "x",
        "kind",
        "lr",
    }
    assert len(data["metrics"]["score"]["values"]) == 8
    assert data["metrics"][EVIL]["values"] == [1.0]
    assert data["metrics"]["summary"] == {
        "kind": "table",
        "columns": {"epoch": [1], "loss": [0.25]},
    }
    assert data["tags"] == {"note": EVIL, EVIL: "tag key"}
    script_run = sweeps.script.get_children()[0]
    files = [f["name"] for f in get(server, f"/api/runs/{script_run.id}").json()["files"]]
    assert "outputs/model.txt" in files and "logs/stdout.txt" in files


def test_logs_tail_then_follow_from_an_offset(server, sweeps) -> None:
    run = sweeps.script.get_children()[0]
    tail = get(server, f"/api/runs/{run.id}/logs/stdout", params={"tail": 2}).json()
    assert tail["text"].count("\n") == 2 and tail["text"].startswith("epoch 2 <b>loss</b>")
    full = get(server, f"/api/runs/{run.id}/logs/stdout", params={"offset": 0}).json()
    assert full["text"].startswith("epoch 0") and full["offset"] == tail["offset"]
    rest = get(server, f"/api/runs/{run.id}/logs/stdout", params={"offset": full["offset"]}).json()
    assert rest == {"text": "", "offset": full["offset"], "truncated": False}
    assert get(server, f"/api/runs/{run.id}/logs/environ").status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "../../hypersweep.db",
        "outputs/../../../hypersweep.db",
        "outputs/../../" + "x" * 3,
        "/etc/passwd",
        "//etc/passwd",
        "train.py",
        "outputs",
        "",
    ],
)
def test_downloads_cannot_leave_the_runs_outputs_and_logs(server, sweeps, name) -> None:
    run = sweeps.script.get_children()[0]
    response = get(server, f"/api/runs/{run.id}/file", params={"name": name})
    assert response.status_code in (400, 404, 422)
    assert b"root:" not in response.content and b"SQLite" not in response.content


def test_a_listed_output_file_downloads(server, sweeps) -> None:
    run = sweeps.script.get_children()[0]
    response = get(server, f"/api/runs/{run.id}/file", params={"name": "outputs/model.txt"})
    assert response.status_code == 200 and response.content.startswith(b"width=")
    assert "attachment" in response.headers["content-disposition"]


def test_pages_carry_a_strict_csp_and_no_user_data(server, sweeps) -> None:
    response = get(server, f"/sweeps/{sweeps.fn.id}")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script>" not in response.text.replace("<script src=", "")
    assert sweeps.fn.id not in response.text  # ids reach the page as data, through the API
    assert get(server, "/").status_code == 200 and get(server, "/runs/x").status_code == 200
    assert (
        get(server, "/static/echarts.min.js").headers["content-type"].startswith("text/javascript")
    )


def test_the_api_is_described_by_openapi(server) -> None:
    schema = get(server, "/api/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/api/sweeps",
        "/api/sweeps/{sweep_id}",
        "/api/sweeps/{sweep_id}/updates",
        "/api/sweeps/{sweep_id}/cancel",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/logs/{stream}",
        "/api/runs/{run_id}/file",
    } <= paths
    assert "SweepPage" in schema["components"]["schemas"]


def test_on_loopback_a_foreign_host_header_is_refused(server) -> None:
    assert get(server, "/api/sweeps", headers={"Host": "attacker.example:80"}).status_code == 403
    assert get(server, "/api/sweeps", headers={"Host": "localhost"}).status_code == 200


def test_cancel_needs_the_page_token_in_a_header(server, sweeps) -> None:
    url = f"{server.url}/api/sweeps/{sweeps.fn.id}/cancel"
    assert httpx.post(url).status_code == 403
    assert httpx.post(url, headers={"Authorization": "Bearer wrong"}).status_code == 403
    token = re.search(r'name="hs-token" content="([^"]+)"', get(server, "/").text).group(1)
    response = httpx.post(url, headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"canceled": False, "status": "Completed"}  # it had ended already


def test_with_a_token_every_request_carries_it(serve, sweeps) -> None:
    live = serve(sweeps.workspace.path, token="s3cret-token")
    assert httpx.get(live.url + "/api/sweeps").status_code == 403
    assert httpx.get(live.url + "/static/hs.css").status_code == 403
    assert httpx.get(live.url + "/api/sweeps", params={"token": "wrong"}).status_code == 403
    assert (
        httpx.get(
            live.url + "/api/sweeps", headers={"Authorization": "Bearer s3cret-token"}
        ).status_code
        == 200
    )
    with httpx.Client(base_url=live.url) as client:
        first = client.get("/", params={"token": "s3cret-token"})
        assert first.status_code == 200 and COOKIE in first.cookies
        assert "samesite=strict" in first.headers["set-cookie"].lower()
        assert (
            client.get("/static/hs.css").status_code == 200
        )  # the cookie, for the page's own files
        cancel = client.post(f"/api/sweeps/{sweeps.fn.id}/cancel")
        assert cancel.status_code == 403  # the cookie alone never cancels
        cancel = client.post(
            f"/api/sweeps/{sweeps.fn.id}/cancel", headers={"X-Hypersweep-Token": "s3cret-token"}
        )
        assert cancel.status_code == 200


def test_an_empty_folder_serves_an_empty_list(serve, tmp_path) -> None:
    live = serve(tmp_path)
    assert httpx.get(live.url + "/api/sweeps").json() == []
    assert httpx.get(live.url + "/api/sweeps/HD_x").status_code == 404
    assert (
        httpx.get(live.url + "/api/runs/HD_x_1/file", params={"name": "outputs/a"}).status_code
        == 404
    )
    assert not (tmp_path / ".hypersweep").exists()  # reading creates nothing


def test_cancel_through_the_api_stops_a_running_sweep(serve, tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    run = Experiment(ws, "slow").submit(callable_config(6, pause=0.2, intervals=50, concurrent=2))
    try:
        live = serve(ws.path)
        token = re.search(
            r'content="([^"]+)"', httpx.get(live.url + "/").text.split('name="hs-token"')[1]
        ).group(1)
        deadline = time.monotonic() + 10
        while httpx.get(f"{live.url}/api/sweeps/{run.id}").json()["sweep"]["status"] != "Running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        response = httpx.post(
            f"{live.url}/api/sweeps/{run.id}/cancel", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.json()["canceled"] is True
    finally:
        run.wait_for_completion(raise_on_error=False)
    data = json.loads(httpx.get(f"{live.url}/api/sweeps/{run.id}").text)
    assert data["sweep"]["status"] == "Canceled"
    assert all(r["status"] in ("Canceled", "Completed") for r in data["runs"])


def test_reading_hard_while_a_sweep_writes_never_blocks_it(serve, tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    run = Experiment(ws, "busy").submit(callable_config(8, intervals=40, concurrent=4))
    live = serve(ws.path)
    statuses: list[int] = []
    cursor = "0:0"
    with httpx.Client(base_url=live.url, timeout=10) as client:
        while run.get_status() not in ("Completed", "Failed", "Canceled"):
            statuses.append(client.get(f"/api/sweeps/{run.id}").status_code)
            answer = client.get(f"/api/sweeps/{run.id}/updates", params={"since": cursor})
            statuses.append(answer.status_code)
            if answer.status_code == 200:
                cursor = answer.json()["cursor"]
    run.wait_for_completion()
    assert run.get_status() == "Completed"
    assert set(statuses) <= {200}
    data = httpx.get(f"{live.url}/api/sweeps/{run.id}").json()
    assert sum(len(v) for v in data["series"]["y"].values()) == 8 * 40


def test_cancel_one_run_through_the_api_and_the_sweep_goes_on(serve, tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    run = Experiment(ws, "one").submit(callable_config(3, pause=0.15, intervals=30, concurrent=2))
    try:
        live = serve(ws.path)
        token = re.search(
            r'name="hs-token" content="([^"]+)"', httpx.get(live.url + "/").text
        ).group(1)
        target = f"{run.id}_0"
        deadline = time.monotonic() + 10
        while httpx.get(f"{live.url}/api/runs/{target}").json()["run"]["status"] != "Running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert httpx.post(f"{live.url}/api/runs/{target}/cancel").status_code == 403
        as_run = httpx.post(
            f"{live.url}/api/runs/{run.id}/cancel", headers={"Authorization": f"Bearer {token}"}
        )
        assert as_run.status_code == 404  # a sweep is not a run
        response = httpx.post(
            f"{live.url}/api/runs/{target}/cancel", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.json()["canceled"] is True
    finally:
        run.wait_for_completion(raise_on_error=False)
    data = httpx.get(f"{live.url}/api/sweeps/{run.id}").json()
    assert data["sweep"]["status"] == "Completed"
    assert [r["status"] for r in data["runs"]] == ["Canceled", "Completed", "Completed"]
    assert data["runs"][0]["note"] == "Canceled by the user."
