"""Cost of one early-termination decision with 1000 runs x 100 intervals of history.

    python benchmarks/policy_latency.py [--runs 1000] [--intervals 100] [--repeat 3]

For each policy: every run holds ``intervals - 1`` values; then each run in turn appends its last
value and a fresh policy judges it at that interval, as a sweep does. The first decision indexes
all the history (the cold cost, paid once per policy object); each later one finds one new value.
Printed: microseconds per decision (median and 99th percentile of the warm ones), the cold cost,
and the ratio of the
median to the cost of one ``sorted()`` over 1000 floats measured in the same process, so figures
from different machines can be compared. The two ``RobustAshaPolicy`` settings of the README
(recommended and aggressive) are judged at their rung 81 instead, since 100 is not one of their
rungs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from es_adapter import PRESETS  # benchmarks/ is on sys.path as the script's folder

from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy import (
    AshaPolicy,
    BanditPolicy,
    EarlyTerminationPolicy,
    MedianStoppingPolicy,
    RobustAshaPolicy,
    RunHistory,
    TruncationSelectionPolicy,
)
from hypersweep.status import RunStatus

GOAL = PrimaryMetricGoal.MAXIMIZE


def make_histories(
    runs: int, length: int, seed: int = 0
) -> tuple[dict[str, RunHistory], list[float]]:
    """``runs`` histories of ``length - 1`` values each, and the last value each will append."""
    rng = random.Random(seed)
    histories: dict[str, RunHistory] = {}
    last: list[float] = []
    for i in range(runs):
        quality = rng.random()
        curve = [quality * (1 - 0.9**k) + 0.02 * rng.random() for k in range(1, length + 1)]
        status = RunStatus.COMPLETED if i % 3 == 0 else RunStatus.RUNNING
        histories[f"run{i}"] = RunHistory(f"run{i}", curve[:-1], status=status)
        last.append(curve[-1])
    return histories, last


def naive_median_decision(run_id: str, k: int, histories: dict[str, RunHistory]) -> bool:
    """Median stopping recomputed from the raw histories (what the index saves)."""
    averages = [sum(h.values[:k]) / k for h in histories.values() if len(h.values) >= k]
    return max(histories[run_id].values[:k]) < statistics.median(averages)


def measure(
    make: Callable[[], EarlyTerminationPolicy] | None, runs: int, length: int
) -> tuple[float, float, float]:
    """(median us, p99 us, cold us) per decision at interval ``length``."""
    histories, last = make_histories(runs, length)
    policy = make() if make is not None else None
    items = list(histories.items())
    # The first decision indexes all the history (cold); the others find one new value each.
    cold = 0.0
    times = []
    for i, (run_id, history) in enumerate(items):
        history.values.append(last[i])
        t0 = time.perf_counter()
        if policy is not None:
            policy.evaluate(run_id, length, histories, GOAL)
        else:
            naive_median_decision(run_id, length, histories)
        elapsed = (time.perf_counter() - t0) * 1e6
        if i == 0:
            cold = elapsed
        else:
            times.append(elapsed)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))], cold


def sorted_baseline(n: int) -> float:
    """Microseconds for one ``sorted()`` over n random floats (median of many)."""
    rng = random.Random(1)
    data = [rng.random() for _ in range(n)]
    times = []
    for _ in range(2000):
        t0 = time.perf_counter()
        sorted(data)
        times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--intervals", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many passes")
    a = ap.parse_args()
    policies: list[tuple[str, Callable[[], EarlyTerminationPolicy] | None]] = [
        ("BanditPolicy(slack_factor=0.1)", lambda: BanditPolicy(slack_factor=0.1)),
        ("MedianStoppingPolicy()", MedianStoppingPolicy),
        ("TruncationSelectionPolicy(20)", lambda: TruncationSelectionPolicy(20)),
        (
            "TruncationSelectionPolicy(20, exclude_finished_jobs=True)",
            lambda: TruncationSelectionPolicy(20, exclude_finished_jobs=True),
        ),
        # rungs 1, 10, 100: interval 100 is a rung
        ("AshaPolicy(reduction_factor=10)", lambda: AshaPolicy(reduction_factor=10)),
        ("AshaPolicy(10, compare='best')", lambda: AshaPolicy(reduction_factor=10, compare="best")),
        (
            "RobustAshaPolicy(10, min_interval=1, trend_factor=1)",
            lambda: RobustAshaPolicy(reduction_factor=10, min_interval=1, trend_factor=1.0),
        ),
        ("naive median (no index), for scale", None),
    ]
    # The README's two RobustAshaPolicy settings, each judged at one of its rungs (81 = 3**4 for
    # both: 3, 9, 27, 81 recommended; 1, 3, 9, 27, 81 aggressive), with that many intervals.
    presets: list[tuple[str, Callable[[], EarlyTerminationPolicy], int]] = [
        (
            f"RobustAshaPolicy(**PRESETS[{name!r}]) ({name}), rung 81",
            lambda settings=PRESETS[name][1]: RobustAshaPolicy(**settings),
            81,
        )
        for name in ("recommended", "aggressive")
    ]
    base = sorted_baseline(a.runs)
    print(
        f"{a.runs} runs x {a.intervals} intervals; one sorted() over {a.runs} floats = {base:.1f} us"
    )
    print("| policy | us/decision (median) | p99 us | x sorted() | cold first call us |")
    print("|---|---:|---:|---:|---:|")
    for name, make in policies:
        best = min(
            (measure(make, a.runs, a.intervals) for _ in range(a.repeat)), key=lambda m: m[0]
        )
        med, p99, cold = best
        cold_text = f"{cold:.0f}" if make is not None else "-"
        print(f"| {name} | {med:.1f} | {p99:.1f} | {med / base:.2f} | {cold_text} |")
    for name, make_preset, rung in presets:
        med, p99, cold = min(
            (measure(make_preset, a.runs, rung) for _ in range(a.repeat)), key=lambda m: m[0]
        )
        print(f"| {name} | {med:.1f} | {p99:.1f} | {med / base:.2f} | {cold:.0f} |")


if __name__ == "__main__":
    main()
