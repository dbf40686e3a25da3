"""RobustAshaPolicy on hand-made curves: rungs, the noise and trend margins, both goals, the two
recommended settings, warm-start priors, validation, and the sweep-file / stored-form round trips."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep._launch import policy_from_json
from hypersweep.errors import InvalidConfigError
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy import AshaPolicy, RobustAshaPolicy, RunHistory, policy_from_data
from hypersweep.status import RunStatus

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
GOALS = [(MAX, 1.0), (MIN, -1.0)]
finite = st.sampled_from([0.0, 0.1, 0.2, 0.5, 0.7, 0.9, 1.0, math.nan])

# The settings benchmarks/es_adapter.py calls "recommended" and "aggressive".
RECOMMENDED = {
    "reduction_factor": 3,
    "min_interval": 3,
    "noise_factor": 0.1,
    "noise_window": 4,
    "climb_factor": 0.0,
    "resolution_factor": 0.0,
    "keep_improving_ties": True,
}
AGGRESSIVE = {
    "reduction_factor": 3,
    "min_interval": 1,
    "noise_factor": 0.5,
    "noise_window": 5,
    "climb_factor": 1.0,
    "resolution_factor": 0.0,
    "keep_improving_ties": False,
}


def runs(curves: dict[str, list[float]], sign: float = 1.0) -> dict[str, RunHistory]:
    """Histories from curves given for a maximized metric; ``sign=-1`` mirrors them for minimize."""
    return {rid: RunHistory(rid, [sign * v for v in vals]) for rid, vals in curves.items()}


def leaders(n: int, length: int, level: float = 0.9) -> dict[str, list[float]]:
    """n smooth runs well ahead of anything the tests judge."""
    return {f"lead{i}": [level + 0.001 * i] * length for i in range(n)}


def test_defaults_are_the_recommended_setting() -> None:
    policy = RobustAshaPolicy()
    props = policy.properties()
    assert {k: props[k] for k in RECOMMENDED} == RECOMMENDED
    assert (props["trend_factor"], props["brackets"], props["min_runs"]) == (0.0, 1, 1)


def test_rungs() -> None:
    policy = RobustAshaPolicy(reduction_factor=3, min_interval=2, max_interval=50)
    assert [k for k in range(1, 60) if policy.should_evaluate(k)] == [2, 6, 18]
    brackets = RobustAshaPolicy(reduction_factor=2, min_interval=1, max_interval=10, brackets=2)
    assert [k for k in range(1, 12) if brackets.should_evaluate(k)] == [1, 2, 4, 8]
    # Between rungs and at max_interval nobody is judged, however far behind.
    histories = runs({**leaders(6, 3), "low": [0.1, 0.1, 0.1]})
    assert not policy.evaluate("low", 1, histories, MAX).stop
    assert not policy.evaluate("low", 3, histories, MAX).stop
    assert policy.evaluate("low", 2, histories, MAX).stop


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_a_run_behind_by_less_than_its_noise_goes_on(goal: PrimaryMetricGoal, sign: float) -> None:
    # Cutoff at rung 2 with 9 runs: the 3rd best. The two candidates have the same best (0.80), 0.02
    # behind the cutoff 0.82; "noisy" moved by 0.10 between its two values, "smooth" by 0.
    curves = {f"top{i}": [0.82 + 0.01 * i, 0.82 + 0.01 * i] for i in range(3)}
    curves |= {f"low{i}": [0.5, 0.5] for i in range(4)}
    curves |= {"noisy": [0.70, 0.80], "smooth": [0.80, 0.80]}
    histories = runs(curves, sign)
    policy = RobustAshaPolicy(reduction_factor=3, min_interval=2, noise_factor=0.5, noise_window=3)
    assert not policy.evaluate("noisy", 2, histories, goal).stop  # 0.80 + 0.5 * 0.10 >= 0.82
    decision = policy.evaluate("smooth", 2, histories, goal)
    assert decision.stop
    assert decision.reason == (
        f"RobustASHA: best {sign * 0.8:.4g} at rung 2 (noise 0, gain 0, bound {sign * 0.8:.4g}) "
        f"is behind the cutoff {sign * 0.82:.4g} of the top 3 of 9 (1/3)"
    )
    # Plain ASHA stops both.
    asha = AshaPolicy(reduction_factor=3, min_interval=2, compare="best")
    assert asha.evaluate("noisy", 2, histories, goal).stop


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_a_run_far_behind_stops_despite_its_noise(goal: PrimaryMetricGoal, sign: float) -> None:
    curves = {**leaders(6, 2), "wobbly_but_bad": [0.20, 0.40]}
    policy = RobustAshaPolicy(min_interval=2, noise_factor=1.0)
    assert policy.evaluate("wobbly_but_bad", 2, runs(curves, sign), goal).stop


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_a_run_that_only_ties_the_cutoff_stops_once_keep_others_hold_it(
    goal: PrimaryMetricGoal, sign: float
) -> None:
    # Nine runs at rung 2, keep 3: four are flat at 1.0 (a saturated accuracy), five at 0.5.
    curves = {f"sat{i}": [1.0, 1.0] for i in range(4)} | {f"low{i}": [0.5, 0.5] for i in range(5)}
    histories = runs(curves, sign)
    policy = RobustAshaPolicy(reduction_factor=3, min_interval=2, noise_factor=0.5)
    # sat3 ties the cutoff (1.0) and three other runs already hold it: it stops.
    decision = policy.evaluate("sat3", 2, histories, goal)
    assert decision.stop
    assert decision.reason == (
        f"RobustASHA: best {sign * 1.0:.4g} at rung 2 (noise 0, gain 0, bound {sign * 1.0:.4g}) "
        f"ties, with 3 earlier runs, the cutoff {sign * 1.0:.4g} of the top 3 of 9 (1/3)"
    )
    # ASHA's rule (keep_ties=True) keeps every tied run.
    assert (
        not RobustAshaPolicy(3, 2, noise_factor=0.5, keep_ties=True)
        .evaluate("sat3", 2, histories, goal)
        .stop
    )
    assert not AshaPolicy(3, 2, compare="best").evaluate("sat3", 2, histories, goal).stop
    # With only two others at 1.0 the tied run is within the top 3 and goes on.
    histories["sat0"] = RunHistory("sat0", [sign * 0.5, sign * 0.5])
    assert not policy.evaluate("sat3", 2, histories, goal).stop
    # A tied run that still moves has a noise margin above the cutoff and goes on.
    histories = runs(curves | {"sat3": [0.9, 1.0]}, sign)
    assert not policy.evaluate("sat3", 2, histories, goal).stop
    # The runs below the cutoff stop either way.
    assert policy.evaluate("low0", 2, histories, goal).stop


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(finite, min_size=1, max_size=9), min_size=1, max_size=9),
    st.sampled_from([MAX, MIN]),
)
def test_breaking_ties_stops_more_only_at_the_cutoff(
    curves: list[list[float]], goal: PrimaryMetricGoal
) -> None:
    # Breaking ties stops every run that keeping them stops, and beyond those only runs whose bound
    # equals the cutoff.
    histories = {f"r{i}": RunHistory(f"r{i}", list(c)) for i, c in enumerate(curves)}
    # No margin at all (no noise, no resolution step), so that a run's bound is its best.
    margins = {"noise_factor": 0.0, "resolution_factor": 0.0}
    broken = RobustAshaPolicy(reduction_factor=3, min_interval=1, **margins)
    kept = RobustAshaPolicy(reduction_factor=3, min_interval=1, keep_ties=True, **margins)
    for run_id, history in histories.items():
        for k in range(1, len(history.values) + 1):
            if not broken.should_evaluate(k):
                continue
            stop_broken = broken.evaluate(run_id, k, histories, goal).stop
            stop_kept = kept.evaluate(run_id, k, histories, goal).stop
            assert stop_broken or not stop_kept, (run_id, k)
            if stop_broken and not stop_kept:
                bests = [
                    max((goal.sign * v for v in h.values[:k] if v == v), default=math.nan)
                    for h in histories.values()
                    if len(h.values) >= k
                ]
                ranked = sorted(b for b in bests if b == b)
                cutoff = ranked[len(ranked) - max(1, len(ranked) // 3)]
                mine = max(goal.sign * v for v in history.values[:k] if v == v)
                assert mine == cutoff, (run_id, k)


def test_noise_uses_only_the_last_window_values_and_skips_nan() -> None:
    policy = RobustAshaPolicy(min_interval=6, noise_factor=1.0, noise_window=3, resolution_factor=0)
    # One big early jump (0.2 -> 0.7) outside the window; inside it the run is flat: no margin.
    early_jump = [0.2, 0.7, 0.7, 0.7, 0.7, 0.7]
    histories = runs({**leaders(6, 6), "r": early_jump})
    assert policy.evaluate("r", 6, histories, MAX).stop
    # NaN inside the window is skipped: the differences are taken over the values that exist.
    nan_in_window = [0.7, 0.7, 0.7, 0.7, math.nan, 0.9]
    histories = runs({**leaders(6, 6, level=0.92), "r": nan_in_window})
    assert not policy.evaluate("r", 6, histories, MAX).stop  # 0.9 + |0.9 - 0.7| >= 0.92


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_trend_factor_keeps_a_run_that_is_still_climbing(
    goal: PrimaryMetricGoal, sign: float
) -> None:
    # At rung 6 the climber's best is 0.6, up from 0.3 at rung 2: gain 0.3. Leaders sit at 0.8.
    climber = [0.1, 0.3, 0.4, 0.45, 0.55, 0.6]
    histories = runs({**leaders(6, 6, level=0.8), "climber": climber}, sign)
    flat = RobustAshaPolicy(3, 2, noise_factor=0.0, trend_factor=0.0)
    trend = RobustAshaPolicy(3, 2, noise_factor=0.0, trend_factor=1.0)
    assert flat.evaluate("climber", 6, histories, goal).stop
    assert not trend.evaluate("climber", 6, histories, goal).stop  # 0.6 + 0.3 >= 0.8


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_climb_factor_keeps_a_run_that_climbs_without_slowing(
    goal: PrimaryMetricGoal, sign: float
) -> None:
    # Six leaders at 0.8; at rung 4 of 50 the steady climber is at 0.62, up 0.01 every epoch: carried
    # on at that rate for 46 more epochs it would pass them. The saturating run rose more in total
    # but its steps shrink (0.1, 0.05, 0.01): it gets no climb margin and stops.
    curves = {
        **leaders(6, 4, level=0.8),
        "steady": [0.59, 0.60, 0.61, 0.62],
        "saturating": [0.50, 0.60, 0.65, 0.66],
        "slow": [0.100, 0.101, 0.102, 0.103],
    }
    histories = runs(curves, sign)
    policy = RobustAshaPolicy(
        2, 2, max_interval=50, noise_factor=0.0, noise_window=3, climb_factor=1.0
    )
    assert not policy.evaluate("steady", 4, histories, goal).stop  # 0.62 + 0.01 * 46 >= 0.8
    decision = policy.evaluate("saturating", 4, histories, goal)
    assert decision.stop and "climb" not in decision.reason
    # A steady climb too slow to catch up by the end still stops: 0.103 + 0.001 * 46 < 0.8.
    assert policy.evaluate("slow", 4, histories, goal).stop
    # Without the margin the steady climber stops too.
    assert (
        RobustAshaPolicy(2, 2, max_interval=50, noise_factor=0.0, climb_factor=0.0)
        .evaluate("steady", 4, histories, goal)
        .stop
    )
    # A drop inside the window (a step <= 0) is not a steady climb.
    histories["steady"] = RunHistory("steady", [sign * v for v in [0.60, 0.59, 0.61, 0.62]])
    assert policy.evaluate("steady", 4, histories, goal).stop


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_resolution_factor_keeps_a_moving_run_that_ties_the_cutoff(
    goal: PrimaryMetricGoal, sign: float
) -> None:
    # Accuracy on 171 validation samples moves in steps of 1/171. Nine runs at rung 6, keep 3:
    # three leaders flat at 165/171 hold the cutoff, three trail at 150/171.
    q = 1 / 171
    curves = {f"top{i}": [165 * q] * 6 for i in range(3)} | {
        f"low{i}": [150 * q] * 6 for i in range(3)
    }
    # "climber" reached the cutoff's value after moving one sample at a time; "flat" has been
    # there from the start; "behind" climbed the same way but is one sample short.
    curves["climber"] = [161 * q, 162 * q, 163 * q, 164 * q, 165 * q, 165 * q]
    curves["flat"] = [165 * q] * 6
    curves["behind"] = [160 * q, 161 * q, 162 * q, 163 * q, 164 * q, 164 * q]
    histories = runs(curves, sign)
    # (keep_improving_ties=False: only the resolution margin can keep a tied run here)
    alone = {
        "noise_factor": 0.0,
        "noise_window": 2,
        "climb_factor": 0.0,
        "keep_improving_ties": False,
    }
    policy = RobustAshaPolicy(3, 2, resolution_factor=0.5, **alone)
    assert policy.should_evaluate(6)
    # Half a step: the climber's bound (165.5/171) is above the three runs holding the cutoff.
    assert not policy.evaluate("climber", 6, histories, goal).stop
    # A run whose value never moved has no step, so the tie rule stops it (three others hold it).
    assert policy.evaluate("flat", 6, histories, goal).stop
    # One step behind is more than half a step: it stops.
    decision = policy.evaluate("behind", 6, histories, goal)
    assert decision.stop and "is behind" in decision.reason
    assert f"step {0.5 * q:.4g}" in decision.reason
    # Without the margin the climber only ties, and three earlier runs hold the cutoff: it stops.
    no_margin = RobustAshaPolicy(3, 2, resolution_factor=0.0, **alone)
    assert no_margin.evaluate("climber", 6, histories, goal).stop
    # A whole step only brings the run one sample behind level with the cutoff (it stops by the
    # tie rule); a step and a half keeps it.
    whole = RobustAshaPolicy(3, 2, resolution_factor=1.0, **alone)
    decision = whole.evaluate("behind", 6, histories, goal)
    assert decision.stop and "ties, with 3 earlier runs," in decision.reason
    wider = RobustAshaPolicy(3, 2, resolution_factor=1.5, **alone)
    assert not wider.evaluate("behind", 6, histories, goal).stop
    # The step is the smallest non-zero one over the whole history (NaNs skipped), not the window.
    curves["climber"] = [100 * q, math.nan, 164 * q, 165 * q, 165 * q, 165 * q]
    assert not policy.evaluate("climber", 6, runs(curves, sign), goal).stop


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_the_recommended_setting_keeps_a_slow_climber_through_a_plateau(
    goal: PrimaryMetricGoal, sign: float
) -> None:
    # Rung 9 of the recommended setting (rungs 3, 9, 27), nine runs, keep 3. Three leaders have
    # held 166/171 from the start. The slow climber rose one sample at a time, reached that value
    # at epoch 5 and has stayed there (no noise in its last four values): it only ties the cutoff
    # that three earlier runs hold, but its best improved since rung 3, so it goes on. A run that
    # has been level with the leaders from the start stops by the tie rule, as does one far behind.
    q = 1 / 171
    curves = {f"top{i}": [166 * q] * 9 for i in range(3)} | {
        f"low{i}": [150 * q] * 9 for i in range(2)
    }
    curves["slow"] = [162 * q, 163 * q, 164 * q, 165 * q] + [166 * q] * 5
    curves["flat"] = [166 * q] * 9
    curves["stuck"] = [140 * q] * 9
    curves["mid"] = [160 * q] * 9
    histories = runs(curves, sign)
    recommended = RobustAshaPolicy(**RECOMMENDED)
    assert [k for k in range(1, 30) if recommended.should_evaluate(k)] == [3, 9, 27]
    assert not recommended.evaluate("slow", 9, histories, goal).stop
    decision = recommended.evaluate("flat", 9, histories, goal)
    assert decision.stop and "ties, with 3 earlier runs," in decision.reason
    assert recommended.evaluate("stuck", 9, histories, goal).stop
    # Ties to the earlier runs alone (the rule before keep_improving_ties) stop the climber too.
    earlier_only = RobustAshaPolicy(**{**RECOMMENDED, "keep_improving_ties": False})
    assert earlier_only.evaluate("slow", 9, histories, goal).stop
    # A run below the cutoff is not kept for improving: "mid" rose, but is behind.
    curves["mid"] = [150 * q, 155 * q, 160 * q] + [160 * q] * 6
    assert recommended.evaluate("mid", 9, runs(curves, sign), goal).stop


def test_climb_factor_without_max_interval_uses_the_longest_completed_run() -> None:
    curves = {**leaders(6, 4, level=0.8), "steady": [0.59, 0.60, 0.61, 0.62]}
    histories = runs(curves)
    policy = RobustAshaPolicy(2, 2, noise_factor=0.0, noise_window=3, climb_factor=1.0)
    # No run has completed: the end is unknown, so there is no climb margin.
    assert policy.evaluate("steady", 4, histories, MAX).stop
    # A Completed run of 30 intervals sets the end: 0.62 + 0.01 * 26 >= 0.8.
    histories["done"] = RunHistory("done", [0.85] * 30, status=RunStatus.COMPLETED)
    assert not policy.evaluate("steady", 4, histories, MAX).stop
    # ...but one of 10 is too short a horizon: 0.62 + 0.01 * 6 < 0.8.
    histories["done"] = RunHistory("done", [0.85] * 10, status=RunStatus.COMPLETED)
    assert policy.evaluate("steady", 4, histories, MAX).stop
    # A warm-start prior that completed 30 intervals sets the end as well.
    histories["prior"] = RunHistory("prior", [0.85] * 30, status=RunStatus.COMPLETED, prior=True)
    assert not policy.evaluate("steady", 4, histories, MAX).stop


def test_the_recommended_setting_keeps_a_noisy_late_bloomer_that_plain_asha_stops() -> None:
    # Eight runs that plateau early at 0.85-0.885 and one that starts lower, wobbles by ten
    # points an epoch and is just behind the top third at rung 3. Plain ASHA with a grace period
    # of 3 ranks it by its value there and stops it; the recommended setting sees that it is
    # behind by less than a tenth of its noise (0.1 * 0.1 = 0.01 against 0.005).
    curves = {
        f"plateau{i}": [0.84 + 0.005 * i, 0.85 + 0.005 * i, 0.85 + 0.005 * i] for i in range(8)
    }
    curves["bloomer"] = [0.87, 0.77, 0.87]
    histories = runs(curves)
    assert (
        AshaPolicy(reduction_factor=3, min_interval=3).evaluate("bloomer", 3, histories, MAX).stop
    )
    assert not RobustAshaPolicy(**RECOMMENDED).evaluate("bloomer", 3, histories, MAX).stop
    # ...and still stops a run that is clearly behind at the same rung.
    histories["stuck"] = RunHistory("stuck", [0.30, 0.31, 0.32])
    assert RobustAshaPolicy(**RECOMMENDED).evaluate("stuck", 3, histories, MAX).stop


@pytest.mark.parametrize(("goal", "sign"), GOALS)
def test_the_aggressive_setting_judges_from_the_first_interval(
    goal: PrimaryMetricGoal, sign: float
) -> None:
    # Runs of a sweep reporting one epoch each: the aggressive setting judges every run at
    # interval 1 already, with no noise estimate yet (one value), and keeps the top third there.
    histories = runs({f"r{i}": [0.1 * i] for i in range(9)}, sign)
    policy = RobustAshaPolicy(**AGGRESSIVE)
    survivors = [r for r in histories if not policy.evaluate(r, 1, histories, goal).stop]
    assert survivors == ["r6", "r7", "r8"]
    # At rung 3 (1 * 3) four runs hold 0.9, so the cutoff of the top 3 of 9 is 0.9.
    curves = {f"top{i}": [0.9] * 3 for i in range(4)} | {f"low{i}": [0.5] * 3 for i in range(4)}
    # A run at 0.86 that moved by 0.06 and then not at all (noise 0.03, margin 0.015) stops ...
    curves["judged"] = [0.80, 0.86, 0.86]
    assert policy.evaluate("judged", 3, runs(curves, sign), goal).stop
    # ... the same best with a 0.1 wobble each step (margin 0.05, bound 0.91) goes on.
    curves["judged"] = [0.86, 0.76, 0.86]
    assert not policy.evaluate("judged", 3, runs(curves, sign), goal).stop
    # A steady climber (+0.1 a step, bound 0.85 from noise alone) goes on when its climb to the
    # end of a 10-interval run would pass the cutoff ...
    curves["judged"] = [0.60, 0.70, 0.80]
    with_end = RobustAshaPolicy(**AGGRESSIVE, max_interval=10)
    assert not with_end.evaluate("judged", 3, runs(curves, sign), goal).stop
    # ... but not without a run length (no run has completed yet), nor once its gains shrink.
    assert policy.evaluate("judged", 3, runs(curves, sign), goal).stop
    curves["judged"] = [0.50, 0.72, 0.80]
    assert with_end.evaluate("judged", 3, runs(curves, sign), goal).stop


def test_warm_start_priors_are_comparison_points_never_stopped() -> None:
    histories = {
        f"p{i}": RunHistory(f"p{i}", [0.9] * 3, status=RunStatus.COMPLETED, prior=True)
        for i in range(6)
    }
    histories["old_bad"] = RunHistory("old_bad", [0.1] * 3, status=RunStatus.CANCELED, prior=True)
    histories["new"] = RunHistory("new", [0.3] * 3)
    policy = RobustAshaPolicy()
    assert policy.evaluate("new", 3, histories, MAX).stop  # ranked against the priors
    assert not policy.evaluate("old_bad", 3, histories, MAX).stop  # a prior is never stopped


def test_min_runs_and_a_lone_first_run() -> None:
    histories = runs({"a": [0.9] * 3, "b": [0.1] * 3})
    assert RobustAshaPolicy().evaluate("b", 3, histories, MAX).stop
    assert not RobustAshaPolicy(min_runs=3).evaluate("b", 3, histories, MAX).stop
    assert not RobustAshaPolicy().evaluate("a", 3, {"a": histories["a"]}, MAX).stop


def test_nan_and_unknown_runs_are_not_judged() -> None:
    histories = runs({**leaders(6, 3), "r": [0.1, 0.1, math.nan]})
    policy = RobustAshaPolicy()
    assert policy.should_evaluate(3)
    # A run whose value at the rung is NaN is not judged there, nor is an unknown run ...
    assert not policy.evaluate("r", 3, histories, MAX).stop
    assert not policy.evaluate("missing", 3, histories, MAX).stop
    # ... while the same run with a value at the rung stops (the leaders are far ahead).
    histories["r"] = RunHistory("r", [0.1, 0.1, 0.1])
    assert policy.evaluate("r", 3, histories, MAX).stop


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(finite, min_size=1, max_size=9), min_size=1, max_size=9),
    st.sampled_from([MAX, MIN]),
)
def test_zero_margins_and_kept_ties_are_asha_ranking_by_best(
    curves: list[list[float]], goal: PrimaryMetricGoal
) -> None:
    histories = {f"r{i}": RunHistory(f"r{i}", list(c)) for i, c in enumerate(curves)}
    robust = RobustAshaPolicy(
        reduction_factor=3, min_interval=1, noise_factor=0.0, resolution_factor=0.0, keep_ties=True
    )
    asha = AshaPolicy(reduction_factor=3, min_interval=1, compare="best")
    for run_id, history in histories.items():
        for k in range(1, len(history.values) + 1):
            if robust.should_evaluate(k):
                got = robust.evaluate(run_id, k, histories, goal).stop
                assert got == asha.evaluate(run_id, k, histories, goal).stop, (run_id, k)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(finite, min_size=1, max_size=9), min_size=1, max_size=9))
def test_goal_symmetry(curves: list[list[float]]) -> None:
    up = {f"r{i}": RunHistory(f"r{i}", list(c)) for i, c in enumerate(curves)}
    down = {f"r{i}": RunHistory(f"r{i}", [-v for v in c]) for i, c in enumerate(curves)}
    a = RobustAshaPolicy(min_interval=1, trend_factor=0.5)
    b = RobustAshaPolicy(min_interval=1, trend_factor=0.5)
    for run_id, history in up.items():
        for k in range(1, len(history.values) + 1):
            if a.should_evaluate(k):
                assert a.evaluate(run_id, k, up, MAX).stop == b.evaluate(run_id, k, down, MIN).stop


def test_sweep_file_round_trip() -> None:
    text = """
