"""Helpers for the dashboard tests: sweeps of callable and script trials, a live server in a thread."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from hypersweep import (
    HyperDriveConfig,
    HyperDriveRun,
    RandomParameterSampling,
    Run,
    Workspace,
    choice,
    loguniform,
    uniform,
)
from hypersweep.dashboard import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EVIL = "<script>window.__pwned = 1; alert(1)</script>"
# a hyperparameter value: it reaches the runs table, the axes and the tooltips
EVIL_VALUE = '<img src=x onerror="window.__pwned = 2">'


def trial(cfg: dict[str, Any]) -> float:
    """A callable trial: logs the primary metric per interval, an evil metric name and an evil tag."""
    run = Run.get_context()
    run.tag("note", EVIL)
    run.tag(EVIL, "tag key")
    value = 0.0
    for i in range(cfg.get("intervals", 8)):
        value = cfg["x"] * (1 - 0.5 ** (i + 1)) + (0.05 if cfg["kind"] != "a" else 0.0)
        run.log("score", value)
        if cfg.get("pause"):
            time.sleep(cfg["pause"])
    run.log(EVIL, 1.0)
    run.log_row("summary", epoch=1, loss=0.25)
    return value


def callable_config(
    n: int, *, pause: float = 0.0, intervals: int = 8, concurrent: int = 4
) -> HyperDriveConfig:
    """A sweep of ``n`` callable trials (``pause`` seconds between intervals)."""

    def train(cfg: dict[str, Any]) -> float:
        return trial({**cfg, "pause": pause, "intervals": intervals})

    return HyperDriveConfig(
        run_config=train,
        hyperparameter_sampling=RandomParameterSampling(
            {"x": uniform(0, 1), "kind": choice("a", EVIL_VALUE), "lr": loguniform(-7, -1)},
            properties={"seed": 3},
        ),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=n,
        max_concurrent_runs=concurrent,
    )


TRAIN = """
import argparse, os
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--width", type=int)
a = p.parse_args()
run = Run.get_context()
for i in range(4):
    run.log("loss", 1.0 / (a.width + i))
    print(f"epoch {i} <b>loss</b> {1.0 / (a.width + i):.4f}", flush=True)
os.makedirs("outputs", exist_ok=True)
open("outputs/model.txt", "w").write(f"width={a.width}")
open("outputs/secret-neighbour.txt", "w").write("ok")
"""


@dataclass
class Sweeps:
    """The session's workspace and its two finished sweeps."""

    workspace: Workspace
    fn: HyperDriveRun
    script: HyperDriveRun


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real uvicorn server in a thread, on 127.0.0.1 and a free port."""

    def __init__(self, workspace: Path, token: str | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(workspace, token=token)
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def browser_available() -> bool:
    return os.path.exists(CHROMIUM) or bool(os.environ.get("CI"))
