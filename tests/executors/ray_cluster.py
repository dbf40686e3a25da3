"""A local Ray cluster for tests that only its owner stops: a head with no CPUs and one worker node.

Started with ``ray start`` (so trials never run in the driver's raylet) in a temp dir of its own;
every process it started is killed at the end by session id: ``ray stop`` would stop every Ray on
the machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import ray  # noqa: F401

    HAVE_RAY = True
except ImportError:
    HAVE_RAY = False


def pid_alive(pid: int) -> bool:
    """True if a process with ``pid`` exists and is not a zombie (as tests/conftest.py has it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sessions_pids(sids: set[int]) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getsid(int(entry)) in sids:
                pids.append(int(entry))
        except OSError:
            pass
    return pids


class LocalRayCluster:
    """A head (no CPUs) plus one worker node, started with ``ray start`` each in a session of its own.

    ``stop`` kills exactly the processes of those sessions (Ray's daemons and workers inherit them)
    and removes the temp dir; other Ray instances on the machine are left alone.
    """

    def __init__(self, worker_cpus: int = 2) -> None:
        self.worker_cpus = worker_cpus
        # Ray switches token authentication on when ~/.ray/auth_token exists (another Ray left it),
        # and then the worker node cannot join; the test cluster states its mode explicitly.
        self.auth = {"RAY_AUTH_MODE": "disabled"}
        self.temp_dir = tempfile.mkdtemp(prefix="ray-hypersweep-test-", dir="/tmp")
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.client_port = free_port()
        self.sids: set[int] = set()

    def _ray_start(self, args: list[str]) -> None:
        ray_cli = Path(sys.executable).with_name("ray")
        cmd = [str(ray_cli) if ray_cli.exists() else "ray", "start", *args]
        cmd += [
            f"--temp-dir={self.temp_dir}",
            "--disable-usage-stats",
            "--node-ip-address=127.0.0.1",
        ]
        cmd += [f"--dashboard-agent-listen-port={free_port()}"]
        # a busy machine can take more than Ray's default 30 s to start a Ray Client server
        env = {
            **os.environ,
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_CLIENT_SERVER_CHECK_CHANNEL_TIMEOUT_S": "120",
            **self.auth,
        }
        env.pop("RAY_ADDRESS", None)
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.sids.add(proc.pid)
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.decode(errors='replace')}")

    def start(self) -> LocalRayCluster:
        try:
            self._ray_start(
                [
                    "--head",
                    f"--port={self.port}",
                    "--num-cpus=0",
                    "--include-dashboard=false",
                    f"--dashboard-port={free_port()}",
                    f"--ray-client-server-port={self.client_port}",
                ]
            )
            # two (fake) GPUs on the worker: Ray schedules num_gpus on them without real devices
            self._ray_start(
                [f"--address={self.address}", f"--num-cpus={self.worker_cpus}", "--num-gpus=2"]
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for _ in range(50):
            pids = [p for p in _sessions_pids(self.sids) if pid_alive(p)]
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.1)
        subprocess.run(["rm", "-rf", self.temp_dir], check=False)

    def processes(self) -> list[int]:
        return [p for p in _sessions_pids(self.sids) if pid_alive(p)]
