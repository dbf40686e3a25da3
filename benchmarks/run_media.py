"""``log_image`` of a 1 MB PNG and ``upload_file`` of 100 MB: time, and the driving process's memory.

    python benchmarks/run_media.py [--upload-mb 100] [--image-mb 1]

Each case runs in a fresh Python process, so its peak resident memory (``ru_maxrss``) is its own:

1. ``log_image`` of a 1 MB PNG from a callable trial (it runs in the driving process): the time of
   the call, and how much the driver's peak memory grew over the whole single run.
2. ``upload_file`` of a 100 MB file from a callable trial (driver's memory again), and from a
   binary stream on a run read back from the workspace (as a notebook cell would).
3. Baselines in the same kind of fresh process: ``shutil.copyfile`` of the same file (time), and a
   copy that reads the whole file into memory (what "held in memory" would cost).

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

CASE = r"""
import json, os, resource, shutil, sys, time
from pathlib import Path
mode, root = sys.argv[1], Path(sys.argv[2])
from hypersweep import Experiment, Run, Workspace  # imported before the baseline, in every case

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

base = peak_mb()
timing = {}
if mode in ("image", "upload"):
    def trial(cfg):
        run = Run.get_context()
        t = time.perf_counter()
        if mode == "image":
            run.log_image("noise", path=str(root / "noise.png"))
        else:
            run.upload_file("outputs/big.bin", str(root / "big.bin"))
        timing["call"] = time.perf_counter() - t
    ws = Workspace(root / f"ws-{mode}")
    t = time.perf_counter()
    run = Experiment(ws, "media").submit(trial)
    run.wait_for_completion()
    timing["run"] = time.perf_counter() - t
    assert run.get_status() == "Completed", run.get_details()
elif mode == "stream":
    ws = Workspace(root / "ws-stream")
    run = Experiment(ws, "media").submit(lambda cfg: None)
    run.wait_for_completion()
    run = Workspace(ws.path).get_run(run.id)
    base = peak_mb()
    t = time.perf_counter()
    with open(root / "big.bin", "rb") as f:
        run.upload_file("outputs/big.bin", f)
    timing["call"] = time.perf_counter() - t
elif mode == "copyfile":
    t = time.perf_counter()
    shutil.copyfile(root / "big.bin", root / "copy.bin")
    timing["call"] = time.perf_counter() - t
elif mode == "in-memory":
    t = time.perf_counter()
    (root / "copy2.bin").write_bytes((root / "big.bin").read_bytes())
    timing["call"] = time.perf_counter() - t
print(json.dumps({"mode": mode, **timing, "peak_growth_mb": peak_mb() - base, "peak_mb": peak_mb()}))
"""


def noise_png(path: Path, megabytes: float) -> None:
    """A PNG of random pixels (incompressible), about ``megabytes`` large."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    raw = b"".join(b"\x00" + os.urandom(side * 3) for _ in range(side))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--upload-mb", type=int, default=100)
    parser.add_argument("--image-mb", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hs-media-") as tmp:
        root = Path(tmp)
        noise_png(root / "noise.png", args.image_mb)
        with open(root / "big.bin", "wb") as f:
            for _ in range(args.upload_mb):
                f.write(os.urandom(1024 * 1024))
        print(
            f"image: {(root / 'noise.png').stat().st_size / 1e6:.2f} MB PNG; upload: {args.upload_mb} MiB"
        )
        for mode in ("image", "upload", "stream", "copyfile", "in-memory"):
            out = subprocess.run(
                [sys.executable, "-c", CASE, mode, str(root)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            line = f"{mode:>10}: call {r['call'] * 1000:8.1f} ms"
            if "run" in r:
                line += f"  (whole single run {r['run'] * 1000:7.1f} ms)"
            line += (
                f"  driver peak memory +{r['peak_growth_mb']:6.1f} MB (peak {r['peak_mb']:.0f} MB)"
            )
            print(line)


if __name__ == "__main__":
    main()
