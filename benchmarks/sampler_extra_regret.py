"""Noise-free regret for the noisy problems of ``benchmarks/sampler_problems.py``.

The shared harness scores a run by the best value it observed. On a noisy problem that value is
optimistically biased (the minimum of noisy draws), so this script rewrites the harness's JSONL
records of noisy problems to score the configuration the run would recommend, the best observed
one (``best_params``), by its noise-free value. The end-of-budget figure (``best`` and the 100 %
point of ``best_so_far``) becomes noise-free; the earlier points of the curve, for which the
harness keeps no configuration, stay as observed and are marked in ``denoised_curve``.
Records of other problems are copied unchanged, so the output can be fed to
``run_bench.py --summarize`` like any result file.

``--compact`` also rounds the per-evaluation lists (``values`` to 6 significant digits,
``gaps_ms`` to 0.01 ms) to keep result files small; the summary reads neither at full precision
(it uses ``best``, ``best_so_far`` and the per-run times, which stay exact).

``--ratios SUMMARY.json --sampler NAME`` instead prints, from a summary written by
``run_bench.py --summarize``, the ratio of NAME's mean regret to the best sampler's per problem.

Usage::

    python benchmarks/sampler_extra_regret.py IN.jsonl [IN2.jsonl ...] --out OUT.jsonl [--compact]
    python benchmarks/sampler_extra_regret.py --ratios SUMMARY.json --sampler NAME
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class _Problem:
    """Just enough of the harness's Problem for :func:`sampler_problems.extra`."""

    def __init__(
        self,
        name: str,
        space: dict[str, list[Any]],
        objective: Any,
        optimum: float | None,
        kind: str = "synthetic",
        notes: str = "",
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.name, self.space, self.objective, self.optimum = name, space, objective, optimum
        self.kind, self.notes, self.meta = kind, notes, meta or {}


def noise_free_functions() -> dict[str, Any]:
    """Problem name -> noise-free objective, for the noisy extra problems."""
    spec = importlib.util.spec_from_file_location("sampler_problems", HERE / "sampler_problems.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return {
        n: p.meta["noise_free"] for n, p in mod.extra(_Problem).items() if "noise_free" in p.meta
    }


def denoise(record: dict[str, Any], clean: dict[str, Any]) -> dict[str, Any]:
    """The record scored by the noise-free value of its best observed configuration."""
    fn = clean.get(record.get("problem", ""))
    if fn is None or record.get("status") != "ok" or not record.get("best_params"):
        return record
    out = dict(record)
    value = float(fn(record["best_params"]))
    out["observed_best"] = record["best"]
    out["best"] = value
    out["best_so_far"] = dict(record["best_so_far"], **{"1.0": value})
    out["denoised_curve"] = ["1.0"]
    return out


def compact(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its per-evaluation lists rounded."""
    out = dict(record)
    if isinstance(record.get("values"), list):
        out["values"] = [float(f"{v:.6g}") for v in record["values"]]
    if isinstance(record.get("gaps_ms"), list):
        out["gaps_ms"] = [round(g, 2) for g in record["gaps_ms"]]
    return out


def ratio_table(summary: dict[str, Any], sampler: str) -> str:
    """Markdown: per (problem, batch), ``sampler``'s mean regret over the best sampler's."""
    cells = list(summary["cells"].values())
    lines = [
        f"| problem | batch | {sampler} mean regret | best sampler | its mean regret | ratio |",
        "|---|---|---|---|---|---|",
    ]
    keys = sorted({(c["problem"], c["batch"]) for c in cells})
    for prob, batch in keys:
        group = {
            c["sampler"]: c["mean_regret"]
            for c in cells
            if (c["problem"], c["batch"]) == (prob, batch)
        }
        if sampler not in group:
            continue
        best = min(group, key=lambda s: group[s])
        mine, top = group[sampler], group[best]
        ratio = "1 (best)" if best == sampler else (f"{mine / top:.3g}" if top > 0 else "inf")
        lines.append(f"| {prob} | {batch} | {mine:.3g} | {best} | {top:.3g} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: rewrite JSONL files into one denoised JSONL file."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("inputs", nargs="*", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--ratios", type=Path, help="a summary JSON of run_bench.py --summarize")
    ap.add_argument(
        "--sampler", default="hypersweep-bayes", help="the sampler whose ratios --ratios prints"
    )
    ap.add_argument("--compact", action="store_true", help="round the per-evaluation lists")
    args = ap.parse_args(argv)
    if args.ratios is not None:
        print(ratio_table(json.loads(args.ratios.read_text()), args.sampler))
        return
    if not args.inputs or args.out is None:
        ap.error("give input JSONL files and --out (or --ratios)")
    clean = noise_free_functions()
    n = changed = 0
    with args.out.open("w") as out:
        for path in args.inputs:
            for line in path.read_text().splitlines():
                if not line.strip():
                    continue
                rec = json.loads(line)
                new = denoise(rec, clean)
                changed += new is not rec
                if args.compact:
                    new = compact(new)
                n += 1
                out.write(json.dumps(new) + "\n")
    print(f"{n} records, {changed} scored on the noise-free value -> {args.out}")


if __name__ == "__main__":
    main()
