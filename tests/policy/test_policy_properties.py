"""Properties over random histories: no crash, goal symmetry, cached = from scratch = reference.

The reference functions below restate HYPERDRIVE.md section 0 naively (no index, no cache).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

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

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
NAN = math.nan

# A few repeated values (ties), NaN, and arbitrary finite floats.
values = st.one_of(
    st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, -0.5, NAN]),
    st.floats(min_value=-100, max_value=100, allow_nan=False),
)
histories_st = st.dictionaries(
    st.sampled_from([f"r{i}" for i in range(8)]),
    st.tuples(
        st.lists(values, max_size=8),
        st.sampled_from(list(RunStatus)),
        st.booleans(),
    ),
    max_size=8,
).map(
    lambda d: {
        rid: RunHistory(rid, list(vals), status=status, prior=prior)
        for rid, (vals, status, prior) in d.items()
    }
)

POLICIES: list[Callable[[], EarlyTerminationPolicy]] = [
    lambda: BanditPolicy(slack_factor=0.1),
    lambda: BanditPolicy(slack_factor=0),
    lambda: BanditPolicy(slack_amount=0.2),
    lambda: MedianStoppingPolicy(),
    lambda: TruncationSelectionPolicy(20),
    lambda: TruncationSelectionPolicy(50, exclude_finished_jobs=True),
    lambda: AshaPolicy(reduction_factor=2),
    lambda: AshaPolicy(reduction_factor=3, compare="best", min_runs=2),
    lambda: AshaPolicy(reduction_factor=2, brackets=2),
    lambda: RobustAshaPolicy(min_interval=1),
    lambda: RobustAshaPolicy(min_interval=1, trend_factor=0.5, brackets=2, min_runs=2),
    lambda: RobustAshaPolicy(reduction_factor=2, min_interval=1, noise_factor=0.0, keep_ties=True),
    lambda: RobustAshaPolicy(reduction_factor=2, min_interval=1, climb_factor=1.0),
    lambda: RobustAshaPolicy(min_interval=1, resolution_factor=1.0, noise_factor=0.25),
    lambda: RobustAshaPolicy(min_interval=1, noise_factor=0.0, keep_improving_ties=False),
]
# Rules that are symmetric under (goal, values) -> (other goal, -values). Bandit's slack_factor is
# a ratio, so it is not (B / (1 + s) mirrors to B * (1 + s), a different threshold).
SYMMETRIC = [POLICIES[i] for i in (2, 3, 4, 5, 6, 7, 8, 9, 10)]


def negated(histories: dict[str, RunHistory]) -> dict[str, RunHistory]:
    return {
        r: RunHistory(r, [-v for v in h.values], h.status, h.prior) for r, h in histories.items()
    }


@settings(max_examples=150, deadline=None)
@given(histories=histories_st, interval=st.integers(-1, 10), goal=st.sampled_from([MAX, MIN]))
def test_random_histories_never_crash(
    histories: dict[str, RunHistory], interval: int, goal: PrimaryMetricGoal
) -> None:
    for make in POLICIES:
        policy = make()
        for run_id in [*histories, "unknown"]:
            decision = policy.evaluate(run_id, interval, histories, goal)
            assert isinstance(decision.stop, bool)
            if decision.stop:
                assert decision.reason
                assert not histories[run_id].prior
                assert not math.isnan(histories[run_id].values[interval - 1])


@settings(max_examples=150, deadline=None)
@given(histories=histories_st, goal=st.sampled_from([MAX, MIN]))
def test_goal_flip_with_negated_values_gives_the_same_decisions(
    histories: dict[str, RunHistory], goal: PrimaryMetricGoal
) -> None:
    other = MIN if goal is MAX else MAX
    flipped = negated(histories)
    for make in SYMMETRIC:
        a, b = make(), make()
        for run_id, history in histories.items():
            for k in range(1, len(history.values) + 1):
                assert (
                    a.evaluate(run_id, k, histories, goal).stop
                    == b.evaluate(run_id, k, flipped, other).stop
                )


# -- naive reference rules ----------------------------------------------------------------------


def _scores(h: RunHistory, k: int, sign: float) -> list[float]:
    return [sign * v for v in h.values[:k]]


def _best(scores: list[float]) -> float:
    finite = [s for s in scores if not math.isnan(s)]
    return max(finite) if finite else NAN


def _mean(scores: list[float]) -> float:
    total, count = 0.0, 0
    for s in scores:
        if not math.isnan(s):
            total += s
            count += 1
    return total / count if count else NAN


def _judged(run_id: str, k: int, hs: dict[str, RunHistory]) -> bool:
    h = hs.get(run_id)
    return (
        h is not None
        and not h.prior
        and 1 <= k <= len(h.values)
        and not math.isnan(h.values[k - 1])
    )


def reference(
    policy: EarlyTerminationPolicy,
    run_id: str,
    k: int,
    hs: dict[str, RunHistory],
    goal: PrimaryMetricGoal,
) -> bool:
    if not _judged(run_id, k, hs):
        return False
    sign = goal.sign
    reached = [h for h in hs.values() if len(h.values) >= k]
    mine = _best(_scores(hs[run_id], k, sign))
    if isinstance(policy, BanditPolicy):
        at_k = [sign * h.values[k - 1] for h in reached if not math.isnan(h.values[k - 1])]
        top = max(at_k)
        if mine >= top:
            return False
        if policy.slack_factor is not None:
            s = policy.slack_factor
            threshold = top / (1 + s) if goal is MAX else top * (1 + s)
        else:
            threshold = top - (policy.slack_amount or 0.0)
        return mine < threshold - 1e-9 * abs(threshold)
    if isinstance(policy, MedianStoppingPolicy):
        averages = sorted(
            a for a in (_mean(_scores(h, k, sign)) for h in reached) if not math.isnan(a)
        )
        if len(averages) < 2:
            return False
        n = len(averages)
        median = averages[n // 2] if n % 2 else (averages[n // 2 - 1] + averages[n // 2]) / 2
        return mine < median
    if isinstance(policy, TruncationSelectionPolicy):
        pool = [
            h
            for h in reached
            if not (
                policy.exclude_finished_jobs
                and h.status is RunStatus.COMPLETED
                and h.run_id != run_id
            )
        ]
        ranked = [sign * h.values[k - 1] for h in pool if not math.isnan(h.values[k - 1])]
        x = sign * hs[run_id].values[k - 1]
        better = sum(1 for y in ranked if y > x)
        n = len(ranked)
        return n >= 2 and better >= math.ceil((100 - policy.truncation_percentage) * n / 100)
    if isinstance(policy, AshaPolicy):
        bracket = policy._bracket_of(run_id) if policy.brackets > 1 else 0
        rung = policy.min_interval * policy.reduction_factor**bracket
        while rung < k:
            rung *= policy.reduction_factor
        if rung != k or (policy.max_interval is not None and k >= policy.max_interval):
            return False
        same = [
            h for h in reached if policy.brackets == 1 or policy._bracket_of(h.run_id) == bracket
        ]
        if policy.compare == "value":
            ranked = [sign * h.values[k - 1] for h in same if not math.isnan(h.values[k - 1])]
            x = sign * hs[run_id].values[k - 1]
        else:
            ranked = [b for b in (_best(_scores(h, k, sign)) for h in same) if not math.isnan(b)]
            x = mine
        if len(ranked) < policy.min_runs:
            return False
        better = sum(1 for y in ranked if y > x)
        return better >= max(1, len(ranked) // policy.reduction_factor)
    if isinstance(policy, RobustAshaPolicy):
        eta = policy.reduction_factor
        bracket = policy._bracket_of(run_id) if policy.brackets > 1 else 0
        rung = policy.min_interval * eta**bracket
        while rung < k:
            rung *= eta
        if rung != k or (policy.max_interval is not None and k >= policy.max_interval):
            return False
        same = [
            h for h in reached if policy.brackets == 1 or policy._bracket_of(h.run_id) == bracket
        ]
        ranked = sorted(b for b in (_best(_scores(h, k, sign)) for h in same) if not math.isnan(b))
        if len(ranked) < policy.min_runs:
            return False
        cutoff = ranked[-max(1, len(ranked) // eta)]
        window = [v for v in hs[run_id].values[max(0, k - policy.noise_window) : k]]
        window = [v for v in window if not math.isnan(v)]
        steps = [abs(b - a) for a, b in zip(window, window[1:], strict=False)]
        noise = sum(steps) / len(steps) if steps else 0.0
        earlier = _best(_scores(hs[run_id], k // eta, sign)) if k // eta >= 1 else NAN
        gain = mine - earlier if not math.isnan(earlier) else 0.0
        bound = mine + policy.noise_factor * noise + policy.trend_factor * gain
        if policy.resolution_factor and bound <= cutoff:
            seen = [v for v in hs[run_id].values[:k] if not math.isnan(v)]
            moves = [abs(b - a) for a, b in zip(seen, seen[1:], strict=False) if b != a]
            bound += policy.resolution_factor * min(moves, default=0.0)
        climb = [sign * v for v in window]
        rises = [b - a for a, b in zip(climb, climb[1:], strict=False)]
        if policy.climb_factor and len(climb) >= 3 and min(rises) > 0 and rises[-1] >= rises[0]:
            done = [len(h.values) for h in hs.values() if h.status is RunStatus.COMPLETED]
            end = policy.max_interval if policy.max_interval is not None else max(done, default=0)
            bound += policy.climb_factor * sum(rises) / len(rises) * max(0, end - k)
        if policy.keep_ties:
            return bound < cutoff
        # Otherwise it stops when keep other runs are at least as good as its bound.
        others = sum(1 for y in ranked if y >= bound) - (1 if mine >= bound else 0)
        if others < max(1, len(ranked) // eta):
            return False
        # A tied run whose best improved since the previous rung goes on.
        return not (policy.keep_improving_ties and gain > 0 and not bound < cutoff)
    raise AssertionError(policy)


@settings(max_examples=150, deadline=None)
@given(
    final=histories_st,
    order=st.randoms(use_true_random=False),
    goal=st.sampled_from([MAX, MIN]),
)
def test_cached_decisions_equal_fresh_ones_and_the_reference(
    final: dict[str, RunHistory], order, goal: PrimaryMetricGoal
) -> None:
    # Replay the histories as a sweep would: values appended one at a time in a random interleaving,
    # statuses set when a run has logged everything; one long-lived policy judges each report.
    steps = [run_id for run_id, h in final.items() for _ in h.values]
    order.shuffle(steps)
    for make in POLICIES:
        live = make()
        growing = {r: RunHistory(r, [], RunStatus.RUNNING, h.prior) for r, h in final.items()}
        for run_id in steps:
            h = growing[run_id]
            h.values.append(final[run_id].values[len(h.values)])
            if len(h.values) == len(final[run_id].values):
                h.status = final[run_id].status
            k = len(h.values)
            snapshot = copy.deepcopy(growing)
            cached = live.evaluate(run_id, k, growing, goal).stop
            assert cached == make().evaluate(run_id, k, snapshot, goal).stop
            assert cached == reference(live, run_id, k, snapshot, goal)


def test_reused_policy_with_unrelated_histories() -> None:
    # A policy object reused on another sweep with the same run ids must not serve stale caches.
    policy = MedianStoppingPolicy()
    first = {
        "a": RunHistory("a", [0.9, 0.9]),
        "r": RunHistory("r", [0.6, 0.6]),
        "b": RunHistory("b", [0.1, 0.1]),
    }
    assert not policy.evaluate("r", 2, first, MAX).stop  # median 0.6: not strictly worse
    second = {
        "a": RunHistory("a", [0.9, 0.9]),
        "r": RunHistory("r", [0.6, 0.6]),
        "b": RunHistory("b", [0.8, 0.8]),
    }
    assert policy.evaluate("r", 2, second, MAX).stop  # b's values changed: median 0.8
    assert not policy.evaluate("r", 2, second, MIN).stop  # the goal changed
    fewer = {"r": second["r"], "a": second["a"]}  # b vanished: median 0.75
    assert policy.evaluate("r", 2, fewer, MAX).stop
    assert not policy.evaluate("r", 2, first, MAX).stop