early_termination:
  type: robust_asha
  reduction_factor: 3
  min_interval: 1
  noise_factor: 0.5
  noise_window: 5
  climb_factor: 1
  resolution_factor: 0
  keep_improving_ties: false
  max_interval: 50
"""
    policy = policy_from_data(yaml.safe_load(text)["early_termination"])
    assert policy == RobustAshaPolicy(**AGGRESSIVE, max_interval=50)
    assert policy_from_data({"type": "Robust_ASHA"}) == RobustAshaPolicy()
    # The stored form (HyperDrive's policy_config) rebuilds the same policy, e.g. on resume.
    stored = policy.to_json()
    assert stored["name"] == "RobustAsha"
    assert policy_from_json(stored) == policy
    assert repr(policy).startswith("RobustAshaPolicy(reduction_factor=3, min_interval=1, ")


def test_sweep_file_unknown_key_is_named() -> None:
    with pytest.raises(InvalidConfigError, match=r"early_termination\.compare is not a known key"):
        policy_from_data({"type": "robust_asha", "compare": "best"})


def message(param: str, rule: str, got: Any) -> str:
    return (
        "^"
        + re.escape(
            f"The {param!r} parameter of RobustAshaPolicy must be {rule}. Got {got!r} instead."
        )
        + "$"
    )


@pytest.mark.parametrize(
    ("kwargs", "param", "rule", "got"),
    [
        ({"reduction_factor": 1}, "reduction_factor", "an integer >= 2", 1),
        ({"min_interval": 0}, "min_interval", "an integer >= 1", 0),
        ({"min_interval": 3, "max_interval": 3}, "max_interval", "an integer >= 4", 3),
        ({"brackets": 0}, "brackets", "an integer >= 1", 0),
        ({"noise_factor": -0.5}, "noise_factor", "a finite number >= 0", -0.5),
        ({"noise_factor": "1"}, "noise_factor", "a finite number", "1"),
        ({"trend_factor": math.inf}, "trend_factor", "a finite number", math.inf),
        ({"noise_window": 1}, "noise_window", "an integer >= 2", 1),
        ({"min_runs": 0}, "min_runs", "an integer >= 1", 0),
        ({"keep_ties": 1}, "keep_ties", "a bool", 1),
        ({"keep_improving_ties": "yes"}, "keep_improving_ties", "a bool", "yes"),
        ({"climb_factor": -1}, "climb_factor", "a finite number >= 0", -1),
        ({"resolution_factor": -0.5}, "resolution_factor", "a finite number >= 0", -0.5),
    ],
)
def test_validation_messages(kwargs: dict[str, Any], param: str, rule: str, got: Any) -> None:
    with pytest.raises(InvalidConfigError, match=message(param, rule, got)):
        RobustAshaPolicy(**kwargs)


def test_read_only_attributes() -> None:
    policy = RobustAshaPolicy()
    assert (policy.noise_factor, policy.noise_window, policy.trend_factor) == (0.1, 4, 0.0)
    assert (policy.climb_factor, policy.keep_ties, policy.resolution_factor) == (0.0, False, 0.0)
    assert policy.keep_improving_ties is True
    with pytest.raises(AttributeError):
        policy.noise_factor = 1.0  # type: ignore[misc]
